import { describe, expect, it } from 'vitest';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import {
  benjaminiHochberg,
  bootstrapPairsCI,
  bootstrapSeedsCI,
  cohensD,
  holm,
  mannWhitneyU,
  normalSf,
  permutationPValue,
  permutationTest,
  quantileSorted,
  resampledPairMean,
} from '../../src/metrics/stats.js';
import { golden } from './golden.js';

interface StatsGolden {
  mannwhitney: Array<{ name: string; x: number[]; y: number[]; method: 'asymptotic' | 'exact'; U: number; p: number }>;
  normal_sf: Array<{ z: number; sf: number }>;
  multitest: Array<{ p: number[]; holm: number[]; bh: number[] }>;
  cohens_d: Array<{ x: number[]; y: number[]; d: number }>;
  quantile: { values: number[]; qs: number[]; quantiles: number[] };
  pairs: { S: number; M: Array<Array<number | null>>; mean: number };
}
const G = golden<StatsGolden>('stats.json');
const pairM = G.pairs.M.map((row) => row.map((v) => (v === null ? NaN : v)));

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

describe('stats: golden values from scipy / numpy', () => {
  for (const c of G.mannwhitney) {
    it(`mannWhitneyU(${c.name}, { method: '${c.method}' }) matches scipy.stats.mannwhitneyu(alternative='greater')`, () => {
      const r = mannWhitneyU(c.x, c.y, { method: c.method });
      expect(r.U).toBe(c.U);
      expect(rel(r.p, c.p)).toBeLessThan(1e-10);
    });
  }

  it('normalSf(z) matches scipy.stats.norm.sf to 1e-13 relative, far tails included', () => {
    for (const { z, sf } of G.normal_sf) expect(rel(normalSf(z), sf)).toBeLessThan(1e-13);
  });

  G.multitest.forEach((c, k) => {
    it(`holm / benjaminiHochberg(p-set ${k}, m = ${c.p.length}) match the direct formulas (statsmodels convention)`, () => {
      Array.from(holm(c.p)).forEach((v, i) => expect(v).toBeCloseTo(c.holm[i], 14));
      Array.from(benjaminiHochberg(c.p)).forEach((v, i) => expect(v).toBeCloseTo(c.bh[i], 14));
    });
  });

  it('cohensD(x, y) uses the pooled sd', () => {
    for (const c of G.cohens_d) expect(cohensD(c.x, c.y)).toBeCloseTo(c.d, 12);
  });

  it("quantileSorted(v, q) is numpy's linear quantile", () => {
    G.quantile.qs.forEach((q, k) =>
      expect(quantileSorted(G.quantile.values, q)).toBeCloseTo(G.quantile.quantiles[k], 14),
    );
  });
});

