/**
 * The `modarith` data kind of a study spec (issue 6; docs/SCIENCE.md §5): activations of the
 * modular-arithmetic transformer at one hook, layer and position over all p² inputs. The model
 * folder named by `model_dir` is reused when present (its config must equal the spec's `model`) and
 * trained with the grokking recipe on first use otherwise, so a fresh clone runs the study with one
 * command; training is deterministic, so the resolved model config is the data's identity (as a
 * synthetic generator's config is).
 *
 * Also what the Fourier analysis needs: the model's key frequencies (from its embedding) and the
 * hook's activations on the p × p grid at the spec's position ("=" when the spec takes all three),
 * plus a summary for results.json — the model's accuracy, its key frequencies and the effective
 * rank of the activations (HUSAI's yardstick for SAE width, docs/SCIENCE.md §6).
 *
 * Letters: N rows, D width of the hook.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, HusaiError } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import type { Engine } from '../engine/types.js';
import { effectiveRankFromGram } from '../metrics/activations.js';
import { type ModArithConfig, resolveConfig } from '../models/modarith/config.js';
import { type PositionChoice, extractActivations } from '../models/modarith/extract.js';
import { type SavedModArith, checkModArithTarget, loadModArith, saveModArith } from '../models/modarith/save.js';
import { type TrainHooks, trainModArith } from '../models/modarith/train.js';
import { type FourierContext, embeddingKeys } from '../inspect/fourier-context.js';
import type { SpecSource, StudySpec } from './spec.js';

export type ModArithSpec = Extract<StudySpec['data'], { kind: 'modarith' }>;

/** The spec's model config, resolved (defaults: the grokking recipe); errors point at data.model. */
function modarithModelConfig(data: ModArithSpec, src?: SpecSource): ModArithConfig {
  try {
    return resolveConfig(data.model as Partial<ModArithConfig>);
  } catch (err) {
    const field = err instanceof HusaiError ? /modarith: (\w+)/.exec(err.message)?.[1] : undefined;
    if (src && err instanceof HusaiError)
      src.fail(
        ['data', 'model', ...(field && field in data.model ? [field] : [])],
        `a valid model config (${err.message})`,
      );
    throw err;
  }
}

function hookWidth(cfg: ModArithConfig, hook: string): number {
  return hook === 'mlp_post' ? cfg.d_mlp : cfg.d_model;
}

/** Trains a model with `cfg` and saves it to `dir` (metrics.json with the embedding's key frequencies). */
export function trainAndSave(dir: string, cfg: ModArithConfig, e: Engine, hooks: TrainHooks = {}): SavedModArith {
  checkModArithTarget(dir); // before training: a folder with a user's files is refused at once
  const res = trainModArith(cfg, e, hooks);
  const saved: SavedModArith = { cfg, params: res.params, dir };
  const keys = embeddingKeys(saved);
  const metrics = {
    train_acc: res.final.train_acc,
    val_acc: res.final.val_acc,
    train_loss: res.final.train_loss,
    val_loss: res.final.val_loss,
    steps: res.steps,
    stopped_early: res.stoppedEarly,
    seconds: res.final.seconds,
    // First logged step with validation accuracy ≥ 99% (null: never), the grokking point.
    grokked_step: res.history.find((h) => h.val_acc >= 0.99)?.step ?? null,
    embedding_key_frequencies: keys.keys,
    embedding_key_share: keys.covered,
    embedding_top8_share: keys.top8,
  };
  saveModArith(dir, cfg, res.params, res.history, metrics, { name: e.info().name, threads: e.info().threads });
  return saved;
}

