/**
 * Activations of a trained modular-arithmetic transformer over all p² inputs (issue 6, item 4):
 * any hook of any block — resid_pre, attn_out, resid_mid, mlp_post, mlp_out, resid_post (the
 * TransformerLens hook points) — at position a, b, "=" or all three. Rows are pair-major in a-major
 * order (pair a·p + b; with position `all`, row 3·pair + position), so a row index maps back to its
 * (a, b) and every per-row array reshapes to the p × p grid the Fourier analysis reads.
 *
 * Written as one .npy or .safetensors file [rows, width] (what `husai train` reads), with a sidecar
 * `FILE.meta.json`: format, hook, layer, position, p, task, the model folder and the sha256 of its
 * weights, and the (a, b, position) of every row. For .safetensors the scalar fields are also in
 * the file's __metadata__.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError } from '../../core/errors.js';
import type { Mat } from '../../core/mat.js';
import type { Engine } from '../../engine/types.js';
import { sha256File, writeFileAtomic } from '../../formats/io.js';
import { writeNpy } from '../../formats/npy.js';
import { writeSafetensors } from '../../formats/safetensors.js';
import { modelPart } from './config.js';
import { POSITIONS, type PositionName, SEQ_LEN } from './dataset.js';
import type { SavedModArith } from './save.js';
import { type BlockCache, Transformer } from './transformer.js';

export const HOOKS = ['resid_pre', 'attn_out', 'resid_mid', 'mlp_post', 'mlp_out', 'resid_post'] as const;
export type HookName = (typeof HOOKS)[number];
export type PositionChoice = PositionName | 'all';
const META_FORMAT = 'husai-modarith-activations';

interface ExtractOptions {
  hook: HookName;
  layer: number;
  position: PositionChoice;
}

interface ModArithActivations {
  xND: Mat;
  /** Per row: a, b and position index (0 = a, 1 = b, 2 = "="). */
  a: Int32Array;
  b: Int32Array;
  position: Int32Array;
}

interface ActivationMeta {
  format: typeof META_FORMAT;
  hook: HookName;
  layer: number;
  position: PositionChoice;
  p: number;
  task: string;
  model_dir: string;
  model_sha256: string;
  rows: number;
  d: number;
  a: number[];
  b: number[];
  positions: number[];
}

function hookTensor(c: BlockCache, hook: HookName): Float32Array {
  switch (hook) {
    case 'resid_pre':
      return c.residPreQD;
    case 'attn_out':
      return c.attnOutQD;
    case 'resid_mid':
      return c.residMidQD;
    case 'mlp_post':
      return c.mlpPostQM;
    case 'mlp_out':
      return c.mlpOutQD;
    case 'resid_post':
      return c.residPostQD;
  }
}

function checkExtractOptions(model: SavedModArith, opts: ExtractOptions): void {
  if (!HOOKS.includes(opts.hook))
    throw new ConfigError(`modarith extract: hook "${opts.hook}" is not one of ${HOOKS.join(', ')}`);
  if (!Number.isInteger(opts.layer) || opts.layer < 0 || opts.layer >= model.cfg.n_layers) {
    throw new ConfigError(
      `modarith extract: layer ${opts.layer} does not exist; the model in ${model.dir} has layers ` +
        `0..${model.cfg.n_layers - 1}`,
    );
  }
  if (opts.position !== 'all' && !POSITIONS.includes(opts.position))
    throw new ConfigError(
      `modarith extract: position "${opts.position}" is not one of ${[...POSITIONS, 'all'].join(', ')}`,
    );
}

