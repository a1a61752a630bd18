/**
 * The data a study trains on, from its spec's `data` block (docs/SCIENCE.md §5): a synthetic generator
 * (data/synthetic, ground truth included) or activation files (data/files.ts, with optional
 * ground-truth directions beside them). Also the data's identity — what a run id hashes so that two
 * runs on different data never share an id: the resolved generator config (which regenerates the
 * data byte for byte), or the sha256 of every file read. Relative paths are resolved against the
 * spec file's directory.
 *
 * Letters: N rows, D width, F ground-truth features.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError, HusaiError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { type FileActivationSource, openActivations } from '../data/files.js';
import { resolveCorrelated } from '../data/synthetic/correlated.js';
import { resolveExactK } from '../data/synthetic/exact-k.js';
import { resolveSynthbench } from '../data/synthetic/synthbench.js';
import type { ActivationSource } from '../data/source.js';
import { type SyntheticKind, generateSynthetic, syntheticSource } from '../data/synthetic/index.js';
import { sha256File } from '../formats/io.js';
import { readNpyMat } from '../formats/npy.js';
import { readSafetensors } from '../formats/safetensors.js';
import { getEngine } from '../engine/index.js';
import { memorySource } from '../data/memory.js';
import type { TrainHooks } from '../models/modarith/train.js';
import type { FourierContext } from '../inspect/fourier-context.js';
import { loadModArithData, modarithShape } from './modarith-data.js';
import type { SpecSource, StudySpec } from './spec.js';

/** What identifies the data in a run's resolved config. */
export type DataIdentity =
  | { kind: 'synthetic'; generator: string; config: Record<string, unknown> }
  | { kind: 'file'; sha256: string; rows: number; d: number; tensor: string | null }
  | { kind: 'modarith'; model: Record<string, unknown>; hook: string; layer: number; position: string };

export interface InputFile {
  /** Absolute path. */
  path: string;
  bytes: number;
  sha256: string;
}

/** What the runs and analyses need to know about the data, without reading the activations. */
export interface DataPlan {
  identity: DataIdentity;
  /** Display name (generator config or path). */
  name: string;
  kind: 'synthetic' | 'file' | 'modarith';
  rows: number | null;
  d: number;
  /** Ground-truth feature count, or null. */
  features: number | null;
  /** What results.json records as data.config. */
  config: Record<string, unknown>;
  /** Files read (data, ground truth) with checksums, for the manifest ([] for synthetic data). */
  inputs: InputFile[];
}

export interface StudyData extends DataPlan {
  source: ActivationSource;
  /** Ground-truth directions gtFD [F, D], or null. */
  gt: Mat | null;
  /** Modular-arithmetic data: the grid and key frequencies for the Fourier analysis; else null. */
  fourier: FourierContext | null;
  /** Facts about the data for results.json (model accuracy, effective rank, …), or null. */
  summary: Record<string, unknown> | null;
}

/** Data with ground truth but without the activations (what the analyses read). */
export type AnalysisData = DataPlan & {
  gt: Mat | null;
  fourier: FourierContext | null;
  summary: Record<string, unknown> | null;
};

const RESOLVERS: Record<SyntheticKind, (o: never) => { n: number; d: number; features: number }> = {
  'exact-k': resolveExactK,
  correlated: resolveCorrelated,
  synthbench: resolveSynthbench,
};

/**
 * The data's identity and shape from the spec alone: synthetic configs are resolved without
 * generating; files are hashed (or `identity` is taken as given, e.g. from a shard's store).
 */
