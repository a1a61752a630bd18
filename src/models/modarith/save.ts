/**
 * The modular-arithmetic model folder (docs/FORMATS.md-style, our own):
 *   model.safetensors  weights in TransformerLens names and shapes (embed.W_E [p+1, D],
 *                      pos_embed.W_pos [3, D], blocks.L.attn.W_Q/W_K/W_V [H, D, Dh],
 *                      blocks.L.attn.W_O [H, Dh, D], blocks.L.mlp.W_in [D, M], b_in [M],
 *                      W_out [M, D], b_out [D], unembed.W_U [D, p], LayerNorm w/b when used),
 *                      so `HookedTransformer.load_state_dict` users can open it;
 *   config.json        the full ModArithConfig that rebuilds the model, the engine and thread
 *                      count it was trained with, the husai version;
 *   metrics.json       final train_acc, val_acc, train_loss, val_loss, steps (+ caller extras);
 *   history.json       the training log (step, train/val loss and accuracy, seconds).
 * Every file is written atomically; config.json is written last, so a folder without it is an
 * unfinished run and is never loaded. Only a missing or empty folder, or one husai wrote (config.json
 * or model.safetensors carrying MODEL_FORMAT) with nothing else in it, is written to: a folder with
 * a user's files (say their own metrics.json) is refused before training starts (issue 12).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { HUSAI_VERSION } from '../../core/version.js';
import { writeFileAtomic } from '../../formats/io.js';
import { checkOwnedFolder, jsonWith, removeTempLeftovers } from '../../formats/owned.js';
import {
  type Tensor,
  readSafetensors,
  readSafetensorsHeader,
  tensorWithShape,
  writeSafetensors,
} from '../../formats/safetensors.js';
import type { TensorMap } from '../../nn/optim.js';
import { type ModArithConfig, modelPart, resolveConfig } from './config.js';
import { paramShapes } from './transformer.js';
import type { LogEntry } from './train.js';

const MODEL_FORMAT = 'husai-modarith';

export interface SavedModArith {
  cfg: ModArithConfig;
  params: TensorMap;
  dir: string;
}

/** Internal tensors → TransformerLens tensors (W_QKV [D, 3·H·Dh] split into W_Q, W_K, W_V [H, D, Dh]). */
function toTransformerLens(
  cfg: ModArithConfig,
  params: TensorMap,
): Record<string, { shape: number[]; data: Float32Array }> {
  const { d_model: D, n_heads: H, d_head: Dh } = cfg;
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of Object.entries(paramShapes(modelPart(cfg)))) {
    if (!name.endsWith('.W_QKV')) {
      out[name] = { shape: name.endsWith('.W_O') ? [H, Dh, D] : shape, data: params[name] };
      continue;
    }
    const w = params[name];
    const prefix = name.slice(0, -'W_QKV'.length);
    ['W_Q', 'W_K', 'W_V'].forEach((which, part) => {
      const t = new Float32Array(H * D * Dh);
      for (let h = 0; h < H; h++)
        for (let d = 0; d < D; d++)
          for (let j = 0; j < Dh; j++) t[(h * D + d) * Dh + j] = w[d * 3 * H * Dh + part * H * Dh + h * Dh + j];
      out[prefix + which] = { shape: [H, D, Dh], data: t };
    });
  }
  return out;
}

function fromTransformerLens(file: string, cfg: ModArithConfig, tensors: ReadonlyMap<string, Tensor>): TensorMap {
  const { d_model: D, n_heads: H, d_head: Dh } = cfg;
  const params: TensorMap = {};
  for (const [name, shape] of Object.entries(paramShapes(modelPart(cfg)))) {
    if (!name.endsWith('.W_QKV')) {
      params[name] = tensorWithShape(file, tensors, name, name.endsWith('.W_O') ? [H, Dh, D] : shape).data;
      continue;
    }
    const prefix = name.slice(0, -'W_QKV'.length);
    const w = new Float32Array(D * 3 * H * Dh);
    ['W_Q', 'W_K', 'W_V'].forEach((which, part) => {
      const t = tensorWithShape(file, tensors, prefix + which, [H, D, Dh]).data;
      for (let h = 0; h < H; h++)
        for (let d = 0; d < D; d++)
          for (let j = 0; j < Dh; j++) w[d * 3 * H * Dh + part * H * Dh + h * Dh + j] = t[(h * D + d) * Dh + j];
    });
    params[name] = w;
  }
  return params;
}

