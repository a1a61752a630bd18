import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { correlatedFiringProb } from '../../src/data/synthetic/correlated.js';
import { GaussianCopula, scaleToMean } from '../../src/data/synthetic/firing.js';
import { generateSynthetic, normalQuantile, SYNTHETIC_KINDS, syntheticSource } from '../../src/data/synthetic/index.js';
import type { SparseCodes, SyntheticData } from '../../src/data/synthetic/index.js';
import { fillZigguratNormal } from '../../src/data/synthetic/ziggurat.js';

/** Firing counts per feature from the codes. */
function counts(c: SparseCodes): Float64Array {
  const out = new Float64Array(c.features);
  for (const i of c.idxK) out[i]++;
  return out;
}

/** Every row's ‖g‖ = 1 within float32 rounding. */
function expectUnitRows(d: SyntheticData<object>): void {
  const { data, rows, cols } = d.gt;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += data[r * cols + j] ** 2;
    expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-6);
  }
}

/** Slow twin of decoding: x_i = Σ_p val·G[idx] in float64, compared with acts. */
function expectActsMatchCodes(d: SyntheticData<object>, rowsToCheck: number[], tol = 1e-5): void {
  const { rowPtr, idxK, valK } = d.codes;
  const D = d.gt.cols;
  for (const i of rowsToCheck) {
    for (let j = 0; j < D; j++) {
      let x = 0;
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) x += valK[p] * d.gt.data[idxK[p] * D + j];
      expect(Math.abs(d.acts.data[i * D + j] - x)).toBeLessThan(tol);
    }
  }
}

/**
 * Empirical firing frequencies against targets p: each |z| < 5 and mean z² ≈ 1 (chi-square/F), so
 * both a single wrong probability and a small bias spread over all features would fail.
 */
function expectFrequencies(cnt: Float64Array, p: Float64Array, n: number): void {
  let z2 = 0;
  let m = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) {
      expect(cnt[i]).toBe(0);
      continue;
    }
    const z = (cnt[i] - n * p[i]) / Math.sqrt(n * p[i] * (1 - p[i]) || 1);
    expect(Math.abs(z), `feature ${i}: ${cnt[i]} fires, expected ${n * p[i]}`).toBeLessThan(5);
    z2 += z * z;
    m++;
  }
  expect(Math.abs(z2 / m - 1)).toBeLessThan(5 * Math.sqrt(2 / m));
}

const bytes = (d: SyntheticData<object>): Buffer[] =>
  [d.acts.data, d.gt.data, d.codes.idxK, d.codes.valK, d.codes.rowPtr].map((a) =>
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
  );

describe('normalQuantile', () => {
  const golden = JSON.parse(fs.readFileSync(new URL('../golden/formats/ndtri.json', import.meta.url), 'utf8')) as {
    p: number[];
    ndtri: number[];
  };

  it('normalQuantile(p) matches scipy.special.ndtri to ~1e-15 relative (test/golden/formats/ndtri.json)', () => {
    golden.p.forEach((p, i) => {
      const want = golden.ndtri[i];
      const got = normalQuantile(p);
      expect(Math.abs(got - want), `p = ${p}: ${got} vs ${want}`).toBeLessThanOrEqual(
        4e-15 * Math.max(1, Math.abs(want)),
      );
    });
  });

  it('normalQuantile(0 | 1 | outside [0,1] | NaN) is −Inf, +Inf, NaN, NaN; and is odd about ½', () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(-0.1)).toBeNaN();
    expect(normalQuantile(1.5)).toBeNaN();
    expect(normalQuantile(NaN)).toBeNaN();
    for (const p of [0.01, 0.2, 0.4]) expect(normalQuantile(p)).toBeCloseTo(-normalQuantile(1 - p), 12);
  });
});

