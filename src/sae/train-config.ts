/**
 * The trainer's public types and defaults (docs/SCIENCE.md §2 "Training defaults"; train.ts runs them):
 * the batch-stream shape the trainer reads, per-run configs and hyperparameters, options, metrics and
 * results, and the documented default rules for batch size, steps and threads on small data.
 */
import type { Mat } from '../core/mat.js';
import type { Engine } from '../engine/types.js';
import type { Sae, SaeConfig, SaeConfigInput } from './types.js';

/** The batch stream the trainer needs: structurally an ActivationSource (data/source.ts). */
export interface BatchStream {
  readonly d: number;
  /** Rows when finite and known, else null (then `steps` must be given). */
  readonly length: number | null;
  batches(batchSize: number, opts: { seed: number; epoch?: number; keepLast?: boolean }): AsyncIterable<Mat>;
}

/** Per-run optimisation settings; every field has a default (docs/SCIENCE.md §2). */
export interface TrainHyper {
  /** Peak lr; null → the architecture's default (TopK family 2e-4/√(m/2^14)). */
  lr: number | null;
  beta1: number;
  beta2: number;
  eps: number;
  /** Warm-up steps; null → min(1000, 5% of steps). */
  warmupSteps: number | null;
  /** Fraction of steps with linear lr decay at the end. */
  decayFraction: number;
  /** Global gradient-norm clip (0: off). */
  clipNorm: number;
  /** Sparsity coefficient warm-up as a fraction of steps. */
  sparsityWarmupFraction: number;
  /** Dead-latent window N in tokens; null → min(10M, one pass over the data) (dead.ts). */
  deadWindowTokens: number | null;
  /** ReLU only: resample dead latents every this many steps (null: never). */
  resampleEvery: number | null;
}

export const DEFAULT_HYPER: TrainHyper = {
  lr: null,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  warmupSteps: null,
  decayFraction: 0.2,
  clipNorm: 1,
  sparsityWarmupFraction: 0.05,
  deadWindowTokens: null,
  resampleEvery: null,
};

export interface RunConfig {
  /** Label for results and errors (default: `run<index>`). */
  id?: string;
  /** SAE config; dIn may be omitted (taken from the data). */
  sae: Omit<SaeConfigInput, 'dIn'> & { dIn?: number };
  /** Init seed (Rng.from(seed, 'init')). */
  seed: number;
  /** Data-order seed; runs that share it share one pass over the data. */
  dataSeed: number;
  hyper?: Partial<TrainHyper>;
}

export interface StepMetrics {
  step: number;
  tokens: number;
  lr: number;
  loss: number;
  /** On the training batch, in scaled units (E‖x‖² = d). */
  mse: number;
  aux: number;
  sparsity: number;
  /** On the training batch (x̄ = that batch's mean). */
  explainedVariance: number;
  l0: number;
  deadFraction: number;
  /** Fraction of latents firing on > 10% of the tokens since the previous log. */
  denseFraction: number;
  gradNorm: number;
}

export interface FinalMetrics {
  /** On the evaluation set, raw units. */
  mse: number;
  explained_variance: number;
  l0: number;
  n_dead: number;
  dead_fraction: number;
  dense_fraction: number;
  steps: number;
  tokens: number;
}

export interface RunResult {
  id: string;
  index: number;
  seed: number;
  dataSeed: number;
  cfg: SaeConfig;
  hyper: TrainHyper & { lr: number; warmupSteps: number; deadWindowTokens: number };
  batchSize: number;
  steps: number;
  /** s: the SAE trained on s·x; `sae` has it folded back. */
  inputScale: number;
  /** The trained SAE in raw-activation units. */
  sae: Sae;
  history: StepMetrics[];
  final: FinalMetrics | null;
  /** Set when the run stopped on a NumericError and `failFast` is false. */
  error: Error | null;
}

export interface Progress {
  runIndex: number;
  runId: string;
  step: number;
  totalSteps: number;
  /** The latest logged metrics (null before the first log). */
  metrics: StepMetrics | null;
}

export interface CheckpointInfo {
  runIndex: number;
  runId: string;
  step: number;
  /** Raw-unit snapshot of the SAE (write it with save.ts saveSae). */
  sae: Sae;
  /** SAELens metadata of the snapshot: seed, data_seed, steps, tokens, input_scale. */
  metadata: Record<string, unknown>;
}

export interface TrainOptions {
  engine?: Engine;
  /** Default: defaultBatchSize(rows). */
  batchSize?: number;
  /** Default: defaultSteps(rows, batch); required for streams of unknown length. */
  steps?: number;
  /** Log every n steps (default: ~100 logs per run). */
  logEvery?: number;
  /** Steps at which onCheckpoint receives a snapshot (0: right after initialisation). */
  checkpointSteps?: number[];
  onCheckpoint?: (c: CheckpointInfo) => void | Promise<void>;
  onProgress?: (p: Progress) => void;
  /** Scale inputs to E‖x‖² = d (default true). */
  normalizeInputs?: boolean;
  /** b_dec init: geometric median (default), mean, or zero. */
  initBDec?: 'geometric-median' | 'mean' | 'zero';
  /** Rows for the scale / b_dec estimate (default 4096). */
  statsRows?: number;
  /** Rows for the final evaluation (default min(rows, 16384), at least one batch). */
  evalRows?: number;
  /** Throw on the first NumericError (default true); else record it on that run and go on. */
  failFast?: boolean;
  /**
   * Engine threads while stepping a run: a number, or 'auto' (default): 1 thread for runs whose
   * per-step GEMM work B·d·m is below SMALL_STEP_WORK, the engine's setting otherwise. The engine's
   * setting is restored afterwards.
   */
  threads?: number | 'auto';
}

/**
 * B·d·m below which a step runs single-threaded under threads: 'auto'. Each kernel of such a step
 * lasts microseconds, so an OpenMP fork/join per kernel costs more than it saves, and on a busy
 * machine a descheduled worker stalls every barrier: measured on 2 cores under load, the acceptance
 * run (B 512, d 64, m 128) took 9.6 s on 1 thread and 272 s on 2. The choice depends only on the run's
 * own shapes, so results stay a function of (config, seeds, engine, HUSAI_THREADS).
 */
export const SMALL_STEP_WORK = 2 ** 24;

/** Seed of the fixed sample used for statistics and evaluation (never a run's seed). */
export const SAMPLE_SEED = 0;

/** The largest power of two ≤ rows/64, clamped to [32, 4096] and to rows; 4096 for unknown length. */
export function defaultBatchSize(rows: number | null): number {
  if (rows === null) return 4096;
  const p = rows >= 64 ? 2 ** Math.floor(Math.log2(rows / 64)) : 1;
  return Math.max(1, Math.min(rows, Math.min(4096, Math.max(32, p))));
}

/** Minimum optimiser steps of a default run. */
const DEFAULT_MIN_STEPS = 8192;

/** max(one epoch, DEFAULT_MIN_STEPS). */
export function defaultSteps(rows: number, batch: number): number {
  return Math.max(Math.floor(rows / batch), DEFAULT_MIN_STEPS);
}
