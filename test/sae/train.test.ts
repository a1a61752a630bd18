import { describe, expect, it } from 'vitest';
import type { Mat } from '../../src/core/mat.js';
import { NumericError } from '../../src/core/errors.js';
import { evaluateStep } from '../../src/sae/evaluate.js';
import { getArch } from '../../src/sae/registry.js';
import { type BatchStream, type RunConfig, trainMany } from '../../src/sae/train.js';
import { ARCH_CASES } from './arch-table.js';
import { exactK, memoryStream } from './exactk.js';
import { engine } from './helpers.js';

const data = exactK(1, 2048, 16, 24, 3);
// Large offset and scale, so input scaling and b_dec matter.
const raw = Float32Array.from(data.xND, (v, i) => 30 * v + (i % 16 === 0 ? 50 : 0));
const stream = () => memoryStream(raw, data.n, data.d);
const topkRun = (seed: number, dataSeed: number, id?: string): RunConfig => ({
  id,
  sae: { arch: 'topk', dSae: 32, k: 3 },
  seed,
  dataSeed,
});
const opts = { batchSize: 128, steps: 60, evalRows: 512 };

function bytes(r: { sae: { params: Record<string, Float32Array> } }): string {
  return Object.entries(r.sae.params)
    .map(([n, t]) => n + Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('base64'))
    .join('|');
}

/** Counts batches() calls per seed. */
function counting(inner: BatchStream): BatchStream & { calls: Map<number, number> } {
  const calls = new Map<number, number>();
  return {
    d: inner.d,
    length: inner.length,
    calls,
    batches(b: number, o: { seed: number; epoch?: number; keepLast?: boolean }): AsyncIterable<Mat> {
      calls.set(o.seed, (calls.get(o.seed) ?? 0) + 1);
      return inner.batches(b, o);
    },
  };
}