/** The spec's model: loaded from model_dir, or trained there first. A folder with another config is refused. */
export function ensureModArithModel(
  data: ModArithSpec,
  specDir: string,
  e: Engine,
  hooks: TrainHooks = {},
): SavedModArith {
  const dir = path.resolve(specDir, data.model_dir);
  const cfg = modarithModelConfig(data);
  if (!fs.existsSync(path.join(dir, 'config.json'))) return trainAndSave(dir, cfg, e, hooks);
  const model = loadModArith(dir);
  const diff = (Object.keys(cfg) as Array<keyof ModArithConfig>).find((k) => model.cfg[k] !== cfg[k]);
  if (diff) {
    throw new ConfigError(
      `${path.join(dir, 'config.json')}: the model there was trained with ${diff} = ` +
        `${JSON.stringify(model.cfg[diff])}, the spec asks for ${JSON.stringify(cfg[diff])}`,
      'point data.model_dir at another folder, or change data.model to match',
    );
  }
  return model;
}

/** Rows and width of the spec's activations, without training anything. */
export function modarithShape(data: ModArithSpec, src?: SpecSource): { rows: number; d: number; cfg: ModArithConfig } {
  const cfg = modarithModelConfig(data, src);
  if (data.layer >= cfg.n_layers) {
    if (src) src.fail(['data', 'layer'], `a block index below n_layers = ${cfg.n_layers}`, String(data.layer));
    throw new ConfigError(`data.layer ${data.layer}: the model has ${cfg.n_layers} layer(s)`);
  }
  return { rows: cfg.p * cfg.p * (data.position === 'all' ? 3 : 1), d: hookWidth(cfg, data.hook), cfg };
}

/** Effective rank of the row-centred activations (docs/SCIENCE.md §3), from their D × D covariance. */
export function activationEffectiveRank(xND: Mat): number {
  const { rows: N, cols: D, data } = xND;
  const mean = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) mean[d] += data[n * D + d] / N;
  const gram = new Float64Array(D * D);
  const row = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) row[d] = data[n * D + d] - mean[d];
    for (let i = 0; i < D; i++) {
      const ri = row[i];
      if (ri === 0) continue;
      for (let j = i; j < D; j++) gram[i * D + j] += ri * row[j];
    }
  }
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) gram[i * D + j] = gram[j * D + i];
  return effectiveRankFromGram(gram, D);
}

interface ModArithStudyData {
  xND: Mat;
  fourier: FourierContext;
  /** For results.json's data.summary. */
  summary: Record<string, unknown>;
}

/** The activations the study trains on, the Fourier context and the summary. */
export function loadModArithData(
  data: ModArithSpec,
  specDir: string,
  e: Engine,
  hooks: TrainHooks = {},
): ModArithStudyData {
  const model = ensureModArithModel(data, specDir, e, hooks);
  const opts = { hook: data.hook, layer: data.layer, position: data.position as PositionChoice };
  const acts = extractActivations(model, opts, e);
  const gridPos = data.position === 'all' ? 'eq' : (data.position as PositionChoice);
  const grid = gridPos === data.position ? acts.xND : extractActivations(model, { ...opts, position: gridPos }, e).xND;
  const keys = embeddingKeys(model);
  const metricsFile = path.join(model.dir, 'metrics.json');
  const metrics = fs.existsSync(metricsFile)
    ? (JSON.parse(fs.readFileSync(metricsFile, 'utf8')) as Record<string, unknown>)
    : {};
  return {
    xND: acts.xND,
    fourier: {
      p: model.cfg.p,
      keys: keys.keys,
      gridND: grid,
      label: `${data.hook}, layer ${data.layer}, position ${gridPos}`,
    },
    summary: {
      model_dir: model.dir,
      task: model.cfg.task,
      p: model.cfg.p,
      hook: data.hook,
      layer: data.layer,
      position: data.position,
      model_train_acc: metrics.train_acc ?? null,
      model_val_acc: metrics.val_acc ?? null,
      model_steps: metrics.steps ?? null,
      key_frequencies: keys.keys,
      key_share: keys.covered,
      top8_share: keys.top8,
      effective_rank: activationEffectiveRank(acts.xND),
    },
  };
}
