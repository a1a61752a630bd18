/**
 * The SAE trainer (docs/SCIENCE.md §2 "Training defaults" and "Seeds"): many SAEs per pass over the data.
 * `trainMany` groups runs by data-order seed, iterates each group's batch stream once per epoch and
 * steps every SAE of the group on each batch, so a seed study costs one read of the data per data
 * seed. Per step: forward → backward → decoder-gradient projection → global-norm clip (1.0) → Adam
 * (0.9, 0.999) with lr warm-up over min(1000, 5%) steps and linear decay over the last 20% →
 * renormalise, EMA updates → firing counts and dead latents (dead.ts) → optional ReLU resampling.
 *
 * Data handling: one fixed-seed sample (seed 0, independent of every run's seeds, so a data seed
 * changes only the order) gives the input scale s with E‖s·x‖² = d, b_dec's initial value (geometric
 * median, Weiszfeld ≤ 100 iterations, of the first 4096 sampled rows) and the evaluation set for the
 * final metrics. SAEs train on s·x; results hold SAEs with s folded back (normalize.ts), which work
 * on raw activations. Reported MSE is in raw units; EV and L0 do not depend on s.
 *
 * Defaults for data of R rows (`defaultBatchSize`, `defaultSteps`): batch = the largest power of
 * two ≤ R/64, clamped to [32, 4096] (and ≤ R), so an epoch has ≥ 64 steps; steps = max(one epoch,
 * 8192). Measured on exactly-k data (d 64, 128 features, k 4, 50k rows, TopK m 128): what gt_mcc
 * needs is optimiser updates, not tokens — B 4096 × 4096 steps (16.8M tokens) gave 0.98 on seed 0 and
 * B 4096 × 2048 gave 0.94–0.97, while B 512 × 8192 steps (4.2M tokens, 84 epochs) gave 0.98–1.00
 * on five seeds in a quarter of the time.
 *
 * Determinism: results depend only on (run config, seeds, engine, thread count): not on the other
 * runs in the call (scratch is shared but fully rewritten each step; the sample seed is fixed).
 * sae/ never prints: progress goes to `onProgress`.
 *
 * Letters: B batch rows, D d_in, M d_sae.
 */
