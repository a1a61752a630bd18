/**
 * What an SAE is to the rest of husai (docs/ARCHITECTURE.md "The flow"; docs/SCIENCE.md §1–§2): a resolved config
 * plus named float32 tensors whose names are SAELens' (docs/FORMATS.md: W_enc [d_in, d_sae], b_enc, W_dec
 * [d_sae, d_in], b_dec, threshold, b_gate, b_mag, r_mag; training-only ones such as log_threshold
 * are never exported under their own name). An `Architecture` is the registry entry that knows how
 * to validate a config, initialise the tensors from a seed, build a training step with every
 * per-batch buffer preallocated, and read/write SAELens (its `saeLens` form: the cfg.json name, the
 * tensors, the k rule and the inference rule for loaded weights). ArchName and the SAELens names
 * are derived from the registry (registry.ts), never listed by hand.
 *
 * Letters: B batch rows, D d_in, M d_sae, K k.
 */
import { ConfigError } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import type { Rng } from '../core/rng.js';
import type { Engine, F32 } from '../engine/types.js';
import type { SaeWeights } from './checkpoint/types.js';
import type { ArchName } from './names.js';
import type { TensorMap } from '../nn/optim.js';
import type { ScratchPool } from '../nn/scratch.js';

export type { TensorMap } from '../nn/optim.js';

export type { ArchName } from './names.js';

/** ReLU + L1 flavours (docs/SCIENCE.md §2). */
export type ReluVariant = 'constrained-2023' | 'april-2024';

/** What a user writes; each architecture fills its defaults and rejects fields that do not apply. */
export interface SaeConfigInput {
  arch: ArchName;
  /** Activation width d. */
  dIn: number;
  /** Number of latents m ("width"). */
  dSae: number;
  /** TopK family: active latents per token (BatchTopK/Matryoshka: on average over the batch). */
  k?: number;
  /** λ: L1 coefficient (relu, gated) or L0 coefficient (jumprelu). */
  sparsityCoeff?: number;
  /** relu only. Default 'april-2024'. */
  variant?: ReluVariant;
  /** TopK family: AuxK weight α (default 1/32). */
  auxKCoeff?: number;
  /** TopK family: k_aux (default d_in / 2). */
  kAux?: number;
  /** jumprelu: initial threshold θ₀. */
  initThreshold?: number;
  /** jumprelu: rectangle-kernel bandwidth ε. */
  bandwidth?: number;
  /** batchtopk/matryoshka: EMA decay of the inference threshold. */
  thresholdDecay?: number;
  /** matryoshka: group sizes as fractions of d_sae; the last group takes the rest. */
  groupFractions?: number[];
}

/** The SaeConfigInput fields an architecture may use (beyond arch, dIn, dSae). */
export type SaeField = Exclude<keyof SaeConfigInput, 'arch' | 'dIn' | 'dSae'>;

/** A validated config: every field present, `null` where it does not apply to the architecture. */
export interface SaeConfig {
  readonly arch: ArchName;
  readonly dIn: number;
  readonly dSae: number;
  readonly k: number | null;
  readonly sparsityCoeff: number | null;
  readonly variant: ReluVariant | null;
  readonly auxKCoeff: number | null;
  readonly kAux: number | null;
  readonly initThreshold: number | null;
  readonly bandwidth: number | null;
  readonly thresholdDecay: number | null;
  /** matryoshka: exclusive end of each nested prefix, ascending, the last equal to d_sae. */
  readonly prefixEnds: readonly number[] | null;
}

/**
 * An SAE: config + tensors. `params` are trained (gradients and Adam moments per tensor); `buffers`
 * are state updated outside the gradient (the BatchTopK threshold EMA).
 */
export interface Sae {
  readonly cfg: SaeConfig;
  readonly params: TensorMap;
  readonly buffers: TensorMap;
}

export interface StepOptions {
  /** 'train': the training objective (batch-level selection, AuxK); 'eval': the inference rule. */
  mode: 'train' | 'eval';
  /** Multiplier on λ for the sparsity warm-up (1 after the warm-up). */
  sparsityScale: number;
  /** dead[i] = 1 when latent i counts as dead (AuxK targets). null: none dead. */
  dead: Uint8Array | null;
}