describe('trainMany(source, runs, opts)', () => {
  it('same seed, dataSeed, config and engine → byte-identical parameters; another seed differs', async () => {
    const [a] = await trainMany(stream(), [topkRun(3, 7)], opts);
    const [b] = await trainMany(stream(), [topkRun(3, 7)], opts);
    const [c] = await trainMany(stream(), [topkRun(4, 7)], opts);
    expect(bytes(a)).toBe(bytes(b));
    expect(bytes(a)).not.toBe(bytes(c));
    expect(a.history).toEqual(b.history);
  });

  it('a run gives the same bytes alone or among others (shared scratch, shared pass)', async () => {
    const alone = await trainMany(stream(), [topkRun(3, 7)], opts);
    const together = await trainMany(
      stream(),
      [
        { sae: { arch: 'relu', dSae: 40 }, seed: 1, dataSeed: 7 },
        topkRun(3, 7),
        { sae: { arch: 'batchtopk', dSae: 32, k: 3 }, seed: 2, dataSeed: 9 },
      ],
      opts,
    );
    expect(bytes(together[1])).toBe(bytes(alone[0]));
  });

  it('iterates the stream once per epoch per data seed, not once per run', async () => {
    const src = counting(stream());
    // 2048 rows / 128 = 16 batches per epoch; 40 steps → 3 epochs.
    const res = await trainMany(src, [topkRun(1, 5), topkRun(2, 5), topkRun(3, 6)], { ...opts, steps: 40 });
    expect(src.calls.get(5)).toBe(3);
    expect(src.calls.get(6)).toBe(3);
    expect(res.map((r) => r.final?.steps)).toEqual([40, 40, 40]);
    expect(res.map((r) => r.final?.tokens)).toEqual([40 * 128, 40 * 128, 40 * 128]);
    expect(res.map((r) => [r.seed, r.dataSeed])).toEqual([
      [1, 5],
      [2, 5],
      [3, 6],
    ]);
  });

  it('folds the input scale back: the returned SAE on raw x matches the training-time EV on scaled x', async () => {
    const [r] = await trainMany(stream(), [topkRun(0, 0)], { ...opts, steps: 150 });
    expect(r.inputScale).toBeLessThan(0.2);
    const step = getArch('topk').createStep(r.sae, 128, engine());
    const ev = evaluateStep(step, raw.subarray(0, 512 * 16), 512, 16, 32);
    expect(r.final).not.toBeNull();
    expect(ev.explainedVariance).toBeGreaterThan(0.5);
    // The final metrics were computed in scaled units on the fixed-seed sample; same rows, other order.
    expect(Math.abs(ev.explainedVariance - (r.final?.explained_variance ?? 0))).toBeLessThan(0.05);
    expect(ev.l0).toBeCloseTo(3, 0);
  });

  it('logs metrics, reports progress every step and hands checkpoints at the chosen steps', async () => {
    const seen: number[] = [];
    const ckpt: Array<[number, string]> = [];
    const [r] = await trainMany(stream(), [topkRun(0, 0, 'a')], {
      ...opts,
      steps: 30,
      logEvery: 10,
      checkpointSteps: [0, 10, 30],
      onProgress: (p) => seen.push(p.step),
      onCheckpoint: (c) => {
        ckpt.push([c.step, c.sae.cfg.arch]);
        expect(c.metadata.steps).toBe(c.step);
      },
    });
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(ckpt).toEqual([
      [0, 'topk'],
      [10, 'topk'],
      [30, 'topk'],
    ]);
    expect(r.history.map((h) => h.step)).toEqual([10, 20, 30]);
    for (const h of r.history) {
      expect(h.l0).toBeCloseTo(3, 5);
      expect(h.explainedVariance).toBeGreaterThan(-1);
      expect(h.explainedVariance).toBeLessThan(1);
      expect(h.deadFraction).toBeGreaterThanOrEqual(0);
    }
  });

  it("threads: 'auto' steps small SAEs on 1 thread and restores the engine's setting afterwards", async () => {
    const e = engine();
    const before = e.info().threads;
    const seen: number[] = [];
    await trainMany(stream(), [topkRun(0, 0)], { ...opts, steps: 3, onProgress: () => seen.push(e.info().threads) });
    expect(e.info().threads).toBe(before);
    if (e.name === 'native') expect(seen).toEqual([1, 1, 1]);
    await expect(trainMany(stream(), [topkRun(0, 0)], { ...opts, threads: 0 })).rejects.toThrow(/threads = 0/);
  });

  it('stops a run with a NumericError naming the run and step when the loss is not finite', async () => {
    const bad = Float32Array.from(raw);
    bad.fill(NaN, 0, 16 * 2048);
    const src = memoryStream(bad, data.n, data.d);
    const o = { ...opts, normalizeInputs: false, initBDec: 'zero' as const };
    await expect(trainMany(src, [topkRun(0, 0, 'bad')], o)).rejects.toThrow(/bad: step 1: loss is NaN/);
    const res = await trainMany(src, [topkRun(0, 0, 'bad')], { ...o, failFast: false });
    expect(res[0].error).toBeInstanceOf(NumericError);
    expect(res[0].final).toBeNull();
  });

  it('trains every registered architecture a few steps with finite metrics (relu with resampling)', async () => {
    const runs: RunConfig[] = ARCH_CASES.map((c, i) => ({
      id: c.title,
      seed: i,
      dataSeed: 0,
      sae: { ...c.input, dIn: undefined, dSae: 32 },
      hyper: c.title === 'relu (constrained-2023)' ? { resampleEvery: 20 } : {},
    }));
    const res = await trainMany(stream(), runs, { ...opts, steps: 60 });
    for (const r of res) {
      expect(r.error, r.id).toBeNull();
      expect(Number.isFinite(r.final?.mse), r.id).toBe(true);
      expect(r.final?.explained_variance, r.id).toBeGreaterThan(0);
    }
    const bt = res.find((r) => r.cfg.arch === 'batchtopk');
    expect(bt?.sae.buffers.threshold[0]).toBeGreaterThan(0);
  });
});