import { ConfigError, DataError, NumericError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { getEngine } from '../engine/index.js';
import type { Engine } from '../engine/types.js';
import { AdamState, clipGlobalNorm } from '../nn/optim.js';
import { ScratchPool } from '../nn/scratch.js';
import { DeadTracker } from './dead.js';
import { evaluateStep, totalVariance } from './evaluate.js';
import { geometricMedian } from './geomedian.js';
import { estimateInputScale, foldInputScale } from './normalize.js';
import { getArch, initSae, resolveConfig } from './registry.js';
import { defaultWarmupSteps, type LrSchedule, lrAt, sparsityScaleAt } from './schedule.js';
import {
  type BatchStream,
  type FinalMetrics,
  type RunConfig,
  type RunResult,
  SAMPLE_SEED,
  SMALL_STEP_WORK,
  type StepMetrics,
  type TrainOptions,
  DEFAULT_HYPER,
  defaultBatchSize,
  defaultSteps,
} from './train-config.js';
import type { Architecture, Sae, SaeConfig, SaeConfigInput, SaeStep, TensorMap } from './types.js';

export * from './train-config.js';

interface RunState {
  index: number;
  id: string;
  run: RunConfig;
  arch: Architecture;
  cfg: SaeConfig;
  hyper: RunResult['hyper'];
  sae: Sae;
  grads: TensorMap;
  adam: AdamState;
  step: SaeStep;
  dead: DeadTracker;
  sched: LrSchedule;
  rng: Rng;
  history: StepMetrics[];
  last: StepMetrics | null;
  error: Error | null;
}

/** Longest stretch of training between two turns of the event loop, in milliseconds. */
const YIELD_EVERY_MS = 200;

/** Trains every run; one pass over the data per epoch per data seed. Results in input order. */
export async function trainMany(source: BatchStream, runs: RunConfig[], opts: TrainOptions = {}): Promise<RunResult[]> {
  const e = opts.engine ?? getEngine();
  const D = source.d;
  const rows = source.length;
  const B = opts.batchSize ?? defaultBatchSize(rows);
  if (!Number.isInteger(B) || B < 1) throw new ConfigError(`batchSize = ${B}: expected a positive integer`);
  if (rows !== null && B > rows)
    throw new ConfigError(
      `batchSize = ${B} exceeds the ${rows} rows of ` +
        `${'name' in source ? String((source as { name: unknown }).name) : 'the data'}`,
    );
  if (opts.steps === undefined && rows === null)
    throw new ConfigError('steps must be given for a data stream of unknown length');
  const total = opts.steps ?? defaultSteps(rows as number, B);
  if (!Number.isInteger(total) || total < 1) throw new ConfigError(`steps = ${total}: expected a positive integer`);
  const logEvery = opts.logEvery ?? Math.max(1, Math.ceil(total / 100));
  const checkpoints = new Set(opts.checkpointSteps ?? []);

  // Fixed-seed sample: input scale, b_dec init, evaluation set.
  const statsRows = opts.statsRows ?? 4096;
  const evalWant = Math.max(B, opts.evalRows ?? 16384);
  const sampleRaw = await readSample(source, Math.max(statsRows, evalWant));
  const nSample = sampleRaw.length / D;
  if (nSample < B) throw new DataError(describe(source), 'rows', String(nSample), `at least one batch of ${B}`);
  const scale = opts.normalizeInputs === false ? 1 : estimateInputScale(sampleRaw, Math.min(nSample, statsRows), D);
  const sample = Float32Array.from(sampleRaw, (v) => v * scale);
  const nStats = Math.min(nSample, statsRows);
  const bDec0 = initBDec(opts.initBDec ?? 'geometric-median', sample, nStats, D);
  const nEval = Math.floor(Math.min(nSample, evalWant) / B) * B;
  const evalX = sample.subarray(0, nEval * D);
  const evalVar = totalVariance(evalX, nEval, D);
  checkVaries(source, sampleRaw, nSample, D);

  const pool = new ScratchPool();
  const states = runs.map((run, index) => makeState(run, index, D, rows, B, total, e, pool, bDec0));
  const engineThreads = e.info().threads;
  const want = opts.threads ?? 'auto';
  if (want !== 'auto' && (!Number.isInteger(want) || want < 1))
    throw new ConfigError(`threads = ${want}: expected 'auto' or an integer ≥ 1`);
  const threadsFor = (st: RunState): number =>
    want !== 'auto' ? want : B * D * st.cfg.dSae < SMALL_STEP_WORK ? 1 : engineThreads;
  let current = engineThreads;
  const useThreads = (n: number): void => {
    if (n !== current) e.setThreads(n);
    current = n;
  };
  try {
    await runAll();
    return states.map(finish);
  } finally {
    useThreads(engineThreads);
  }

  async function runAll(): Promise<void> {
    if (checkpoints.has(0) && opts.onCheckpoint) {
      for (const st of states) await checkpoint(st, 0, scale, opts.onCheckpoint);
    }
    // One pass per epoch per data seed.
    const groups = new Map<number, RunState[]>();
    for (const st of states) {
      const g = groups.get(st.run.dataSeed) ?? [];
      g.push(st);
      groups.set(st.run.dataSeed, g);
    }
    const xBD = new Float32Array(B * D);
    let lastYield = performance.now();
    for (const [dataSeed, group] of groups) {
      let step = 0;
      for (let epoch = 0; step < total; epoch++) {
        let seen = 0;
        for await (const batch of source.batches(B, { seed: dataSeed, epoch, keepLast: false })) {
          if (batch.rows !== B) continue;
          seen++;
          step++;
          const src = batch.data;
          for (let i = 0; i < B * D; i++) xBD[i] = src[i] * scale;
          let batchVar = NaN;
          const logging = step % logEvery === 0 || step === total;
          if (logging) batchVar = totalVariance(xBD, B, D);
          for (const st of group) {
            if (st.error) continue;
            useThreads(threadsFor(st));
            try {
              await trainStep(
                st,
                xBD,
                step,
                total,
                e,
                B,
                logging,
                batchVar,
                scale,
                checkpoints.has(step) ? opts.onCheckpoint : undefined,
              );
            } catch (err) {
              if (!(err instanceof NumericError) || opts.failFast !== false) throw err;
              st.error = err;
            }
            opts.onProgress?.({ runIndex: st.index, runId: st.id, step, totalSteps: total, metrics: st.last });
          }
          if (step >= total) break;
          // Yield to the event loop now and then: an in-memory batch stream resolves in microtasks
          // only, so without this a long run would starve timers, signals and IPC (progress output,
          // SIGINT, a test runner's heartbeat). Numerics are untouched.
          if (performance.now() - lastYield > YIELD_EVERY_MS) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            lastYield = performance.now();
          }
        }
        if (seen === 0)
          throw new DataError(
            describe(source),
            `epoch ${epoch} (data seed ${dataSeed})`,
            'no full batch',
            `at least one batch of ${B} rows`,
          );
      }
    }
  }

  function finish(st: RunState): RunResult {
    let final: FinalMetrics | null = null;
    if (!st.error) {
      useThreads(threadsFor(st));
      const ev = evaluateStep(st.step, evalX, nEval, D, st.cfg.dSae, evalVar);
      final = {
        mse: ev.mse / (scale * scale),
        explained_variance: ev.explainedVariance,
        l0: ev.l0,
        n_dead: st.dead.deadCount,
        dead_fraction: st.dead.deadCount / st.cfg.dSae,
        dense_fraction: ev.denseFraction,
        steps: total,
        tokens: st.dead.tokensSeen,
      };
    }
    return {
      id: st.id,
      index: st.index,
      seed: st.run.seed,
      dataSeed: st.run.dataSeed,
      cfg: st.cfg,
      hyper: st.hyper,
      batchSize: B,
      steps: total,
      inputScale: scale,
      sae: foldInputScale(st.sae, scale),
      history: st.history,
      final,
      error: st.error,
    };
  }
}