describe('fillZigguratNormal', () => {
  it('fillZigguratNormal(rng, 10^6) has N(0,1) quantiles, moments and tail mass within sampling error', () => {
    const n = 1_000_000;
    const x = new Float64Array(n);
    fillZigguratNormal(Rng.from(99), x);
    let m1 = 0;
    let m2 = 0;
    let m4 = 0;
    for (const v of x) {
      m1 += v;
      m2 += v * v;
      m4 += v ** 4;
    }
    m1 /= n;
    m2 /= n;
    m4 /= n;
    expect(Math.abs(m1)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
    for (const p of [1e-4, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]) {
      const q = normalQuantile(p);
      let below = 0;
      for (const v of x) if (v < q) below++;
      expect(Math.abs(below / n - p), `P(x < ${q})`).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    }
    // Tail beyond the ziggurat base r = 3.4426 (the slow branch): two-sided mass 2·Q(r) = 5.76e-4.
    let tail = 0;
    for (const v of x) if (Math.abs(v) > 3.442619855899) tail++;
    expect(Math.abs(tail / n - 5.7595e-4)).toBeLessThan(5 * Math.sqrt(5.76e-4 / n));
  });
});

describe('generateSynthetic("exact-k", …)', () => {
  const d = generateSynthetic('exact-k', { n: 20_000, d: 32, features: 64, k: 5, seed: 3 });

  it('every sample has exactly k non-zero codes at distinct features, all magnitudes > 0', () => {
    const { rowPtr, idxK, valK } = d.codes;
    for (let i = 0; i < 20_000; i++) {
      expect(rowPtr[i + 1] - rowPtr[i]).toBe(5);
      expect(new Set(idxK.subarray(rowPtr[i], rowPtr[i + 1])).size).toBe(5);
    }
    expect(valK.every((v) => v > 0)).toBe(true);
  });

  it('gt rows are unit norm and acts = codes·gt (float64 slow twin)', () => {
    expect([d.acts.rows, d.acts.cols, d.gt.rows, d.gt.cols]).toEqual([20_000, 32, 64, 32]);
    expectUnitRows(d);
    expectActsMatchCodes(d, [0, 1, 777, 19_999]);
  });

  it('each feature fires with probability k/F; magnitudes are |N(0,1)| (mean √(2/π), E s² = 1)', () => {
    expectFrequencies(counts(d.codes), d.firingProb, 20_000);
    expect(d.firingProb[0]).toBe(5 / 64);
    const v = d.codes.valK;
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const m2 = v.reduce((a, b) => a + b * b, 0) / v.length;
    expect(Math.abs(mean - Math.sqrt(2 / Math.PI))).toBeLessThan(5 * Math.sqrt((1 - 2 / Math.PI) / v.length));
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / v.length));
  });

  it('same seed → identical bytes; another seed → different data', () => {
    const again = generateSynthetic('exact-k', { n: 20_000, d: 32, features: 64, k: 5, seed: 3 });
    bytes(d).forEach((b, i) => expect(Buffer.compare(b, bytes(again)[i])).toBe(0));
    const other = generateSynthetic('exact-k', { n: 20_000, d: 32, features: 64, k: 5, seed: 4 });
    expect(Buffer.compare(bytes(d)[0], bytes(other)[0])).not.toBe(0);
    expect(Buffer.compare(bytes(d)[1], bytes(other)[1])).not.toBe(0);
  });

  it('k = features uses every feature in every sample', () => {
    const all = generateSynthetic('exact-k', { n: 10, d: 4, features: 6, k: 6, seed: 0 });
    for (let i = 0; i < 10; i++)
      expect([...all.codes.idxK.subarray(i * 6, i * 6 + 6)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('generateSynthetic("correlated", …)', () => {
  const n = 40_000;
  const d = generateSynthetic('correlated', { n, seed: 5 });

  it('defaults follow docs/SCIENCE.md §5: F = 512, d = 256, mean active 5, decay 0.99', () => {
    expect(d.config).toMatchObject({ kind: 'correlated', features: 512, d: 256, k: 5, decay: 0.99 });
    expect([d.acts.rows, d.acts.cols, d.gt.rows]).toEqual([n, 256, 512]);
    expectUnitRows(d);
    expectActsMatchCodes(d, [0, 5, n - 1]);
  });

  it('firing probabilities are ∝ 0.99^i, sum to k, and the empirical frequencies match them', () => {
    const p = d.firingProb;
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(5, 9);
    for (const i of [1, 100, 511]) expect(p[i] / p[0]).toBeCloseTo(0.99 ** i, 12);
    expectFrequencies(counts(d.codes), p, n);
  });

  it('the mean number active per sample ≈ k within sampling error', () => {
    const per = Array.from({ length: n }, (_, i) => d.codes.rowPtr[i + 1] - d.codes.rowPtr[i]);
    const mean = per.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(per.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
    expect(Math.abs(mean - 5)).toBeLessThan((5 * sd) / Math.sqrt(n));
  });

  it('magnitudes are U(0,1)·U(0,1): mean 1/4, E s² = 1/9', () => {
    const v = d.codes.valK;
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const m2 = v.reduce((a, b) => a + b * b, 0) / v.length;
    expect(Math.abs(mean - 0.25)).toBeLessThan(5 * Math.sqrt((1 / 9 - 1 / 16) / v.length));
    expect(Math.abs(m2 - 1 / 9)).toBeLessThan(0.005);
    expect(v.every((x) => x > 0 && x <= 1)).toBe(true);
  });

  it('firings are correlated (co-firing departs from independence), and rank 0 makes them independent', () => {
    const coFiringExcess = (data: SyntheticData<object>): number => {
      // Σ over the 20 most frequent pairs of |P(i ∧ j) − P(i)P(j)| / sd under independence.
      const rows = data.acts.rows;
      const top = 20;
      const fires = new Uint8Array(rows * top);
      const { rowPtr, idxK } = data.codes;
      for (let r = 0; r < rows; r++)
        for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) if (idxK[p] < top) fires[r * top + idxK[p]] = 1;
      let score = 0;
      let pairs = 0;
      for (let i = 0; i < top; i++) {
        for (let j = i + 1; j < top; j++) {
          let both = 0;
          let a = 0;
          let b = 0;
          for (let r = 0; r < rows; r++) {
            a += fires[r * top + i];
            b += fires[r * top + j];
            both += fires[r * top + i] & fires[r * top + j];
          }
          const pij = (a / rows) * (b / rows);
          score += Math.abs(both / rows - pij) / Math.sqrt(pij / rows);
          pairs++;
        }
      }
      return score / pairs; // ≈ √(2/π) ≈ 0.8 under independence
    };
    expect(coFiringExcess(d)).toBeGreaterThan(3);
    const indep = generateSynthetic('correlated', { n, seed: 5, rank: 0 });
    expect(coFiringExcess(indep)).toBeLessThan(1.2);
  });

  it('same seed → identical bytes', () => {
    const again = generateSynthetic('correlated', { n: 2000, seed: 8, d: 16, features: 40, k: 3 });
    const b = generateSynthetic('correlated', { n: 2000, seed: 8, d: 16, features: 40, k: 3 });
    bytes(again).forEach((x, i) => expect(Buffer.compare(x, bytes(b)[i])).toBe(0));
  });
});

describe('GaussianCopula', () => {
  it('new GaussianCopula(p, R, ρ).sample keeps each marginal p_i and gives latent correlations ρ·cos(w_i, w_j)', () => {
    const p = scaleToMean(new Float64Array(30).fill(1), 9); // p = 0.3 each
    const cop = new GaussianCopula(p, 2, 0.8, Rng.from(1));
    const rng = Rng.from(2);
    const n = 50_000;
    const fires = new Uint8Array(n * 30);
    for (let r = 0; r < n; r++) cop.sample(rng, (i) => (fires[r * 30 + i] = 1));
    const cnt = new Float64Array(30);
    for (let r = 0; r < n; r++) for (let i = 0; i < 30; i++) cnt[i] += fires[r * 30 + i];
    expectFrequencies(cnt, p, n);
    // The pair with the strongest latent correlation co-fires far more than 0.3² = 0.09 of the time.
    let best = [0, 1];
    for (let i = 0; i < 30; i++)
      for (let j = i + 1; j < 30; j++) if (cop.correlation(i, j) > cop.correlation(best[0], best[1])) best = [i, j];
    expect(cop.correlation(best[0], best[1])).toBeGreaterThan(0.7);
    let both = 0;
    for (let r = 0; r < n; r++) both += fires[r * 30 + best[0]] & fires[r * 30 + best[1]];
    expect(both / n).toBeGreaterThan(0.2);
  });

  it('scaleToMean(weights, mean, pMax) caps probabilities and still hits the mean', () => {
    const p = scaleToMean(Float64Array.from([100, 1, 1, 1]), 1.5, 0.6);
    expect(p[0]).toBe(0.6);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1.5, 10);
    expect(correlatedFiringProb({ features: 3, k: 3, decay: 0.5 })).toEqual(Float64Array.from([1, 1, 1]));
  });
});

describe('generateSynthetic("synthbench", …)', () => {
  const n = 60_000;
  const d = generateSynthetic('synthbench', {
    n,
    seed: 2,
    features: 256,
    d: 64,
    k: 6,
    parents: 8,
    childrenPerParent: 3,
  });
  const { rowPtr, idxK } = d.codes;

  it('children fire only with their parent, and at most one child per parent per sample', () => {
    let childFires = 0;
    for (let r = 0; r < n; r++) {
      const active = new Set(idxK.subarray(rowPtr[r], rowPtr[r + 1]));
      const perParent = new Map<number, number>();
      for (const f of active) {
        const pa = d.parentOf[f];
        if (pa < 0) continue;
        childFires++;
        expect(active.has(pa), `sample ${r}: child ${f} without parent ${pa}`).toBe(true);
        perParent.set(pa, (perParent.get(pa) ?? 0) + 1);
      }
      for (const c of perParent.values()) expect(c).toBe(1);
    }
    expect(childFires).toBeGreaterThan(1000); // the check above actually ran on many children
  });

  it('hierarchy roles: parents 0..P−1, parent j owns P+jC … P+jC+C−1, the rest free', () => {
    expect(Array.from(d.parentOf.subarray(0, 8))).toEqual(Array(8).fill(-1));
    expect(Array.from(d.parentOf.subarray(8, 14))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(d.parentOf[8 + 7 * 3 + 2]).toBe(7);
    expect(Array.from(d.parentOf.subarray(32))).toEqual(Array(256 - 32).fill(-1));
  });

  it('firing frequencies follow Zipf (p_i ∝ (i+1)^−α, Σ p = k) and the empirical frequencies match, children included', () => {
    const p = d.firingProb;
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(6, 9);
    expect([p[0], p[1]]).toEqual([0.5, 0.5]); // capped at pMax
    for (const i of [9, 99, 255]) expect(p[i] / p[4]).toBeCloseTo(5 / (i + 1), 12);
    expectFrequencies(counts(d.codes), p, n);
  });

  it('zipfExponent changes the decay; children whose Zipf mass exceeds the parent are scaled to fit', () => {
    const s = generateSynthetic('synthbench', {
      n: 10,
      seed: 0,
      features: 64,
      d: 8,
      k: 1,
      zipfExponent: 2,
      parents: 0,
    });
    expect(s.firingProb[3] / s.firingProb[1]).toBeCloseTo(4 / 16, 12);
    const flat = generateSynthetic('synthbench', {
      n: 10,
      seed: 0,
      features: 64,
      d: 8,
      k: 4,
      zipfExponent: 0.1,
      parents: 2,
      childrenPerParent: 5,
    });
    for (const j of [0, 1]) {
      let sum = 0;
      for (let m = 0; m < 5; m++) sum += flat.firingProb[2 + j * 5 + m];
      expect(sum).toBeLessThanOrEqual(flat.firingProb[j] * (1 + 1e-12));
    }
  });

  it('magnitudes are |N(1, 0.15²)| by default and acts = codes·gt + noise of the configured size', () => {
    const v = d.codes.valK;
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.005);
    expectUnitRows(d);
    const clean = generateSynthetic('synthbench', {
      n: 500,
      seed: 2,
      features: 256,
      d: 64,
      k: 6,
      parents: 8,
      childrenPerParent: 3,
      noise: 0,
    });
    expectActsMatchCodes(clean, [0, 499]);
    // Same seed with noise: same codes, and the residual has sd ≈ 0.01.
    const noisy = generateSynthetic('synthbench', {
      n: 500,
      seed: 2,
      features: 256,
      d: 64,
      k: 6,
      parents: 8,
      childrenPerParent: 3,
      noise: 0.01,
    });
    expect(Array.from(noisy.codes.idxK)).toEqual(Array.from(clean.codes.idxK));
    let ss = 0;
    for (let i = 0; i < clean.acts.data.length; i++) ss += (noisy.acts.data[i] - clean.acts.data[i]) ** 2;
    expect(Math.sqrt(ss / clean.acts.data.length)).toBeCloseTo(0.01, 3);
  });

  it('same seed → identical bytes', () => {
    const a = generateSynthetic('synthbench', { n: 3000, seed: 4 });
    const b = generateSynthetic('synthbench', { n: 3000, seed: 4 });
    bytes(a).forEach((x, i) => expect(Buffer.compare(x, bytes(b)[i])).toBe(0));
  });
});

describe('generateSynthetic(kind, options) validation', () => {
  const bad: Array<[string, object, RegExp]> = [
    ['exact-k', { n: 10, seed: 0, features: 8, k: 9 }, /synthetic exact-k: k = 9 exceeds features = 8/],
    ['exact-k', { n: -1, seed: 0 }, /exact-k: n = -1: expected an integer ≥ 0/],
    ['exact-k', { n: 10, seed: 0, d: 0 }, /exact-k: d = 0/],
    ['exact-k', { n: 10, seed: 0, feature: 8 }, /exact-k: unknown option "feature"/],
    ['exact-k', { n: 10, seed: 1.5 }, /exact-k: seed = 1.5/],
    ['correlated', { n: 10, seed: 0, features: 4, k: 5 }, /correlated: k = 5 exceeds features = 4/],
    ['correlated', { n: 10, seed: 0, rho: 1 }, /correlated: rho = 1: expected a number in \[0, 1\)/],
    ['correlated', { n: 10, seed: 0, decay: 0 }, /correlated: decay = 0/],
    [
      'synthbench',
      { n: 10, seed: 0, features: 20, parents: 5, childrenPerParent: 4 },
      /parents × \(childrenPerParent \+ 1\) = 5 × 5 = 25 exceeds features = 20/,
    ],
    ['synthbench', { n: 10, seed: 0, features: 20, k: 11, pMax: 0.5 }, /k = 11 exceeds pMax × features = 10/],
    ['synthbench', { n: 10, seed: 0, noise: -1 }, /synthbench: noise = -1/],
  ];
  for (const [kind, opts, msg] of bad) {
    it(`generateSynthetic(${JSON.stringify(kind)}, ${JSON.stringify(opts)}) throws a ConfigError naming the field`, () => {
      expect(() => generateSynthetic(kind as 'exact-k', opts as { n: number; seed: number })).toThrow(ConfigError);
      expect(() => generateSynthetic(kind as 'exact-k', opts as { n: number; seed: number })).toThrow(msg);
    });
  }

  it('generateSynthetic("nope") lists the kinds', () => {
    expect(SYNTHETIC_KINDS).toEqual(['exact-k', 'correlated', 'synthbench']);
    expect(() => generateSynthetic('nope' as 'exact-k', { n: 1, seed: 0 })).toThrow(
      /synthetic kind "nope": expected one of exact-k, correlated, synthbench/,
    );
  });

  it('syntheticSource(data) is an ActivationSource named by the full config', async () => {
    const data = generateSynthetic('exact-k', { n: 100, d: 8, features: 16, k: 2, seed: 0 });
    const src = syntheticSource(data);
    expect(src.name).toBe('synthetic:exact-k(n=100,seed=0,d=8,features=16,k=2)');
    expect([src.d, src.length]).toEqual([8, 100]);
    let rows = 0;
    for await (const b of src.batches(32, { seed: 0 })) rows += b.rows;
    expect(rows).toBe(100);
  });
});
