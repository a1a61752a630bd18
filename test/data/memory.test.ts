import { describe, expect, it } from 'vitest';
import { memorySource } from '../../src/data/memory.js';
import { collect, labelled, range } from './helpers.js';

describe('memorySource', () => {
  const n = 1003;
  const src = memorySource({ data: labelled(n, 5), rows: n, cols: 5 }, 'test');

  it('memorySource(mat) reports name, d and length', () => {
    expect([src.name, src.d, src.length]).toEqual(['test', 5, n]);
  });

  it('batches(100, {seed}) yields every row exactly once with its full contents, last batch short', async () => {
    const { labels, sizes, rows } = await collect(src, 100, { seed: 1 });
    expect([...labels].sort((a, b) => a - b)).toEqual(range(n));
    expect(sizes).toEqual([...Array(10).fill(100), 3]);
    const want = labelled(n, 5);
    rows.forEach((row, i) =>
      expect(Array.from(row)).toEqual(Array.from(want.subarray(labels[i] * 5, labels[i] * 5 + 5))),
    );
  });

  it('batches(100, {seed, keepLast: false}) drops the short final batch', async () => {
    const { sizes } = await collect(src, 100, { seed: 1, keepLast: false });
    expect(sizes).toEqual(Array(10).fill(100));
  });

  it('batches order: same (seed, epoch) → same order; another seed or epoch → another order', async () => {
    const a = (await collect(src, 64, { seed: 5, epoch: 2 })).labels;
    const b = (await collect(src, 64, { seed: 5, epoch: 2 })).labels;
    const c = (await collect(src, 64, { seed: 6, epoch: 2 })).labels;
    const e = (await collect(src, 64, { seed: 5, epoch: 3 })).labels;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(e);
    expect((await collect(src, 64, { seed: 5 })).labels).toEqual(
      (await collect(src, 64, { seed: 5, epoch: 0 })).labels,
    );
  });

  it('batches order does not depend on the batch size', async () => {
    expect((await collect(src, 7, { seed: 9 })).labels).toEqual((await collect(src, 500, { seed: 9 })).labels);
  });

  it('batches order is shuffled (not the identity, position and label nearly uncorrelated)', async () => {
    const { labels } = await collect(src, 100, { seed: 3 });
    const mean = (n - 1) / 2;
    let cov = 0;
    let v = 0;
    labels.forEach((l, i) => {
      cov += (l - mean) * (i - mean);
      v += (i - mean) ** 2;
    });
    expect(Math.abs(cov / v)).toBeLessThan(0.15);
  });

  it('batches(0 | 1.5, …) and a bad seed or epoch throw ConfigErrors naming the value', async () => {
    await expect(collect(src, 0, { seed: 1 })).rejects.toThrow(/batchSize = 0/);
    await expect(collect(src, 1.5, { seed: 1 })).rejects.toThrow(/batchSize = 1.5/);
    await expect(collect(src, 10, { seed: 1, epoch: -1 })).rejects.toThrow(/epoch = -1/);
    await expect(collect(src, 10, { seed: 0.5 })).rejects.toThrow(/seed = 0.5/);
  });

  it('batches over an empty matrix yields nothing', async () => {
    const empty = memorySource({ data: new Float32Array(0), rows: 0, cols: 4 });
    expect((await collect(empty, 10, { seed: 1 })).sizes).toEqual([]);
  });
});
