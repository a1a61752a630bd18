/**
 * SAELens checkpoint directories (docs/FORMATS.md, "SAE directories"): `sae_weights.safetensors` +
 * `cfg.json`, W_enc [d_in, d_sae], W_dec [d_sae, d_in] (docs/SCIENCE.md §1).
 *
 * Writing: the v6 layout, which is what husai saves — cfg.json with `architecture`, d_in, d_sae and
 * a nested `metadata` whose `sae_lens_version` "6.0.0" marks the layout version it follows (SAELens'
 * `handle_config_defaulting` treats anything below 6.0.0 as pre-6). Bytes are deterministic (sorted
 * JSON keys, the safetensors writer's sorted tensors). The directory appears atomically: everything
 * is written into a temporary sibling, then renamed into place; an existing SAE directory is renamed
 * away first and deleted after. A directory holding anything else is never replaced.
 *
 * Reading: v6 (nested `metadata`, `architecture`) and pre-6 (flat keys: `hook_point`,
 * `activation_fn_str` relu|topk with `activation_fn_kwargs.k`, `architecture` missing ⇒ "standard").
 * Every tensor is checked by name and shape against d_in/d_sae from cfg.json.
 *
 * Decisions:
 * - `scaling_factor` [d_sae] (pre-6 "finetuning scaling factor"): SAELens applies it to the latent
 *   activations just before the decoder, x̂ = (f ⊙ s)·W_dec + b_dec (sae_lens/sae.py, `SAE.decode`
 *   via `apply_finetuning_scaling_factor`; the encoder never sees it). We fold it exactly the same
 *   way: W_dec row i ← s_i · W_dec row i, W_enc and b_enc untouched — latents and reconstructions
 *   are then identical to SAELens'. All-ones factors are dropped; factors ≠ 1 with cfg.json
 *   `finetuning_scaling_factor: false` are rejected, as SAELens' `read_sae_components_from_disk` does.
 * - A transposed W_enc ([d_sae, d_in]) is rejected with a hint, never transposed silently: no
 *   SAELens cfg key marks such a layout, and when d_in = d_sae the mistake cannot even be seen, so
 *   "fixing" it would be right only sometimes. The user transposes it once, explicitly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../../core/errors.js';
import { HUSAI_VERSION } from '../../core/version.js';
import { fsyncDir, writeFileAtomic } from '../../formats/io.js';
import { readSafetensors, writeSafetensors } from '../../formats/safetensors.js';
import { CFG_FILE, SAELENS_WEIGHTS, describeDir, readCfgJson, requireDir } from './layout.js';
import { archBySaeLens } from '../registry.js';
import { SAE_ARCHITECTURES, type SaeArchitecture, type SaeWeights, type Tensor } from './types.js';
import { cfgPositiveInt, expectTensor, transposedHint, warnOnce, type Dim } from './validate.js';

/** The layout version husai's files follow; SAELens ≥ 6 reads them as v6. */
const SAELENS_LAYOUT_VERSION = '6.0.0';

/** Files SAELens itself puts in an SAE directory: the only ones writeSaeLens will replace. */
const REPLACEABLE = new Set([CFG_FILE, SAELENS_WEIGHTS, 'sparsity.safetensors']);

/**
 * What husai records in cfg.json `metadata` (docs/FORMATS.md). All optional, any further JSON value
 * allowed; `sae_lens_version` and `husai_version` are always set by the writer.
 */
export interface SaeLensMetadata {
  model_name?: string;
  hook_name?: string;
  seed?: number;
  data_seed?: number;
  steps?: number;
  tokens?: number;
  final_l0?: number;
  n_dead?: number;
  explained_variance?: number;
  /** The full training configuration. */
  training?: Record<string, unknown>;
  study?: string;
  run?: string;
  [key: string]: unknown;
}

/** What writeSaeLens needs: the neutral weights without their provenance. */
export type SaeWeightsToWrite = Pick<SaeWeights, 'architecture' | 'dIn' | 'dSae' | 'tensors' | 'k'>;

interface TensorSpec {
  name: string;
  dims: Dim[];
  required: boolean;
}

/**
 * The tensors a SAELens SAE of `arch` holds (docs/FORMATS.md), in checking order: the common three, then the
 * architecture's
 * (registry.ts `saeLens.tensors`).
 */