function makeState(
  run: RunConfig,
  index: number,
  D: number,
  rows: number | null,
  B: number,
  total: number,
  e: Engine,
  pool: ScratchPool,
  bDec0: Float32Array,
): RunState {
  const id = run.id ?? `run${index}`;
  if (run.sae.dIn !== undefined && run.sae.dIn !== D)
    throw new ConfigError(`${id}: sae.dIn = ${run.sae.dIn} but the data have d = ${D}`);
  const arch = getArch(run.sae.arch);
  const cfg = resolveConfig({ ...run.sae, dIn: D } as SaeConfigInput);
  const h = { ...DEFAULT_HYPER, ...run.hyper };
  const hyper = {
    ...h,
    lr: h.lr ?? arch.defaultLr(cfg),
    warmupSteps: h.warmupSteps ?? defaultWarmupSteps(total),
    deadWindowTokens: h.deadWindowTokens ?? Math.min(10_000_000, Math.max(B, rows ?? 10_000_000)),
  };
  if (!(hyper.lr > 0)) throw new ConfigError(`${id}: lr = ${hyper.lr}: expected > 0`);
  if (hyper.resampleEvery !== null && !arch.resample)
    throw new ConfigError(`${id}: resampleEvery is set but ${cfg.arch} has no resampling (relu only)`);
  const sae = initSae(cfg, run.seed);
  sae.params.b_dec.set(bDec0);
  const grads: TensorMap = {};
  for (const [n, t] of Object.entries(sae.params)) grads[n] = new Float32Array(t.length);
  return {
    index,
    id,
    run,
    arch,
    cfg,
    hyper,
    sae,
    grads,
    adam: new AdamState(sae.params),
    step: arch.createStep(sae, B, e, pool),
    dead: new DeadTracker(cfg.dSae, hyper.deadWindowTokens),
    sched: { lr: hyper.lr, totalSteps: total, warmupSteps: hyper.warmupSteps, decayFraction: hyper.decayFraction },
    rng: Rng.from(run.seed, 'resample'),
    history: [],
    last: null,
    error: null,
  };
}