/** The hook's activations over all p² pairs, computed in chunks of `chunkPairs`. */
export function extractActivations(
  model: SavedModArith,
  opts: ExtractOptions,
  e: Engine,
  chunkPairs = 4096,
): ModArithActivations {
  checkExtractOptions(model, opts);
  const { p } = model.cfg;
  const net = new Transformer(modelPart(model.cfg), model.params, e);
  const P2 = p * p;
  const positions = opts.position === 'all' ? [0, 1, 2] : [POSITIONS.indexOf(opts.position)];
  const width = opts.hook === 'mlp_post' ? model.cfg.d_mlp : model.cfg.d_model;
  const rows = P2 * positions.length;
  const x = new Float32Array(rows * width);
  const a = new Int32Array(rows);
  const b = new Int32Array(rows);
  const position = new Int32Array(rows);
  for (let start = 0; start < P2; start += chunkPairs) {
    const n = Math.min(chunkPairs, P2 - start);
    const tokens = new Int32Array(n * SEQ_LEN);
    for (let j = 0; j < n; j++) {
      const i = start + j;
      tokens[3 * j] = Math.floor(i / p);
      tokens[3 * j + 1] = i % p;
      tokens[3 * j + 2] = p;
    }
    const t = hookTensor(net.forward(tokens, false).blocks[opts.layer], opts.hook);
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < positions.length; k++) {
        const r = (start + j) * positions.length + k;
        const s = positions[k];
        x.set(t.subarray((j * SEQ_LEN + s) * width, (j * SEQ_LEN + s + 1) * width), r * width);
        a[r] = Math.floor((start + j) / p);
        b[r] = (start + j) % p;
        position[r] = s;
      }
    }
  }
  return { xND: { data: x, rows, cols: width }, a, b, position };
}

/** Writes activations to FILE (.npy or .safetensors) and FILE.meta.json, both atomically. */
export function writeModArithActivations(
  file: string,
  model: SavedModArith,
  opts: ExtractOptions,
  acts: ModArithActivations,
): ActivationMeta {
  const ext = path.extname(file);
  if (ext !== '.npy' && ext !== '.safetensors')
    throw new ConfigError(`modarith extract: --out ${file} must end in .npy or .safetensors`);
  const meta: ActivationMeta = {
    format: META_FORMAT,
    hook: opts.hook,
    layer: opts.layer,
    position: opts.position,
    p: model.cfg.p,
    task: model.cfg.task,
    model_dir: path.resolve(model.dir),
    model_sha256: sha256File(path.join(model.dir, 'model.safetensors')).sha256,
    rows: acts.xND.rows,
    d: acts.xND.cols,
    a: [...acts.a],
    b: [...acts.b],
    positions: [...acts.position],
  };
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  if (ext === '.npy') {
    writeNpy(file, acts.xND);
  } else {
    const scalar = {
      format: META_FORMAT,
      hook: opts.hook,
      layer: String(opts.layer),
      position: opts.position,
      p: String(model.cfg.p),
      task: model.cfg.task,
      model_sha256: meta.model_sha256,
    };
    writeSafetensors(file, { activations: { shape: [acts.xND.rows, acts.xND.cols], data: acts.xND.data } }, scalar);
  }
  writeFileAtomic(metaPath(file), [Buffer.from(`${JSON.stringify(meta)}\n`)]);
  return meta;
}

function metaPath(file: string): string {
  return `${file}.meta.json`;
}

/** The sidecar of an activation file written by writeModArithActivations, or null when there is none. */
export function readActivationMeta(file: string): ActivationMeta | null {
  const f = metaPath(file);
  if (!fs.existsSync(f)) return null;
  let m: Partial<ActivationMeta>;
  try {
    m = JSON.parse(fs.readFileSync(f, 'utf8')) as Partial<ActivationMeta>;
  } catch (err) {
    throw new DataError(f, 'JSON', (err as Error).message, 'valid JSON');
  }
  if (m.format !== META_FORMAT) throw new DataError(f, 'format', JSON.stringify(m.format), `"${META_FORMAT}"`);
  for (const k of ['a', 'b', 'positions'] as const) {
    if (!Array.isArray(m[k]) || m[k].length !== m.rows)
      throw new DataError(
        f,
        k,
        Array.isArray(m[k]) ? `${m[k].length} entries` : typeof m[k],
        `${m.rows} entries (one per row)`,
      );
  }
  return m as ActivationMeta;
}