/** The parts of the objective from one forward pass, all per-token means (float64). */
export interface LossParts {
  /** Total objective that backward differentiates. */
  loss: number;
  /** mean_b Σ_d (x̂ − x)² of the full reconstruction (docs/SCIENCE.md §2). */
  mse: number;
  /** Sparsity penalty as it enters the loss (λ·scale·…; 0 for the TopK family). */
  sparsity: number;
  /** Auxiliary terms as they enter the loss: AuxK, Gated's aux, Matryoshka's partial prefixes. */
  aux: number;
  /** Mean number of non-zero latents per row. */
  l0: number;
}

/**
 * One architecture's training step for one SAE at a fixed batch size B: every per-batch buffer is
 * allocated when the step is created, none in forward/backward.
 */
export interface SaeStep {
  readonly batch: number;
  /** [B, D] reconstruction from the last forward. */
  readonly recon: F32;
  /** Forward pass on x [B, D] (kept by reference until backward). */
  forward(x: F32, opts: StepOptions): LossParts;
  /** Gradients of the last forward's loss, written (not accumulated) into `grads` (same names as params). */
  backward(grads: TensorMap): void;
  /** counts[i] += number of rows where latent i was non-zero in the last forward. */
  countFiring(counts: Int32Array): void;
  /** Before the optimiser step: constraints on gradients (unit-norm decoder: project out). */
  constrainGrads(grads: TensorMap): void;
  /** After the optimiser step (1-based step index of totalSteps): renormalise, update EMAs. */
  afterUpdate(step: number, totalSteps: number): void;
  /**
   * Diagnostics: a fresh [B, M] array of bit flags describing the last forward's selection (bit 0
   * active, higher bits per architecture). Gradient checks assert it does not change under a
   * perturbation. Allocates; never call it in the step loop.
   */
  activePattern(): Uint8Array;
}

/** SAELens export of one SAE (docs/FORMATS.md, "SAE directories"), tensors in raw-activation units. */
export interface SaeLensExport {
  tensors: TensorMap;
  /** Tensor shapes, same keys as `tensors`. */
  shapes: Record<string, number[]>;
}

/** A SAELens tensor beyond W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_dec [d_in], which every SAE has. */
export interface SaeLensTensor {
  name: string;
  /** [d_sae] unless scalar. */
  scalar?: boolean;
  /** Required when reading (writing checks every tensor present against the same list). */
  required: boolean;
}

/**
 * How one architecture appears in SAELens files (docs/FORMATS.md): the cfg.json `architecture` name it
 * writes and reads (S), its tensors, whether cfg.json carries k (then also
 * `rescale_acts_by_decoder_norm: false`), and the inference rule on loaded weights — the same rule
 * the training step's eval forward applies (test/sae/eval-encode.test.ts holds them equal).
 */
export interface SaeLensForm<S extends string = string> {
  readonly name: S;
  readonly tensors: readonly SaeLensTensor[];
  /** cfg.json k: 'integer' (TopK), 'number' (BatchTopK's k is a batch average), or null (no k). */
  readonly k: 'integer' | 'number' | null;
  /** Latents [N, d_sae] of weights of this architecture (any library's) on inputs [N, d_in]. */
  encode(w: SaeWeights, xND: Mat, e: Engine): Mat;
}

/**
 * A registry entry (registry.ts): N its name, S its SAELens name. Everything that differs between
 * architectures is here; nothing outside sae/ switches on an architecture name.
 */
export interface Architecture<N extends string = string, S extends string = string> {
  readonly name: N;
  /** The config fields it uses, in the order of `resolve`'s checks (study/params.ts `archs` come from here). */
  readonly fields: readonly SaeField[];
  /** Constant defaults of those fields (absent: required, or a rule of the shapes, e.g. k_aux = d_in/2). */
  readonly defaults: Partial<Pick<SaeConfigInput, SaeField>>;
  readonly saeLens: SaeLensForm<S>;
  /** Fills defaults and validates; errors name the field. */
  resolve(input: SaeConfigInput): SaeConfig;
  /** Default learning rate for this family and width (docs/SCIENCE.md §2, "Training defaults"). */
  defaultLr(cfg: SaeConfig): number;
  /** Fresh tensors from the seed stream alone (not the engine, not the thread count). */
  init(cfg: SaeConfig, rng: Rng): Sae;
  /**
   * Preallocated training step for batch size B. Steps created with one `pool` share their [B, ·]
   * scratch (valid when they run one after another, as in trainMany); default: a private pool.
   */
  createStep(sae: Sae, batch: number, engine: Engine, pool?: ScratchPool): SaeStep;
  /** Tensors in SAELens form (the SAE must already be in raw units: see normalize.ts). */
  exportSaeLens(sae: Sae): SaeLensExport;
  /** Optional: resample dead latents (ReLU, Bricken et al. 2023). */
  resample?: (sae: Sae, ctx: ResampleContext) => number;
}