async function trainStep(
  st: RunState,
  x: Float32Array,
  step: number,
  total: number,
  e: Engine,
  B: number,
  logging: boolean,
  batchVar: number,
  scale: number,
  onCheckpoint: TrainOptions['onCheckpoint'],
): Promise<void> {
  const { hyper, sae, grads } = st;
  const lr = lrAt(st.sched, step);
  const sp = sparsityScaleAt(step, total, hyper.sparsityWarmupFraction);
  const parts = st.step.forward(x, {
    mode: 'train',
    sparsityScale: sp,
    dead: st.dead.deadCount > 0 ? st.dead.dead : null,
  });
  if (!Number.isFinite(parts.loss)) {
    const bad = firstNonFinite(sae.params);
    throw new NumericError(
      `${st.id}: step ${step}: loss is ${parts.loss}${bad ? `; tensor ${bad} has non-finite values` : ''}`,
      'lower the learning rate or check the input data for NaN/Inf',
    );
  }
  st.step.backward(grads);
  st.step.constrainGrads(grads);
  const clip = clipGlobalNorm(e, grads, hyper.clipNorm);
  if (clip.nonFinite)
    throw new NumericError(
      `${st.id}: step ${step}: gradient of ${clip.nonFinite} is not finite`,
      'lower the learning rate',
    );
  st.adam.step(e, sae.params, grads, {
    lr,
    beta1: hyper.beta1,
    beta2: hyper.beta2,
    eps: hyper.eps,
    step,
    weightDecay: 0,
  });
  st.step.afterUpdate(step, total);
  st.step.countFiring(st.dead.stepCounts);
  st.dead.update(B);
  if (hyper.resampleEvery !== null && step % hyper.resampleEvery === 0 && step < total * (1 - hyper.decayFraction))
    resample(st, x, B);
  if (logging) {
    const bad = firstNonFinite(sae.params);
    if (bad)
      throw new NumericError(`${st.id}: step ${step}: tensor ${bad} has non-finite values`, 'lower the learning rate');
    st.last = {
      step,
      tokens: st.dead.tokensSeen,
      lr,
      loss: parts.loss,
      mse: parts.mse,
      aux: parts.aux,
      sparsity: parts.sparsity,
      explainedVariance: 1 - (parts.mse * B) / batchVar,
      l0: parts.l0,
      deadFraction: st.dead.deadCount / st.cfg.dSae,
      denseFraction: st.dead.takeDenseFraction(0.1),
      gradNorm: clip.norm,
    };
    st.history.push(st.last);
  }
  if (onCheckpoint) await checkpoint(st, step, scale, onCheckpoint);
}

/** Hands a raw-unit snapshot (step 0: the initialisation, for init-hygiene comparisons) to the callback. */
async function checkpoint(
  st: RunState,
  step: number,
  scale: number,
  onCheckpoint: NonNullable<TrainOptions['onCheckpoint']>,
): Promise<void> {
  const snap = foldInputScale(st.sae, scale);
  await onCheckpoint({
    runIndex: st.index,
    runId: st.id,
    step,
    sae: snap,
    metadata: {
      seed: st.run.seed,
      data_seed: st.run.dataSeed,
      steps: step,
      tokens: st.dead.tokensSeen,
      input_scale: scale,
    },
  });
}

