/**
 * ReLU + L1 SAE (docs/SCIENCE.md §2), two variants:
 * - 'constrained-2023' (Bricken et al., "Towards Monosemanticity"): f = ReLU(h), loss = MSE +
 *   λ·mean_b Σ_i f_i, decoder rows at unit norm (gradient projected, rows renormalised), optional
 *   resampling of dead latents (`resample`, Bricken-style: dead latents are re-pointed at inputs the
 *   SAE reconstructs badly, sampled ∝ squared error).
 * - 'april-2024' (Anthropic, April 2024 update; the default): no norm constraint, penalty
 *   λ·mean_b Σ_i f_i‖W_dec,i‖, decoder rows initialised at norm 0.1 and W_enc = W_decᵀ.
 *
 * Gradients: the L1 term adds a per-latent constant (λ/B, or λ‖W_dec,i‖/B) to ∂L/∂f wherever h > 0,
 * folded into engine.reluBackward's colAdd; the April penalty also pulls on the decoder norm:
 * ∂/∂W_dec,i = (λ/B)·(Σ_b f_bi)·W_dec,i/‖W_dec,i‖ (nn/decoder.ts normPenaltyGradW).
 *
 * Letters: B batch rows, D d_in, M d_sae, W padded width of the sparse codes.
 */
import { ScratchPool } from '../nn/scratch.js';
import type { Engine, F32 } from '../engine/types.js';
import {
  denseDecode,
  denseDecodeBackward,
  normPenaltyGradW,
  projectDecoderGrad,
  renormDecoder,
} from '../nn/decoder.js';
import { centre, encoderBackward, linearForward, sparseEncoderBackward } from '../nn/encoder.js';
import { GroupedCodes } from '../nn/sparse.js';
import { randomDecoder, transposeToEncoder } from './init.js';
import { encodeRelu } from './infer.js';
import { pickTensors } from './topk.js';
import {
  type Architecture,
  type LossParts,
  type ResampleContext,
  type Sae,
  type SaeConfig,
  type SaeConfigInput,
  type SaeLensExport,
  type SaeStep,
  type StepOptions,
  type TensorMap,
  baseConfig,
  checkNum,
  rejectFields,
  reluFamilyLr,
} from './types.js';
import { ConfigError } from '../core/errors.js';

/**
 * Decoder path. 'auto' (default): once the previous step's L0 is below m/16, the decoder and its
 * gradients run on padded sparse codes (B·W·d work, W = the largest row count, used when W ≤ m/4)
 * and W_enc's gradient on the active columns only (nn/encoder.ts) — two of the step's four dense
 * GEMMs disappear for a trained, sparse SAE; at init (≈ half the latents active) the dense path runs.
 * 'dense' / 'sparse' force a path (tests: both must agree with finite differences).
 */
type ReluPath = 'auto' | 'dense' | 'sparse';
let reluPath: ReluPath = 'auto';

/** Forces the ReLU decoder path for steps created or run afterwards (tests, benchmarks). */
export function setReluPath(p: ReluPath): void {
  reluPath = p;
}

/**
 * Default λ. In husai's scaled units (E‖x‖² = d) a typical active latent has magnitude ~√(d/L0) ≈ 3–5, so
 * λ = 1 shrinks it by ~½: sweep it.
 */
export const DEFAULT_L1 = 1;

class ReluStep implements SaeStep {
  readonly recon: F32;
  private readonly xcBD: F32;
  private readonly hBM: F32;
  private readonly fBM: F32;
  private readonly gReconBD: F32;
  private readonly gBM: F32;
  private readonly colAddM: F32;
  private readonly normsM: F32;
  private readonly sumFM: F32;
  private readonly firedM: Int32Array;
  private readonly april: boolean;
  private readonly codes: GroupedCodes;
  private readonly zeroM: F32;
  private readonly gValsBW: F32;
  private readonly gWEncTMD: F32;
  private x: F32 | null = null;
  private lambda = 0;
  private sparse = false;
  private lastL0 = Infinity;

  constructor(
    private readonly sae: Sae,
    readonly batch: number,
    private readonly e: Engine,
    pool: ScratchPool = new ScratchPool(),
  ) {
    const { dIn: D, dSae: M } = sae.cfg;
    const B = batch;
    this.april = sae.cfg.variant === 'april-2024';
    this.xcBD = pool.f32('xcBD', B * D);
    this.hBM = pool.f32('hBM', B * M);
    this.fBM = pool.f32('fBM', B * M);
    this.recon = pool.f32('recon', B * D);
    this.gReconBD = pool.f32('gReconBD', B * D);
    this.gBM = pool.f32('gBM', B * M);
    this.colAddM = new Float32Array(M);
    this.normsM = new Float32Array(M);
    this.sumFM = new Float32Array(M);
    this.firedM = new Int32Array(M);
    this.codes = new GroupedCodes(B, M, [M], pool);
    this.zeroM = new Float32Array(M);
    this.gValsBW = pool.f32('gValsBW', B * M);
    this.gWEncTMD = pool.f32('gWEncTMD', M * D);
  }