export function planData(spec: StudySpec, specDir: string, src?: SpecSource, identity?: DataIdentity): DataPlan {
  const data = spec.data;
  if (data.kind === 'modarith') {
    const { rows, d, cfg } = modarithShape(data, src);
    const config = {
      model_dir: data.model_dir,
      model: { ...cfg },
      hook: data.hook,
      layer: data.layer,
      position: data.position,
    };
    return {
      identity: { kind: 'modarith', model: { ...cfg }, hook: data.hook, layer: data.layer, position: data.position },
      name: `modarith:${cfg.task} p=${cfg.p} ${data.hook}@${data.layer}/${data.position}`,
      kind: 'modarith',
      rows,
      d,
      features: null,
      config,
      inputs: [],
    };
  }
  if (data.kind === 'synthetic') {
    let cfg: { n: number; d: number; features: number };
    try {
      cfg = RESOLVERS[data.generator as SyntheticKind](data.options as never);
    } catch (err) {
      if (err instanceof HusaiError && src)
        src.fail(
          ['data', 'options', ...optionField(err.message, data.options)],
          `valid ${data.generator} options (${err.message})`,
        );
      throw err;
    }
    const config = { ...(cfg as unknown as Record<string, unknown>) };
    const args = Object.entries(config)
      .filter(([k]) => k !== 'kind')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(',');
    return {
      identity: { kind: 'synthetic', generator: data.generator, config },
      name: `synthetic:${data.generator}(${args})`,
      kind: 'synthetic',
      rows: cfg.n,
      d: cfg.d,
      features: cfg.features,
      config: { generator: data.generator, ...config },
      inputs: [],
    };
  }
  const config = { path: data.path, tensor: data.tensor ?? null, ground_truth: data.ground_truth ?? null };
  if (identity?.kind === 'file') {
    return {
      identity,
      name: data.path,
      kind: 'file',
      rows: identity.rows,
      d: identity.d,
      features: data.ground_truth ? gtRows(spec, specDir, identity.d, src) : null,
      config,
      inputs: [],
    };
  }
  const source = openFileSource(spec, specDir, src);
  const inputs = source.shards.map((s) => hashFile(s.path));
  const sha = crypto.createHash('sha256');
  for (const f of inputs) sha.update(`${f.sha256}\n`);
  if (data.ground_truth) inputs.push(hashFile(path.resolve(specDir, data.ground_truth)));
  return {
    identity: {
      kind: 'file',
      sha256: sha.digest('hex'),
      rows: source.length,
      d: source.d,
      tensor: data.tensor ?? null,
    },
    name: data.path,
    kind: 'file',
    rows: source.length,
    d: source.d,
    features: data.ground_truth ? gtRows(spec, specDir, source.d, src) : null,
    config,
    inputs,
  };
}

/** Loads (or generates) the spec's data. `specDir` resolves relative paths. */
export function loadStudyData(spec: StudySpec, specDir: string, src?: SpecSource, hooks: TrainHooks = {}): StudyData {
  const data = spec.data;
  if (data.kind === 'modarith') {
    const plan = planData(spec, specDir, src);
    const m = loadModArithData(data, specDir, getEngine(), hooks);
    return { ...plan, source: memorySource(m.xND, plan.name), gt: null, fourier: m.fourier, summary: m.summary };
  }
  if (data.kind === 'synthetic') {
    const plan = planData(spec, specDir, src);
    const gen = generateSynthetic(data.generator as SyntheticKind, data.options as never);
    const source = syntheticSource(gen);
    return { ...plan, source, gt: gen.gt, inputs: [], fourier: null, summary: null };
  }
  const source = openFileSource(spec, specDir, src);
  const inputs = source.shards.map((s) => hashFile(s.path));
  const sha = crypto.createHash('sha256');
  for (const f of inputs) sha.update(`${f.sha256}\n`);
  const gt = data.ground_truth !== undefined ? loadGroundTruth(spec, specDir, source.d, src) : null;
  if (gt && data.ground_truth) inputs.push(hashFile(path.resolve(specDir, data.ground_truth)));
  return {
    identity: {
      kind: 'file',
      sha256: sha.digest('hex'),
      rows: source.length,
      d: source.d,
      tensor: data.tensor ?? null,
    },
    name: data.path,
    kind: 'file',
    rows: source.length,
    d: source.d,
    features: gt?.rows ?? null,
    config: { path: data.path, tensor: data.tensor ?? null, ground_truth: data.ground_truth ?? null },
    source,
    gt,
    inputs,
    fourier: null,
    summary: null,
  };
}