export function saeLensTensorSpec(arch: SaeArchitecture, dIn: number, dSae: number): TensorSpec[] {
  const D: Dim = { size: dIn, name: 'd_in' };
  const M: Dim = { size: dSae, name: 'd_sae' };
  return [
    { name: 'W_enc', dims: [D, M], required: true },
    { name: 'W_dec', dims: [M, D], required: true },
    { name: 'b_dec', dims: [D], required: true },
    ...archBySaeLens(arch).saeLens.tensors.map((t) => ({
      name: t.name,
      dims: t.scalar ? [] : [M],
      required: t.required,
    })),
  ];
}

/** How cfg.json carries k for `arch`: 'integer', 'number', or null (no k). */
function kRule(arch: SaeArchitecture): 'integer' | 'number' | null {
  return archBySaeLens(arch).saeLens.k;
}

/**
 * Checks `tensors` against the spec; hints at a transposed matrix or a cfg.json whose d_in/d_sae disagree with the
 * tensors.
 */
function checkTensors(
  file: string,
  tensors: Record<string, Tensor>,
  spec: TensorSpec[],
  from: string,
  dIn: number,
  dSae: number,
): void {
  const hint =
    (name: string, dims: Dim[]) =>
    (found: readonly number[]): string | undefined => {
      const t = transposedHint(name, dims, found, 'SAELens');
      if (t !== undefined) return t;
      const enc = tensors.W_enc?.shape;
      const dec = tensors.W_dec?.shape;
      if (
        enc?.length === 2 &&
        dec?.length === 2 &&
        enc[0] === dec[1] &&
        enc[1] === dec[0] &&
        (enc[0] !== dIn || enc[1] !== dSae)
      ) {
        return (
          `W_enc and W_dec agree on d_in = ${enc[0]}, d_sae = ${enc[1]}, but ${from} says d_in = ${dIn}, d_sae ` +
          `= ${dSae}: ${from} is probably wrong`
        );
      }
      return undefined;
    };
  for (const s of spec) expectTensor(file, tensors, s.name, s.dims, from, s.required, hint(s.name, s.dims));
}

/** The v6 cfg.json object husai writes for `weights` (keys sorted on output). */
export function saeLensCfg(weights: SaeWeightsToWrite, metadata: SaeLensMetadata = {}): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    architecture: weights.architecture,
    d_in: weights.dIn,
    d_sae: weights.dSae,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    reshape_activations: 'none',
  };
  if (kRule(weights.architecture) !== null) {
    cfg.k = weights.k;
    cfg.rescale_acts_by_decoder_norm = false;
  }
  cfg.metadata = {
    ...(jsonClean(metadata, 'metadata') as Record<string, unknown>),
    sae_lens_version: SAELENS_LAYOUT_VERSION,
    husai_version: HUSAI_VERSION,
  };
  return cfg;
}

/**
 * Writes `weights` as a SAELens v6 directory at `dir` (sae_weights.safetensors + cfg.json),
 * atomically and byte-deterministically. Replaces an existing SAE directory; refuses to replace a
 * directory holding other files.
 */
