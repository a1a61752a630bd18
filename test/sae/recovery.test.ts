/**
 * End-to-end: TopK with default hyperparameters recovers the ground-truth features of exactly-k
 * data (SCIENCE.md §5; Song et al. report GT-MCC 0.97 in the matched regime). d = 32, 64 true
 * unit features, k = 3, 20,000 samples, width 64; steps cut to 3000 (default 8192) to keep the
 * suite fast on the reference engine. test/sae/bench-e2e.ts runs the full-size acceptance case.
 */
import { describe, expect, it } from 'vitest';
import { trainMany } from '../../src/sae/train.js';
import { exactK, gtMcc, memoryStream } from './exactk.js';

describe('TopK recovers exactly-k ground truth', () => {
  it('trainMany(exact-k d=32 F=64 k=3 n=20000, topk m=64 k=3, 3000 steps) reaches gt_mcc ≥ 0.9', async () => {
    const data = exactK(1, 20_000, 32, 64, 3);
    const [r] = await trainMany(memoryStream(data.xND, data.n, data.d), [{ sae: { arch: 'topk', dSae: 64, k: 3 }, seed: 1, dataSeed: 1 }], { steps: 3000 });
    const mcc = gtMcc(data.gtFD, 64, r.sae.params.W_dec, 64, 32);
    expect(r.batchSize).toBe(256);
    expect(mcc).toBeGreaterThanOrEqual(0.9);
    expect(r.final?.explained_variance).toBeGreaterThan(0.8);
    expect(r.final?.l0).toBeCloseTo(3, 1);
  });

  it('gtMcc(G, G) = 1 and gtMcc is invariant to atom order, sign-sensitive and scale-free', () => {
    const data = exactK(2, 1, 8, 6, 1);
    expect(gtMcc(data.gtFD, 6, data.gtFD, 6, 8)).toBeCloseTo(1, 6);
    const perm = new Float32Array(data.gtFD.length);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 8; j++) perm[((i + 2) % 6) * 8 + j] = 3 * data.gtFD[i * 8 + j];
    expect(gtMcc(data.gtFD, 6, perm, 6, 8)).toBeCloseTo(1, 6);
    const neg = Float32Array.from(data.gtFD, (v) => -v);
    expect(gtMcc(data.gtFD, 6, neg, 6, 8)).toBeLessThan(0.5);
  });
});