  forward(x: F32, opts: StepOptions): LossParts {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const p = this.sae.params;
    this.x = x;
    this.lambda = (this.sae.cfg.sparsityCoeff as number) * opts.sparsityScale;
    centre(e, x, p.b_dec, this.xcBD, B, D);
    linearForward(e, this.xcBD, p.W_enc, p.b_enc, this.hBM, B, D, M);
    e.relu(this.hBM, this.fBM);
    this.sparse = false;
    if (reluPath === 'sparse' || (reluPath === 'auto' && this.lastL0 < M / 16)) {
      this.codes.fillAboveThreshold(this.hBM, this.zeroM);
      this.sparse = reluPath === 'sparse' || this.codes.width[0] <= M / 4;
    }
    if (this.sparse) {
      e.sparseDecode(this.codes.vals(0), this.codes.idx(0), B, this.codes.width[0], p.W_dec, M, D, this.recon, 0);
      e.addRowVec(this.recon, B, D, p.b_dec, 1);
    } else denseDecode(e, this.fBM, p.W_dec, p.b_dec, this.recon, B, M, D);
    const mse = e.sumSqDiff(this.recon, x.subarray(0, B * D)) / B;
    e.colSum(this.fBM, B, M, this.sumFM, 1, 0);
    if (this.april) e.rowNorms(p.W_dec, M, D, this.normsM);
    let l1 = 0;
    let active = 0;
    for (let i = 0; i < M; i++) l1 += this.sumFM[i] * (this.april ? this.normsM[i] : 1);
    this.firedM.fill(0);
    e.colNonzeroCount(this.fBM, B, M, this.firedM);
    for (let i = 0; i < M; i++) active += this.firedM[i];
    const sparsity = (this.lambda * l1) / B;
    this.lastL0 = active / B;
    return { loss: mse + sparsity, mse, sparsity, aux: 0, l0: active / B };
  }

  backward(grads: TensorMap): void {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const p = this.sae.params;
    this.gReconBD.set(this.recon);
    e.axpy(-1, (this.x as F32).subarray(0, B * D), this.gReconBD);
    e.scale(this.gReconBD, 2 / B);
    const c = this.lambda / B;
    for (let i = 0; i < M; i++) this.colAddM[i] = this.april ? c * this.normsM[i] : c;
    if (this.sparse) {
      // Same maths on the active entries only: ∂L/∂h = ∂L/∂f + colAdd where f > 0, else 0.
      const W = this.codes.width[0];
      const vals = this.codes.vals(0);
      const idx = this.codes.idx(0);
      const gVals = this.gValsBW.subarray(0, B * W);
      grads.W_dec.fill(0);
      e.sparseDecodeGradW(vals, idx, B, W, this.gReconBD, M, D, grads.W_dec);
      e.colSum(this.gReconBD, B, D, grads.b_dec, 1, 0);
      e.sparseDecodeGradVals(this.gReconBD, idx, B, W, p.W_dec, M, D, gVals);
      for (let t = 0; t < B * W; t++) gVals[t] = vals[t] > 0 ? gVals[t] + this.colAddM[idx[t]] : 0;
      if (this.april) normPenaltyGradW(p.W_dec, this.normsM, this.sumFM, c, grads.W_dec, M, D);
      sparseEncoderBackward(
        e,
        this.xcBD,
        [{ gVals, idx, W }],
        p.W_enc,
        this.gWEncTMD,
        grads.W_enc,
        grads.b_enc,
        grads.b_dec,
        B,
        D,
        M,
      );
      return;
    }
    denseDecodeBackward(e, this.fBM, this.gReconBD, p.W_dec, grads.W_dec, this.gBM, grads.b_dec, B, M, D);
    e.reluBackward(this.hBM, this.gBM, this.gBM, B, M, this.colAddM);
    if (this.april) normPenaltyGradW(p.W_dec, this.normsM, this.sumFM, c, grads.W_dec, M, D);
    encoderBackward(e, this.xcBD, this.gBM, p.W_enc, grads.W_enc, grads.b_enc, grads.b_dec, B, D, M);
  }

  countFiring(counts: Int32Array): void {
    for (let i = 0; i < counts.length; i++) counts[i] += this.firedM[i];
  }