export function writeSaeLens(dir: string, weights: SaeWeightsToWrite, metadata: SaeLensMetadata = {}): void {
  const target = path.resolve(dir);
  const file = path.join(target, SAELENS_WEIGHTS);
  const from = 'the weights being written';
  if (!SAE_ARCHITECTURES.includes(weights.architecture)) {
    throw new ConfigError(
      `writeSaeLens ${target}: architecture ${JSON.stringify(weights.architecture)} is not one of ` +
        `${SAE_ARCHITECTURES.join(', ')}`,
    );
  }
  for (const [key, v] of [
    ['dIn', weights.dIn],
    ['dSae', weights.dSae],
  ] as const) {
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new ConfigError(`writeSaeLens ${target}: ${key} must be a positive integer, got ${v}`);
  }
  if (kRule(weights.architecture) !== null)
    checkK(weights.architecture, weights.k, (msg) => new ConfigError(`writeSaeLens ${target}: ${msg}`));
  const spec = saeLensTensorSpec(weights.architecture, weights.dIn, weights.dSae);
  checkTensors(file, weights.tensors, spec, from, weights.dIn, weights.dSae);
  for (const name of Object.keys(weights.tensors)) {
    if (!spec.some((s) => s.name === name)) {
      throw new DataError(
        file,
        name,
        `a tensor a SAELens "${weights.architecture}" SAE does not have`,
        `only ${spec.map((s) => s.name).join(', ')}`,
        name === 'scaling_factor' ? 'fold scaling_factor into W_dec rows before writing' : undefined,
      );
    }
  }
  const cfgText = stableJson(saeLensCfg(weights, metadata));

  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const existing = checkReplaceable(target);
  const tmp = siblingName(target, 'tmp');
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    fs.mkdirSync(tmp);
    writeSafetensors(path.join(tmp, SAELENS_WEIGHTS), weights.tensors, { format: 'pt' });
    writeFileAtomic(path.join(tmp, CFG_FILE), [Buffer.from(cfgText, 'utf8')]);
    if (existing) {
      const old = siblingName(target, 'old');
      fs.renameSync(target, old);
      try {
        fs.renameSync(tmp, target);
      } catch (err) {
        fs.renameSync(old, target);
        throw err;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } else {
      fs.renameSync(tmp, target);
    }
    fsyncDir(parent);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Reads a SAELens directory, v6 or pre-6, into SAELens-named float32 tensors checked against cfg.json. */
export function readSaeLens(dir: string): SaeWeights {
  requireDir(dir);
  const cfgFile = path.join(dir, CFG_FILE);
  const file = path.join(dir, SAELENS_WEIGHTS);
  const cfg = readCfgJson(dir, SAELENS_WEIGHTS);
  const format = isV6(cfg) ? 'saelens-v6' : 'saelens-pre6';
  const dIn = cfgPositiveInt(cfgFile, cfg, 'd_in');
  const dSae = cfgPositiveInt(cfgFile, cfg, 'd_sae');
  const { architecture, k } = format === 'saelens-v6' ? v6Architecture(cfgFile, cfg) : pre6Architecture(cfgFile, cfg);
  if (!fs.existsSync(file)) {
    throw new DataError(
      file,
      SAELENS_WEIGHTS,
      `missing (${dir} holds: ${describeDir(dir)})`,
      `the SAELens weights next to ${CFG_FILE}`,
    );
  }
  const read = readSafetensors(file);
  const tensors: Record<string, Tensor> = Object.fromEntries(read.tensors);
  const warnings = [...read.warnings];
  const from = 'cfg.json';
  checkTensors(file, tensors, saeLensTensorSpec(architecture, dIn, dSae), from, dIn, dSae);
  foldScalingFactor(file, cfgFile, cfg, tensors, dIn, dSae, warnings);
  const w: SaeWeights = { architecture, dIn, dSae, tensors, cfg, source: { format, path: dir }, warnings };
  if (k !== undefined) w.k = k;
  return w;
}

/**
 * v6 iff the version (top level, or in `metadata`) is ≥ 6; without one, iff `metadata` is nested (SAELens'
 * handle_config_defaulting).
 */
function isV6(cfg: Record<string, unknown>): boolean {
  const meta = cfg.metadata;
  const nested = typeof meta === 'object' && meta !== null && !Array.isArray(meta);
  const version = cfg.sae_lens_version ?? (nested ? (meta as Record<string, unknown>).sae_lens_version : undefined);
  if (typeof version === 'string' && /^\d+/.test(version)) return Number.parseInt(version, 10) >= 6;
  return nested;
}

function v6Architecture(cfgFile: string, cfg: Record<string, unknown>): { architecture: SaeArchitecture; k?: number } {
  const a = cfg.architecture;
  if (typeof a !== 'string' || !(SAE_ARCHITECTURES as readonly string[]).includes(a)) {
    throw new DataError(
      cfgFile,
      'architecture',
      a === undefined ? 'missing' : JSON.stringify(a),
      `one of ${SAE_ARCHITECTURES.join(', ')}`,
    );
  }
  const architecture = a as SaeArchitecture;
  if (kRule(architecture) === null) return { architecture };
  return { architecture, k: checkK(architecture, cfg.k, (msg) => new DataError(cfgFile, 'k', describe(cfg.k), msg)) };
}

function pre6Architecture(
  cfgFile: string,
  cfg: Record<string, unknown>,
): { architecture: SaeArchitecture; k?: number } {
  const pre6 = ['standard', 'gated', 'jumprelu', 'topk'];
  const a = cfg.architecture ?? 'standard';
  if (typeof a !== 'string' || !pre6.includes(a)) {
    throw new DataError(cfgFile, 'architecture', JSON.stringify(a), `one of ${pre6.join(', ')} (pre-6 SAELens)`);
  }
  const act = cfg.activation_fn_str ?? cfg.activation_fn ?? 'relu';
  // Pre-6 TopK SAEs are "standard" with activation_fn_str "topk" and k in activation_fn_kwargs.
  const architecture: SaeArchitecture = a === 'standard' && act === 'topk' ? 'topk' : (a as SaeArchitecture);
  if (architecture !== 'topk') return { architecture };
  const kwargs = cfg.activation_fn_kwargs;
  const kv = typeof kwargs === 'object' && kwargs !== null ? (kwargs as Record<string, unknown>).k : undefined;
  return {
    architecture,
    k: checkK('topk', kv ?? cfg.k, (msg) => new DataError(cfgFile, 'activation_fn_kwargs.k', describe(kv), msg)),
  };
}

/** k must be a positive integer for topk; BatchTopK's k is an average per sample and may be fractional. */
function checkK(arch: SaeArchitecture, k: unknown, fail: (expected: string) => Error): number {
  const integer = kRule(arch) === 'integer';
  if (typeof k !== 'number' || !Number.isFinite(k) || k <= 0 || (integer && !Number.isSafeInteger(k))) {
    throw fail(`${integer ? 'a positive integer' : 'a positive number'} (architecture "${arch}" needs k)`);
  }
  return k;
}

/** Folds scaling_factor (or finetuning_scaling_factor) [d_sae] into W_dec rows — see the file header. */
function foldScalingFactor(
  file: string,
  cfgFile: string,
  cfg: Record<string, unknown>,
  tensors: Record<string, Tensor>,
  dIn: number,
  dSae: number,
  warnings: string[],
): void {
  for (const name of ['scaling_factor', 'finetuning_scaling_factor']) {
    const s = expectTensor(file, tensors, name, [{ size: dSae, name: 'd_sae' }], 'cfg.json', false);
    if (s === undefined) continue;
    delete tensors[name];
    if (s.data.every((v) => v === 1)) continue;
    const flag = cfg.finetuning_scaling_factor ?? cfg.uses_scaling_factor;
    if (flag === false) {
      throw new DataError(
        cfgFile,
        'finetuning_scaling_factor',
        'false',
        `true, since ${path.basename(file)} holds a ${name} ≠ 1`,
        'SAELens rejects this combination too; set finetuning_scaling_factor to true if the factor should apply',
      );
    }
    const wDecMD = tensors.W_dec.data;
    const folded = new Float32Array(wDecMD.length);
    for (let i = 0; i < dSae; i++) {
      for (let j = 0; j < dIn; j++) folded[i * dIn + j] = wDecMD[i * dIn + j] * s.data[i];
    }
    tensors.W_dec = { shape: [dSae, dIn], data: folded };
    warnOnce(warnings, `${file}: ${name} folded into W_dec rows (x̂ = (f ⊙ s)·W_dec + b_dec, as SAELens decodes)`);
  }
}

/** True when `target` exists (as a replaceable SAE directory); throws if it holds anything else. */
function checkReplaceable(target: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(target);
  } catch {
    return false;
  }
  if (!st.isDirectory())
    throw new ConfigError(`writeSaeLens: ${target} exists and is not a directory; refusing to replace it`);
  const foreign = fs.readdirSync(target).filter((n) => !REPLACEABLE.has(n));
  if (foreign.length > 0) {
    throw new ConfigError(
      `writeSaeLens: ${target} holds files that are not part of an SAE checkpoint (${foreign.sort().join(', ')}); ` +
        `refusing to replace it`,
      'write to a new directory, or remove those files first',
    );
  }
  return true;
}

let siblingCounter = 0;
function siblingName(target: string, kind: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${process.pid}-${siblingCounter++}`);
}

/** JSON with object keys sorted at every level, 2-space indent, trailing newline: same value → same bytes. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .filter((k) => o[k] !== undefined)
          .map((k) => [k, sort(o[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/**
 * A deep copy of `v` that is plain JSON; non-finite numbers, functions, bigints, class instances are a ConfigError
 * naming the key.
 */
function jsonClean(v: unknown, where: string): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v))
      throw new ConfigError(`writeSaeLens: ${where} is ${v}, which JSON cannot hold`, 'pass null for an unknown value');
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonClean(x, `${where}[${i}]`));
  if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== undefined) out[k] = jsonClean(x, `${where}.${k}`);
    }
    return out;
  }
  throw new ConfigError(
    `writeSaeLens: ${where} is a ` +
      `${typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v}, not a JSON value`,
  );
}

function describe(v: unknown): string {
  return v === undefined ? 'missing' : JSON.stringify(v);
}
