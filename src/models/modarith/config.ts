/**
 * The modular-arithmetic transformer's architecture and training configuration, with the published
 * grokking recipe as defaults (docs/SCIENCE.md §5; Nanda et al. 2023, "Progress measures for grokking via
 * mechanistic interpretability": 1 layer, d_model 128, 4 heads of 32, d_mlp 512, ReLU, no
 * LayerNorm, AdamW lr 1e-3, weight decay 1.0, betas (0.9, 0.98), full batch, 30% of pairs for
 * training). Every field is written to the model folder's config.json, which rebuilds the model.
 */
import { ConfigError } from '../../core/errors.js';
import { TASKS, type Task, isPrime } from './dataset.js';

export interface ModelConfig {
  /** Modulus; tokens 0..p−1 are numbers, token p is "=". Output classes: p. */
  p: number;
  n_layers: number;
  d_model: number;
  n_heads: number;
  d_head: number;
  d_mlp: number;
  /** Pre-LayerNorm before attention, MLP and unembedding (off in the grokking recipe). */
  layernorm: boolean;
}

export interface TrainConfig {
  task: Task;
  train_frac: number;
  /** Seeds the train/validation split. */
  data_seed: number;
  /** Seeds the weight initialisation (and mini-batch order). */
  seed: number;
  steps: number;
  lr: number;
  weight_decay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Linear learning-rate warm-up over this many steps. */
  warmup_steps: number;
  /** Pairs per step; 0 = full batch (the recipe). */
  batch_size: number;
  /** Evaluate and log every this many steps. */
  log_every: number;
  /**
   * Stop early once validation accuracy has stayed ≥ this for `stop_patience` consecutive logs
   * (1 = never stop early: run all `steps`).
   */
  stop_val_acc: number;
  stop_patience: number;
}

export type ModArithConfig = ModelConfig & TrainConfig;

const DEFAULT_MODEL: Omit<ModelConfig, 'p'> = {
  n_layers: 1,
  d_model: 128,
  n_heads: 4,
  d_head: 32,
  d_mlp: 512,
  layernorm: false,
};

/**
 * 15,000 steps: measured here, validation accuracy is 21.8% at step 7,500 and 100% at step 10,000
 * (seed 0; Nanda et al. place the clean-up phase, which leaves only the key frequencies, at
 * 9.4k–13.3k), so 15k covers grokking and clean-up in about 17 minutes on 2 cores.
 */
const DEFAULT_TRAIN: TrainConfig = {
  task: 'add',
  train_frac: 0.3,
  data_seed: 0,
  seed: 0,
  steps: 15000,
  lr: 1e-3,
  weight_decay: 1.0,
  beta1: 0.9,
  beta2: 0.98,
  eps: 1e-8,
  warmup_steps: 10,
  batch_size: 0,
  log_every: 100,
  stop_val_acc: 1,
  stop_patience: 1,
};

/** Defaults overlaid with `overrides`, validated (each error names the field and the valid range). */
export function resolveConfig(overrides: Partial<ModArithConfig> = {}): ModArithConfig {
  const cfg: ModArithConfig = { p: 113, ...DEFAULT_MODEL, ...DEFAULT_TRAIN, ...stripUndefined(overrides) };
  const int = (k: keyof ModArithConfig, lo: number, hi = Infinity): void => {
    const v = cfg[k] as number;
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw new ConfigError(
        `modarith: ${k} = ${String(v)} must be an integer in [${lo}, ${hi === Infinity ? '∞' : hi}]`,
      );
  };
  const pos = (k: keyof ModArithConfig): void => {
    const v = cfg[k] as number;
    if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v)))
      throw new ConfigError(`modarith: ${k} = ${String(v)} must be a finite number ≥ 0`);
  };
  if (!isPrime(cfg.p)) throw new ConfigError(`modarith: p = ${cfg.p} must be a prime, e.g. 113`);
  int('n_layers', 1, 16);
  int('d_model', 1);
  int('n_heads', 1);
  int('d_head', 1);
  int('d_mlp', 1);
  int('steps', 0);
  int('warmup_steps', 0);
  int('batch_size', 0);
  int('log_every', 1);
  int('stop_patience', 1);
  int('seed', 0, 2 ** 32 - 1);
  int('data_seed', 0, 2 ** 32 - 1);
  pos('lr');
  pos('weight_decay');
  pos('eps');
  for (const k of ['beta1', 'beta2'] as const)
    if (!(cfg[k] >= 0 && cfg[k] < 1)) throw new ConfigError(`modarith: ${k} = ${cfg[k]} must be in [0, 1)`);
  if (!(cfg.train_frac > 0 && cfg.train_frac < 1))
    throw new ConfigError(`modarith: train_frac = ${cfg.train_frac} must be in (0, 1)`);
  if (!(cfg.stop_val_acc > 0 && cfg.stop_val_acc <= 1))
    throw new ConfigError(`modarith: stop_val_acc = ${cfg.stop_val_acc} must be in (0, 1]`);
  if (!TASKS.includes(cfg.task))
    throw new ConfigError(`modarith: task "${String(cfg.task)}" must be one of ${TASKS.join(', ')}`);
  if (typeof cfg.layernorm !== 'boolean') throw new ConfigError(`modarith: layernorm must be true or false`);
  return cfg;
}

/** The architecture fields of a config. */
export function modelPart(cfg: ModelConfig): ModelConfig {
  const { p, n_layers, d_model, n_heads, d_head, d_mlp, layernorm } = cfg;
  return { p, n_layers, d_model, n_heads, d_head, d_mlp, layernorm };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