describe('stats: bootstrap over seeds', () => {
  it('bootstrapPairsCI(M).estimate is the mean over off-diagonal pairs (numpy nanmean)', () => {
    const ci = bootstrapPairsCI(pairM, { resamples: 2000, seed: 1 });
    expect(ci.estimate).toBeCloseTo(G.pairs.mean, 14);
    expect(ci.lo).toBeLessThanOrEqual(ci.estimate);
    expect(ci.hi).toBeGreaterThanOrEqual(ci.estimate);
    expect(ci.resamples + ci.skipped).toBe(2000);
    expect(ci.level).toBe(0.95);
  });

  it('bootstrapPairsCI(upper triangle only) equals the full symmetric matrix', () => {
    const upper = pairM.map((row, a) => row.map((v, b) => (b > a ? v : NaN)));
    expect(bootstrapPairsCI(upper, { resamples: 500, seed: 3 })).toEqual(
      bootstrapPairsCI(pairM, { resamples: 500, seed: 3 }),
    );
  });

  it('resampledPairMean(M, drawn seeds) counts pairs of distinct seeds with multiplicity and drops self-pairs', () => {
    const drawn = [0, 0, 2, 5, 5, 5];
    let num = 0;
    let den = 0;
    for (let p = 0; p < drawn.length; p++) {
      for (let q = 0; q < drawn.length; q++) {
        if (p === q || drawn[p] === drawn[q]) continue;
        num += pairM[drawn[p]][drawn[q]];
        den++;
      }
    }
    expect(resampledPairMean(pairM, drawn)).toBeCloseTo(num / den, 14);
    expect(resampledPairMean(pairM, [3, 3, 3, 3, 3, 3])).toBeNaN();
  });

  it('bootstrapPairsCI(constant M) is degenerate at the constant', () => {
    const M = Array.from({ length: 5 }, () => Array.from({ length: 5 }, () => 0.42));
    const ci = bootstrapPairsCI(M, { resamples: 300 });
    expect([ci.lo, ci.estimate, ci.hi].map((v) => +v.toFixed(12))).toEqual([0.42, 0.42, 0.42]);
  });

  it('bootstrapPairsCI with 2 seeds skips single-seed resamples (about half of them)', () => {
    const ci = bootstrapPairsCI(
      [
        [NaN, 0.3],
        [0.3, NaN],
      ],
      { resamples: 1000, seed: 2 },
    );
    expect(ci.skipped).toBeGreaterThan(400);
    expect(ci.skipped).toBeLessThan(600);
    expect(ci.lo).toBeCloseTo(0.3, 12);
  });

  it('bootstrapPairsCI is reproducible per seed and narrows as seeds are added', () => {
    const make = (S: number): number[][] => {
      const rng = Rng.from(S, 'pairs');
      const eff = Array.from({ length: S }, () => 0.05 * rng.normal());
      return eff.map((ea, a) => eff.map((eb, b) => (a === b ? NaN : 0.5 + ea + eb + 0.01 * rng.normal())));
    };
    const small = make(5);
    const large = make(40);
    expect(bootstrapPairsCI(small, { resamples: 800, seed: 9 })).toEqual(
      bootstrapPairsCI(small, { resamples: 800, seed: 9 }),
    );
    const w5 = bootstrapPairsCI(small, { resamples: 800 });
    const w40 = bootstrapPairsCI(large, { resamples: 800 });
    expect(w40.hi - w40.lo).toBeLessThan(w5.hi - w5.lo);
  });

  it('bootstrapPairsCI(M with a missing pair) throws a DataError naming the entries', () => {
    const M = pairM.map((row) => [...row]);
    M[1][4] = NaN;
    M[4][1] = NaN;
    expect(() => bootstrapPairsCI(M)).toThrow(DataError);
    expect(() => bootstrapPairsCI(M)).toThrow(/\[1\]\[4\] and \[4\]\[1\]/);
  });

  it('bootstrapSeedsCI(per-seed values) brackets the mean; a constant gives a point', () => {
    const ci = bootstrapSeedsCI([0.61, 0.58, 0.66, 0.6, 0.63], { resamples: 4000, seed: 1 });
    expect(ci.estimate).toBeCloseTo(0.616, 12);
    expect(ci.lo).toBeGreaterThanOrEqual(0.58);
    expect(ci.hi).toBeLessThanOrEqual(0.66);
    expect(ci.lo).toBeLessThan(ci.estimate);
    expect(ci.hi).toBeGreaterThan(ci.estimate);
    const flat = bootstrapSeedsCI([0.3, 0.3, 0.3], { resamples: 100 });
    expect([flat.lo, flat.hi].map((v) => +v.toFixed(12))).toEqual([0.3, 0.3]);
  });

  it('bootstrapSeedsCI({ level: 1 }) throws a ConfigError', () => {
    expect(() => bootstrapSeedsCI([1, 2], { level: 1 })).toThrow(ConfigError);
  });
});

describe('stats: tests and corrections', () => {
  it('permutationPValue(obs, null) = (1 + #{null ≥ obs}) / (1 + N)', () => {
    expect(permutationPValue(0.5, [0.1, 0.5, 0.7, 0.2])).toBeCloseTo(3 / 5, 15);
    expect(permutationPValue(1, [0.1, 0.2])).toBeCloseTo(1 / 3, 15);
    expect(permutationPValue(0, [])).toBe(1);
    expect(() => permutationPValue(0, [NaN])).toThrow(DataError);
  });

  it('permutationTest(x ≫ y) reaches the floor 1/(N+1); equal samples do not', () => {
    const x = Array.from({ length: 10 }, (_, k) => 10 + k);
    const y = Array.from({ length: 10 }, (_, k) => k);
    const r = permutationTest(x, y, { permutations: 999, seed: 1 });
    expect(r.statistic).toBeCloseTo(10, 12);
    expect(r.p).toBeCloseTo(1 / 1000, 12); // only 1 of C(20, 10) = 184,756 labellings is as extreme
    const same = permutationTest([1, 2, 3, 4], [1, 2, 3, 4], { permutations: 999, seed: 1 });
    expect(same.p).toBeGreaterThan(0.3);
  });

  it('mannWhitneyU(all values tied) gives p = 1', () => {
    expect(mannWhitneyU([1, 1, 1], [1, 1]).p).toBe(1);
  });

  it("mannWhitneyU(ties, { method: 'exact' }) throws a ConfigError", () => {
    expect(() => mannWhitneyU([1, 2], [2, 3], { method: 'exact' })).toThrow(ConfigError);
  });

  it('mannWhitneyU(x with NaN) throws a DataError naming x', () => {
    expect(() => mannWhitneyU([1, NaN], [2])).toThrow(/^x: value 1/);
  });

  it('holm / benjaminiHochberg reject p outside [0, 1]', () => {
    expect(() => holm([0.1, 1.2])).toThrow(DataError);
    expect(() => benjaminiHochberg([NaN])).toThrow(DataError);
  });

  it('cohensD(constant samples) is ±Infinity when means differ', () => {
    expect(cohensD([1, 1, 1], [0, 0])).toBe(Infinity);
  });
});