  constrainGrads(grads: TensorMap): void {
    if (!this.april)
      projectDecoderGrad(this.e, this.sae.params.W_dec, grads.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  afterUpdate(): void {
    if (!this.april) renormDecoder(this.e, this.sae.params.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  activePattern(): Uint8Array {
    const pat = new Uint8Array(this.hBM.length);
    for (let t = 0; t < pat.length; t++) pat[t] = this.hBM[t] > 0 ? 1 : 0;
    return pat;
  }
}

/**
 * Bricken et al. 2023 resampling: each dead latent i gets an input row r drawn ∝ its squared error;
 * W_dec,i ← unit(x_r − b_dec)·(mean live decoder norm), W_enc[:, i] ← unit(x_r − b_dec)·0.2·(mean
 * live encoder-column norm), b_enc,i ← 0, and its Adam moments are reset. Returns how many were resampled.
 */
function resampleRelu(sae: Sae, ctx: ResampleContext): number {
  const { dIn: D, dSae: M } = sae.cfg;
  const { W_enc: wEncDM, W_dec: wDecMD, b_enc: bEncM, b_dec: bDecD } = sae.params;
  const deadList: number[] = [];
  for (let i = 0; i < M; i++) if (ctx.dead[i]) deadList.push(i);
  if (deadList.length === 0 || ctx.rows === 0) return 0;
  let encNorm = 0;
  let decNorm = 0;
  let live = 0;
  for (let i = 0; i < M; i++) {
    if (ctx.dead[i]) continue;
    let se = 0;
    let sd = 0;
    for (let j = 0; j < D; j++) {
      se += wEncDM[j * M + i] ** 2;
      sd += wDecMD[i * D + j] ** 2;
    }
    encNorm += Math.sqrt(se);
    decNorm += Math.sqrt(sd);
    live++;
  }
  encNorm = live > 0 ? encNorm / live : 1;
  decNorm = live > 0 ? decNorm / live : 1;
  const cum = new Float64Array(ctx.rows);
  let total = 0;
  for (let r = 0; r < ctx.rows; r++) cum[r] = total += ctx.errSq[r];
  const v = new Float64Array(D);
  for (const i of deadList) {
    const u = ctx.rng.uniform() * total;
    let r = 0;
    while (r < ctx.rows - 1 && cum[r] <= u) r++;
    let s = 0;
    for (let j = 0; j < D; j++) s += (v[j] = ctx.x[r * D + j] - bDecD[j]) ** 2;
    const inv = 1 / Math.sqrt(Math.max(s, 1e-30));
    for (let j = 0; j < D; j++) {
      wDecMD[i * D + j] = v[j] * inv * decNorm;
      wEncDM[j * M + i] = v[j] * inv * 0.2 * encNorm;
    }
    bEncM[i] = 0;
    ctx.resetMoments('W_dec', i * D, D);
    ctx.resetMoments('b_enc', i, 1);
    ctx.resetMomentsColumn('W_enc', i, D, M);
  }
  return deadList.length;
}

export const relu: Architecture<'relu', 'standard'> = {
  name: 'relu',
  fields: ['sparsityCoeff', 'variant'],
  defaults: { sparsityCoeff: DEFAULT_L1, variant: 'april-2024' },
  saeLens: { name: 'standard', tensors: [{ name: 'b_enc', required: true }], k: null, encode: encodeRelu },
  resolve(input: SaeConfigInput): SaeConfig {
    rejectFields(input, relu.fields);
    const base = baseConfig(input);
    const variant = input.variant ?? 'april-2024';
    if (variant !== 'april-2024' && variant !== 'constrained-2023') {
      throw new ConfigError(`relu: variant = ${String(variant)}: expected 'april-2024' or 'constrained-2023'`);
    }
    const sparsityCoeff =
      input.sparsityCoeff === undefined
        ? DEFAULT_L1
        : checkNum('relu', 'sparsityCoeff', input.sparsityCoeff, 0, Infinity, true);
    return { ...base, variant, sparsityCoeff };
  },
  defaultLr: (cfg) => reluFamilyLr(cfg.dSae),
  init(cfg, rng): Sae {
    const { dIn: D, dSae: M } = cfg;
    const wDecMD = randomDecoder(rng, M, D, cfg.variant === 'april-2024' ? 0.1 : 1);
    return {
      cfg,
      params: {
        W_enc: transposeToEncoder(wDecMD, M, D),
        b_enc: new Float32Array(M),
        W_dec: wDecMD,
        b_dec: new Float32Array(D),
      },
      buffers: {},
    };
  },
  createStep: (sae, batch, engine, pool) => new ReluStep(sae, batch, engine, pool),
  exportSaeLens: (sae: Sae): SaeLensExport => pickTensors(sae, ['W_enc', 'b_enc', 'W_dec', 'b_dec']),
  resample: resampleRelu,
};