const json = (o: unknown): Uint8Array => Buffer.from(`${JSON.stringify(o, null, 2)}\n`);

/** The files saveModArith writes: the only ones it will replace. */
const MODEL_FILES = new Set(['model.safetensors', 'config.json', 'metrics.json', 'history.json']);
const husaiConfig = jsonWith('format', (v) => v === MODEL_FORMAT);

/** A folder saveModArith wrote: finished (config.json), or killed before config.json (model.safetensors metadata). */
function isModArithFolder(dir: string): boolean {
  if (husaiConfig(path.join(dir, 'config.json'))) return true;
  try {
    return readSafetensorsHeader(path.join(dir, 'model.safetensors')).metadata.format === MODEL_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Refuses (ForeignOutputError) a model folder `dir` that saveModArith may not write: one holding
 * anything but husai's own model files. Missing, empty or husai's: returns, writing nothing.
 */
export function checkModArithTarget(dir: string): void {
  checkOwnedFolder(path.resolve(dir), isModArithFolder, MODEL_FILES, '`husai modarith train`');
}

export function saveModArith(
  dir: string,
  cfg: ModArithConfig,
  params: TensorMap,
  history: LogEntry[],
  metrics: Record<string, unknown>,
  engine: { name: string; threads: number },
): void {
  checkModArithTarget(dir);
  fs.mkdirSync(dir, { recursive: true });
  removeTempLeftovers(path.resolve(dir), MODEL_FILES);
  fs.rmSync(path.join(dir, 'config.json'), { force: true });
  writeSafetensors(path.join(dir, 'model.safetensors'), toTransformerLens(cfg, params), {
    format: MODEL_FORMAT,
    config: JSON.stringify(cfg),
  });
  writeFileAtomic(path.join(dir, 'history.json'), [json(history)]);
  writeFileAtomic(path.join(dir, 'metrics.json'), [json(metrics)]);
  writeFileAtomic(path.join(dir, 'config.json'), [
    json({ format: MODEL_FORMAT, version: 1, husai_version: HUSAI_VERSION, config: cfg, engine }),
  ]);
}

/** Reads a model folder written by saveModArith; errors name the file and what is wrong. */
export function loadModArith(dir: string): SavedModArith {
  const cfgFile = path.join(dir, 'config.json');
  if (!fs.existsSync(dir))
    throw new DataError(dir, 'model folder', 'nothing there', 'a folder written by `husai modarith train --out DIR`');
  if (!fs.existsSync(cfgFile))
    throw new DataError(
      cfgFile,
      'config.json',
      'missing',
      'the config.json that `husai modarith train` writes last',
      'training did not finish: run it again with the same --out',
    );
  let raw: { format?: string; config?: Partial<ModArithConfig> };
  try {
    raw = JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as typeof raw;
  } catch (err) {
    throw new DataError(cfgFile, 'JSON', (err as Error).message, 'valid JSON');
  }
  if (raw.format !== MODEL_FORMAT)
    throw new DataError(cfgFile, 'format', JSON.stringify(raw.format), `"${MODEL_FORMAT}"`);
  const cfg = resolveConfig(raw.config ?? {});
  const weights = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(weights))
    throw new DataError(weights, 'model.safetensors', 'missing', 'the weights beside config.json');
  const { tensors } = readSafetensors(weights);
  return { cfg, params: fromTransformerLens(weights, cfg, tensors), dir };
}
