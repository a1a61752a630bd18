/**
 * Training-speed measurement for `husai bench train`: the real trainer (trainMany, every per-step
 * piece included: forward, backward, decoder projection, clipping, Adam, renormalisation, firing
 * counts) on Gaussian random data, timed per step from the progress callback. Reported: the
 * median step time after warm-up, and steps/s. A measurement, never a test.
 */
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import { archNames, getArch } from '../sae/registry.js';
import { type BatchStream, trainMany } from '../sae/train.js';
import type { ArchName } from '../sae/types.js';

interface TrainBenchOptions {
  arch: ArchName;
  batch: number;
  d: number;
  width: number;
  /** TopK family only. */
  k?: number;
  /** Timed steps (after `warmup`). */
  steps: number;
  warmup: number;
}

interface TrainBenchResult extends TrainBenchOptions {
  medianStepSeconds: number;
  stepsPerSecond: number;
  /** L0 at the last logged step (dense ReLU at init runs near m/2). */
  l0: number | null;
}

/** Four distinct random batches, served in turn: data loading costs nothing next to the step. */
function randomStream(B: number, D: number): BatchStream {
  const batches: Mat[] = Array.from({ length: 4 }, (_, i) => {
    const data = new Float32Array(B * D);
    Rng.from(i, 'bench-train-x').fillNormal(data);
    return { data, rows: B, cols: D };
  });
  return {
    d: D,
    length: 4 * B,
    async *batches() {
      yield* batches;
    },
  };
}

export async function benchTrain(o: TrainBenchOptions): Promise<TrainBenchResult> {
  if (!archNames().includes(o.arch)) throw new RangeError(`unknown architecture ${o.arch}`);
  const topkFamily = getArch(o.arch).fields.includes('k');
  const total = o.warmup + o.steps + 1;
  const stamps: number[] = [];
  let l0: number | null = null;
  await trainMany(
    randomStream(o.batch, o.d),
    [
      {
        id: 'bench',
        sae: { arch: o.arch, dSae: o.width, ...(topkFamily ? { k: o.k ?? 32 } : {}) },
        seed: 0,
        dataSeed: 0,
      },
    ],
    {
      batchSize: o.batch,
      steps: total,
      logEvery: total,
      statsRows: o.batch,
      evalRows: o.batch,
      threads: 'auto',
      onProgress: (p) => {
        stamps.push(performance.now());
        if (p.metrics) l0 = p.metrics.l0;
      },
    },
  );
  const times: number[] = [];
  for (let i = o.warmup + 1; i < stamps.length; i++) times.push((stamps[i] - stamps[i - 1]) / 1000);
  times.sort((a, b) => a - b);
  const h = times.length >> 1;
  const med = times.length % 2 ? times[h] : (times[h - 1] + times[h]) / 2;
  return { ...o, medianStepSeconds: med, stepsPerSecond: 1 / med, l0 };
}