function resample(st: RunState, x: Float32Array, B: number): void {
  const D = st.cfg.dIn;
  const errSq = new Float64Array(B);
  const recon = st.step.recon;
  for (let r = 0; r < B; r++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += (recon[r * D + d] - x[r * D + d]) ** 2;
    errSq[r] = s;
  }
  st.arch.resample?.(st.sae, {
    x,
    rows: B,
    errSq,
    dead: st.dead.dead,
    rng: st.rng,
    resetMoments: (name, start, len) => st.adam.resetRange(name, start, len),
    resetMomentsColumn: (name, col, r, c) => st.adam.resetColumn(name, col, r, c),
  });
}

function firstNonFinite(m: TensorMap): string | null {
  for (const [name, t] of Object.entries(m)) {
    for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i])) return name;
  }
  return null;
}

function initBDec(kind: 'geometric-median' | 'mean' | 'zero', x: Float32Array, N: number, D: number): Float32Array {
  if (kind === 'zero') return new Float32Array(D);
  if (kind === 'mean') return Float32Array.from(geometricMedian(x, N, D, 0).median);
  return Float32Array.from(geometricMedian(x, N, D, 100).median);
}

/**
 * The first `want` rows (fewer if the data are shorter) of the fixed-seed order (SAMPLE_SEED):
 * the sample the trainer takes its input scale, b_dec init and evaluation set from, and the study
 * its firing frequencies.
 */
export async function readSample(source: BatchStream, want: number): Promise<Float32Array> {
  const D = source.d;
  const n = source.length === null ? want : Math.min(want, source.length);
  const out = new Float32Array(n * D);
  let at = 0;
  for await (const b of source.batches(Math.min(n, 4096), { seed: SAMPLE_SEED, epoch: 0, keepLast: true })) {
    const take = Math.min(b.rows, n - at);
    out.set(b.data.subarray(0, take * D), at * D);
    at += take;
    if (at >= n) break;
  }
  return out.subarray(0, at * D);
}

/**
 * Refuses data without variance before any step: every sampled row the same (all zeros included),
 * an SAE has nothing to explain and explained variance would be 0/0. Relative to the mean square, so
 * float rounding of identical rows does not count as variance.
 */
function checkVaries(source: BatchStream, xND: Float32Array, N: number, D: number): void {
  let sq = 0;
  for (let i = 0; i < N * D; i++) sq += xND[i] * xND[i];
  const v = totalVariance(xND, N, D);
  if (v <= 1e-12 * sq) {
    const what = sq === 0 ? 'every value 0' : 'every row the same';
    throw new DataError(
      describe(source),
      'variance',
      `0 over the ${N} sampled rows (${what})`,
      'rows that vary',
      'check that the file holds the activations you meant (an empty hook, a constant input?)',
    );
  }
}

function describe(source: BatchStream): string {
  return 'name' in source ? String((source as { name: unknown }).name) : 'activation source';
}

/**
 * SAELens metadata for a finished run (docs/FORMATS.md: husai adds seed, data_seed, steps, tokens,
 * final_l0, n_dead, explained_variance and the full training config), for save.ts / writeSaeLens.
 */
export function runMetadata(r: RunResult): Record<string, unknown> {
  return {
    seed: r.seed,
    data_seed: r.dataSeed,
    steps: r.steps,
    tokens: r.final?.tokens ?? null,
    final_l0: r.final?.l0 ?? null,
    n_dead: r.final?.n_dead ?? null,
    explained_variance: r.final?.explained_variance ?? null,
    training: {
      run: r.id,
      sae: r.cfg,
      hyper: r.hyper,
      batch_size: r.batchSize,
      steps: r.steps,
      input_scale: r.inputScale,
      sample_seed: SAMPLE_SEED,
    },
  };
}