/** The plan plus ground truth (regenerated or read), for analysing a study whose activations may be elsewhere. */
export function analysisData(
  spec: StudySpec,
  specDir: string,
  identity: DataIdentity | undefined,
  src?: SpecSource,
): AnalysisData {
  const plan = planData(spec, specDir, src, identity);
  if (spec.data.kind === 'modarith') {
    const m = loadModArithData(spec.data, specDir, getEngine());
    return { ...plan, gt: null, fourier: m.fourier, summary: m.summary };
  }
  if (spec.data.kind === 'synthetic') {
    const gen = generateSynthetic(spec.data.generator as SyntheticKind, spec.data.options as never);
    return { ...plan, gt: gen.gt, fourier: null, summary: null };
  }
  return {
    ...plan,
    gt: spec.data.ground_truth !== undefined ? loadGroundTruth(spec, specDir, plan.d, src) : null,
    fourier: null,
    summary: null,
  };
}

function openFileSource(spec: StudySpec, specDir: string, src?: SpecSource): FileActivationSource {
  const data = spec.data as Extract<StudySpec['data'], { kind: 'file' }>;
  const abs = path.resolve(specDir, data.path);
  if (!fs.existsSync(abs)) {
    if (src)
      src.fail(['data', 'path'], `an activation file or folder (looked for ${abs})`, `${data.path} (nothing there)`);
    throw new DataError(abs, 'data.path', 'nothing there', 'an activation file or folder');
  }
  return openActivations(abs, { tensor: data.tensor, name: data.path });
}

function loadGroundTruth(spec: StudySpec, specDir: string, d: number, src?: SpecSource): Mat {
  const data = spec.data as Extract<StudySpec['data'], { kind: 'file' }>;
  const gtPath = path.resolve(specDir, data.ground_truth as string);
  if (!fs.existsSync(gtPath) && src)
    src.fail(
      ['data', 'ground_truth'],
      `a .npy or .safetensors file of directions [F×${d}] (looked for ${gtPath})`,
      `${data.ground_truth} (nothing there)`,
    );
  return readGroundTruth(gtPath, d, data.ground_truth_tensor);
}

function gtRows(spec: StudySpec, specDir: string, d: number, src?: SpecSource): number {
  return loadGroundTruth(spec, specDir, d, src).rows;
}

/** sha256 and size of an input file, for the manifest. */
function hashFile(file: string): InputFile {
  return { path: path.resolve(file), ...sha256File(file) };
}

/** Ground-truth directions [F, d] from a .npy or a .safetensors file (one 2-D tensor, or `tensor`). */
function readGroundTruth(file: string, d: number, tensor?: string): Mat {
  let mat: Mat;
  if (file.endsWith('.npy')) {
    mat = readNpyMat(file).mat;
  } else if (file.endsWith('.safetensors')) {
    const { tensors } = readSafetensors(file);
    const twoD = [...tensors].filter(([, t]) => t.shape.length === 2);
    const pick = tensor !== undefined ? tensors.get(tensor) : twoD.length === 1 ? twoD[0][1] : undefined;
    if (!pick) {
      throw new DataError(
        file,
        tensor ? `tensor ${tensor}` : 'tensors',
        tensor ? 'no such tensor' : `${twoD.length} 2-D tensors`,
        'one 2-D tensor of ground-truth directions',
        'set data.ground_truth_tensor',
      );
    }
    mat = { data: pick.data, rows: pick.shape[0], cols: pick.shape[1] };
  } else {
    throw new ConfigError(`${file}: ground truth must be a .npy or .safetensors file`);
  }
  if (mat.cols !== d)
    throw new DataError(file, 'ground-truth shape', fmtShape(mat.rows, mat.cols), `[F×${d}] (d of the activations)`);
  return mat;
}

/**
 * The option a generator's ConfigError names first (e.g. "exact-k: k = 20 exceeds features = 12" → ['k']), when it is
 * in the spec.
 */
function optionField(message: string, options: Record<string, unknown>): string[] {
  for (const suffix of [' =', '\\b']) {
    let best: string | null = null;
    let at = Infinity;
    for (const key of Object.keys(options)) {
      const m = new RegExp(`(?<![\\w-])${key}${suffix}`).exec(message);
      if (m && m.index < at) {
        at = m.index;
        best = key;
      }
    }
    if (best !== null) return [best];
  }
  return [];
}
