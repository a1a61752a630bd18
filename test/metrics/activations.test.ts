import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ActivationSimilarityAccumulator,
  activationSimilarity,
  effectiveRank,
  type ActivationSimilarity,
  type PerLatentMax,
} from '../../src/metrics/activations.js';
import { ConfigError, DataError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';

// Golden numbers from numpy (test/golden/metrics2/make_golden.py): T = 40 tokens, A has 6 latents
// (latent 2 dead), B has 5 (latent 4 dead); inputs are float32-exact.
const G = JSON.parse(readFileSync(new URL('../golden/metrics2/golden.json', import.meta.url), 'utf8')).activations;
const actsA: Mat = { data: Float32Array.from(G.actsA), rows: G.T, cols: G.mA };
const actsB: Mat = { data: Float32Array.from(G.actsB), rows: G.T, cols: G.mB };

// The per-batch products go through a float32 GEMM, so ~1e-7 relative; 1e-5 leaves margin.
const TOL = 1e-5;

function expectPerLatent(got: PerLatentMax, want: { value: (number | null)[]; partner: number[]; mean: number }): void {
  expect(Array.from(got.partner)).toEqual(want.partner);
  want.value.forEach((v, i) => {
    if (v === null) expect(got.value[i]).toBeNaN();
    else expect(Math.abs(got.value[i] - v)).toBeLessThan(TOL);
  });
  expect(Math.abs(got.mean - want.mean)).toBeLessThan(TOL);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('activationSimilarity(actsA, actsB, opts) against numpy', () => {
  const r = activationSimilarity(actsA, actsB);

  it('pearson.ab / pearson.ba: max correlation per live latent, partners and live means', () => {
    expectPerLatent(r.pearson.ab, G.pearsonAB);
    expectPerLatent(r.pearson.ba, G.pearsonBA);
  });

  it('masked.ab / masked.ba: max correlation over tokens where either latent fires', () => {
    expectPerLatent(r.masked.ab, G.maskedAB);
    expectPerLatent(r.masked.ba, G.maskedBA);
  });

  it('jaccard.ab / jaccard.ba: max Jaccard of firing sets', () => {
    expectPerLatent(r.jaccard.ab, G.jaccardAB);
    expectPerLatent(r.jaccard.ba, G.jaccardBA);
  });

  it('cka, effectiveRankA/B and svcca match numpy', () => {
    expect(Math.abs(r.cka - G.cka)).toBeLessThan(TOL);
    expect(Math.abs(r.effectiveRankA - G.effectiveRankA)).toBeLessThan(TOL);
    expect(Math.abs(r.effectiveRankB - G.effectiveRankB)).toBeLessThan(TOL);
    expect(r.svcca!.keptA).toBe(G.svcca.keptA);
    expect(r.svcca!.keptB).toBe(G.svcca.keptB);
    expect(maxDiff(r.svcca!.correlations, G.svcca.correlations)).toBeLessThan(TOL);
    expect(Math.abs(r.svcca!.mean - G.svcca.mean)).toBeLessThan(TOL);
  });

  it('dead latents are excluded from the averages and counted (deadA = 1, deadB = 1)', () => {
    expect(r.deadA).toBe(1);
    expect(r.deadB).toBe(1);
    expect(r.liveA[2]).toBe(0);
    expect(r.liveB[4]).toBe(0);
    expect(r.freqA[2]).toBe(0);
    // No live latent picks a dead partner.
    expect(Array.from(r.pearson.ab.partner)).not.toContain(4);
    expect(Array.from(r.masked.ba.partner)).not.toContain(2);
  });

  it('pearsonMatrix() and maskedPearsonMatrix() match numpy for every pair (dead pairs score 0)', () => {
    const acc = new ActivationSimilarityAccumulator(G.mA, G.mB);
    acc.update(actsA, actsB);
    expect(maxDiff(acc.pearsonMatrix(), G.pearsonMatrix.flat())).toBeLessThan(TOL);
    expect(maxDiff(acc.maskedPearsonMatrix(), G.maskedMatrix.flat())).toBeLessThan(TOL);
  });
});

describe('ActivationSimilarityAccumulator.update(actsA [B×mA], actsB [B×mB]) streaming', () => {
  function compare(x: ActivationSimilarity, y: ActivationSimilarity, tol: number): void {
    for (const k of ['pearson', 'masked', 'jaccard'] as const) {
      for (const dir of ['ab', 'ba'] as const) {
        expect(Array.from(x[k][dir].partner)).toEqual(Array.from(y[k][dir].partner));
        expect(Math.abs(x[k][dir].mean - y[k][dir].mean)).toBeLessThan(tol);
      }
    }
    expect(Math.abs(x.cka - y.cka)).toBeLessThan(tol);
    expect(Math.abs(x.effectiveRankA - y.effectiveRankA)).toBeLessThan(tol);
    expect(Math.abs(x.svcca!.mean - y.svcca!.mean)).toBeLessThan(tol);
  }

  it('batches of 7 give the one-batch result', () => {
    const one = activationSimilarity(actsA, actsB, { batchRows: 40 });
    const seven = activationSimilarity(actsA, actsB, { batchRows: 7 });
    const single = activationSimilarity(actsA, actsB, { batchRows: 1 });
    compare(one, seven, 1e-6);
    compare(one, single, 1e-6);
    expect(seven.tokens).toBe(40);
  });

  it('large-mean activations (offset 1000) stream without cancellation: CKA and ρ equal the unshifted ones', () => {
    // Dense activations with a big common offset: raw sums would lose ~6 digits; merged centred
    // moments keep them. Shift-invariant metrics must not move.
    const rng = Rng.from(11, 'acts');
    const T = 300;
    const x = new Float32Array(T * 4);
    const y = new Float32Array(T * 3);
    rng.fillNormal(x);
    for (let t = 0; t < T; t++) for (let j = 0; j < 3; j++) y[t * 3 + j] = x[t * 4 + j] + 0.5 * rng.normal();
    const xs = x.map((v) => v + 1000);
    const ys = y.map((v) => v + 1000);
    const base = activationSimilarity({ data: x, rows: T, cols: 4 }, { data: y, rows: T, cols: 3 }, { batchRows: 7 });
    const shifted = activationSimilarity(
      { data: xs, rows: T, cols: 4 },
      { data: ys, rows: T, cols: 3 },
      { batchRows: 7 },
    );
    // float32 storage of x + 1000 itself rounds to ~6e-5, which bounds agreement.
    expect(Math.abs(base.cka - shifted.cka)).toBeLessThan(1e-4);
    expect(maxDiff(base.pearson.ab.value, shifted.pearson.ab.value)).toBeLessThan(1e-4);
  });

  it('finish() does not consume the accumulator: more batches may follow', () => {
    const acc = new ActivationSimilarityAccumulator(G.mA, G.mB);
    acc.update(
      { data: actsA.data.subarray(0, 20 * G.mA), rows: 20, cols: G.mA },
      { data: actsB.data.subarray(0, 20 * G.mB), rows: 20, cols: G.mB },
    );
    acc.finish();
    acc.update(
      { data: actsA.data.subarray(20 * G.mA), rows: 20, cols: G.mA },
      { data: actsB.data.subarray(20 * G.mB), rows: 20, cols: G.mB },
    );
    expect(Math.abs(acc.finish().cka - G.cka)).toBeLessThan(TOL);
  });

  it('within: false skips CKA/SVCCA/effective rank; spectral: false keeps CKA only', () => {
    const noWithin = activationSimilarity(actsA, actsB, { within: false });
    expect(noWithin.cka).toBeNaN();
    expect(noWithin.svcca).toBeNull();
    expect(Math.abs(noWithin.pearson.ab.mean - G.pearsonAB.mean)).toBeLessThan(TOL);
    const noSpectral = activationSimilarity(actsA, actsB, { spectral: false });
    expect(Math.abs(noSpectral.cka - G.cka)).toBeLessThan(TOL);
    expect(noSpectral.effectiveRankA).toBeNaN();
  });

  it('identical activations: ρ = masked = Jaccard = CKA = SVCCA = 1 for live latents', () => {
    const r = activationSimilarity(actsA, actsA);
    for (const k of ['pearson', 'masked', 'jaccard'] as const) expect(r[k].ab.mean).toBeCloseTo(1, 6);
    expect(r.cka).toBeCloseTo(1, 6);
    expect(r.svcca!.mean).toBeCloseTo(1, 6);
    expect(Array.from(r.pearson.ab.partner)).toEqual([0, 1, -1, 3, 4, 5]);
  });

  it('update throws ShapeError on mismatched batches and DataError on NaN; finish needs ≥ 2 tokens', () => {
    const acc = new ActivationSimilarityAccumulator(2, 2);
    expect(() =>
      acc.update({ data: new Float32Array(4), rows: 2, cols: 2 }, { data: new Float32Array(6), rows: 3, cols: 2 }),
    ).toThrow(ShapeError);
    expect(() =>
      acc.update(
        { data: new Float32Array([1, NaN]), rows: 1, cols: 2 },
        { data: new Float32Array(2), rows: 1, cols: 2 },
      ),
    ).toThrow(DataError);
    expect(() => acc.finish()).toThrow(ConfigError);
    expect(() => new ActivationSimilarityAccumulator(0, 3)).toThrow(ConfigError);
  });

  it('all latents dead on one side: means are NaN, dead counts are full', () => {
    const r = activationSimilarity(actsA, { data: new Float32Array(40 * 3), rows: 40, cols: 3 });
    expect(r.deadB).toBe(3);
    expect(r.pearson.ab.mean).toBeNaN();
    expect(r.pearson.ba.mean).toBeNaN();
    expect(r.effectiveRankB).toBeNaN();
    expect(r.svcca).toBeNull();
  });
});

describe('effectiveRank(singularValues)', () => {
  it('effectiveRank([1, 1, 1, 1]) = 4, effectiveRank([5, 0, 0]) = 1, effectiveRank([0]) = NaN', () => {
    expect(effectiveRank([1, 1, 1, 1])).toBeCloseTo(4, 12);
    expect(effectiveRank([5, 0, 0])).toBe(1);
    expect(effectiveRank([0])).toBeNaN();
    expect(() => effectiveRank([1, -1])).toThrow(ConfigError);
  });
});