/** What dead-latent resampling needs from the trainer. */
export interface ResampleContext {
  /** A batch of (scaled) inputs [rows, D] and its per-row squared reconstruction error. */
  x: F32;
  rows: number;
  errSq: Float64Array;
  dead: Uint8Array;
  rng: Rng;
  /** Zero the Adam moments of elements [start, start+len) of tensor `name`. */
  resetMoments(name: string, start: number, len: number): void;
  resetMomentsColumn(name: string, col: number, rows: number, cols: number): void;
}

// ── config validation helpers shared by the architecture files ─────────────────

/** Throws a ConfigError naming `field` unless v is an integer in [lo, hi]. */
export function checkInt(arch: string, field: string, v: unknown, lo: number, hi = Infinity): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new ConfigError(`${arch}: ${field} = ${String(v)}: expected an integer in [${lo}, ${hi}]`);
  }
  return v;
}

/** Throws a ConfigError naming `field` unless v is a finite number in (lo, hi] (or [lo, hi] when closed). */
export function checkNum(arch: string, field: string, v: unknown, lo: number, hi = Infinity, closedLo = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (closedLo ? v < lo : v <= lo) || v > hi) {
    throw new ConfigError(
      `${arch}: ${field} = ${String(v)}: expected a number in ${closedLo ? '[' : '('}${lo}, ${hi}]`,
    );
  }
  return v;
}

/** Rejects fields that the architecture does not use (a typo or a mixed-up config). */
export function rejectFields(input: SaeConfigInput, allowed: readonly SaeField[]): void {
  for (const key of Object.keys(input) as Array<keyof SaeConfigInput>) {
    if (input[key] === undefined) continue;
    if (key === 'arch' || key === 'dIn' || key === 'dSae') continue;
    if (!(allowed as ReadonlyArray<keyof SaeConfigInput>).includes(key)) {
      throw new ConfigError(
        `${input.arch}: field '${key}' does not apply to this architecture (it uses: ${allowed.join(', ') || 'none'})`,
      );
    }
  }
}

/** The common part of a resolved config: d_in, d_sae validated, everything else null. */
export function baseConfig(input: SaeConfigInput): SaeConfig {
  return {
    arch: input.arch,
    dIn: checkInt(input.arch, 'dIn', input.dIn, 1),
    dSae: checkInt(input.arch, 'dSae', input.dSae, 1),
    k: null,
    sparsityCoeff: null,
    variant: null,
    auxKCoeff: null,
    kAux: null,
    initThreshold: null,
    bandwidth: null,
    thresholdDecay: null,
    prefixEnds: null,
  };
}

/** lr 2e-4/√(m/2^14) (docs/SCIENCE.md §2, TopK family; Gao et al. 2024). */
export function topkFamilyLr(m: number): number {
  return 2e-4 / Math.sqrt(m / 2 ** 14);
}

/** The TopK-family lr rule clamped into docs/SCIENCE.md §2's ReLU range [5e-5, 1e-3]. */
export function reluFamilyLr(m: number): number {
  return Math.min(1e-3, Math.max(5e-5, topkFamilyLr(m)));
}

/** The shape of each SAELens tensor name for a config (docs/FORMATS.md). */
export function tensorShape(name: string, cfg: SaeConfig): number[] {
  const { dIn: D, dSae: M } = cfg;
  switch (name) {
    case 'W_enc':
      return [D, M];
    case 'W_dec':
      return [M, D];
    case 'b_dec':
      return [D];
    default:
      return [M];
  }
}
