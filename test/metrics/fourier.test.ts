/**
 * Fourier metrics of the modular-arithmetic testbed (src/metrics/fourier.ts, docs/SCIENCE.md §5).
 * Golden numbers: test/golden/fourier/make_fourier.py (numpy.fft.fft / fft2 on the same float32
 * inputs, which the JSON carries). The grid transform runs float32 GEMMs on whichever engine is
 * active (HUSAI_ENGINE=reference included), so grid numbers are compared to 1e-5 of the latent's
 * total power; the token spectrum is float64 and compared to 1e-9 relative.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';
import { createEngine, getEngine } from '../../src/engine/index.js';
import { linearSumAssignment } from '../../src/metrics/assignment.js';
import {
  fourierFeatureFraction,
  gridSpectrum,
  keyFrequencies,
  latentFourier,
  matchedFrequencyAgreement,
  tokenSpectrum,
} from '../../src/metrics/fourier.js';

interface TokenCase {
  p: number;
  d: number;
  w: number[];
  fraction: number;
  power: number[];
  total: number;
  keys: number[];
  shares: number[];
  covered: number;
  top8: number;
}
interface GridCase {
  p: number;
  l: number;
  keys: number[];
  acts: number[];
  power: number[];
  total: number[];
  keyShare: number[];
  perKeyShare: number[];
  dead: boolean[];
  dominant: number[];
  topU: number[];
  topV: number[];
  topSign: number[];
  topShare: number[];
  topTie: boolean[];
}
const G = JSON.parse(readFileSync(new URL('../golden/fourier/fourier.json', import.meta.url), 'utf8')) as {
  token: Record<string, TokenCase>;
  grid: Record<string, GridCase>;
  threshold: number;
};

const close = (got: number, want: number, tol: number): void => {
  expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(tol);
};

/** acts [p², L] with column l = f_l(a, b), row a·p + b. */
function gridActs(p: number, fs: Array<(a: number, b: number) => number>): Mat {
  const L = fs.length;
  const data = new Float32Array(p * p * L);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) fs.forEach((f, l) => (data[(a * p + b) * L + l] = f(a, b)));
  return { data, rows: p * p, cols: L };
}
const wave =
  (p: number, k: number, s = 1) =>
  (a: number, b: number) =>
    Math.cos((2 * Math.PI * k * (a + s * b)) / p);

describe('tokenSpectrum(wPD, p) and keyFrequencies(power, opts) against numpy.fft.fft', () => {
  for (const [name, g] of Object.entries(G.token)) {
    it(`${name}: power per frequency, total and key set`, () => {
      const s = tokenSpectrum({ data: Float32Array.from(g.w), rows: g.p, cols: g.d }, g.p);
      expect(s.power.length).toBe((g.p + 1) / 2);
      g.power.forEach((v, k) => close(s.power[k], v, 1e-9 * g.total));
      close(s.total, g.total, 1e-9 * g.total);
      const kf = keyFrequencies(s, { fraction: g.fraction });
      expect(kf.keys).toEqual(g.keys);
      kf.shares.forEach((v, i) => close(v, g.shares[i], 1e-9));
      close(kf.covered, g.covered, 1e-9);
      close(kf.top8, g.top8, 1e-9);
    });
  }

  it('an embedding built from frequencies 3, 10, 17 (p = 41) has exactly those keys', () => {
    const p = 41;
    const D = 16;
    const rng = Rng.from(7, 'fourier-test-embed');
    const w = new Float32Array(p * D);
    for (const [k, amp] of [
      [3, 1],
      [10, 0.9],
      [17, 0.7],
    ]) {
      for (let d = 0; d < D; d++) {
        const phase = 2 * Math.PI * rng.uniform();
        for (let a = 0; a < p; a++) w[a * D + d] += amp * Math.cos((2 * Math.PI * k * a) / p + phase);
      }
    }
    for (let i = 0; i < w.length; i++) w[i] += 1 + 0.01 * rng.normal();
    const kf = keyFrequencies(tokenSpectrum({ data: w, rows: p, cols: D }, p));
    expect(kf.keys).toEqual([3, 10, 17]);
    expect(kf.ranked).toEqual([3, 10, 17]);
    expect(kf.covered).toBeGreaterThan(0.99);
    // With the constant allowed, the offset 1 is the strongest "frequency".
    expect(keyFrequencies(tokenSpectrum({ data: w, rows: p, cols: D }, p), { includeConstant: true }).ranked[0]).toBe(
      0,
    );
  });

  it('tokenSpectrum total = p·‖W‖² (Parseval); a zero spectrum has no keys', () => {
    const w = Float32Array.from({ length: 7 * 3 }, (_, i) => Math.sin(i * 1.7));
    let ss = 0;
    for (const x of w) ss += x * x;
    close(tokenSpectrum({ data: w, rows: 7, cols: 3 }, 7).total, 7 * ss, 1e-9 * ss);
    expect(keyFrequencies([5, 0, 0, 0])).toMatchObject({ keys: [], covered: 0, top8: 0 });
  });

  it('rejects even p, rows ≠ p, a bad fraction and negative power', () => {
    const w = { data: new Float32Array(12), rows: 6, cols: 2 };
    expect(() => tokenSpectrum(w, 6)).toThrow(ConfigError);
    expect(() => tokenSpectrum(w, 7)).toThrow(/\[6×2\].*p = 7/);
    expect(() => tokenSpectrum(w, 7)).toThrow(ShapeError);
    expect(() => keyFrequencies([1, 2, 3], { fraction: 0 })).toThrow(ConfigError);
    expect(() => keyFrequencies([1, -2, 3])).toThrow(DataError);
  });
});

describe('gridSpectrum(actsNL, p) and latentFourier(actsNL, p, keys) against numpy.fft.fft2', () => {
  for (const [name, g] of Object.entries(G.grid)) {
    const acts: Mat = { data: Float32Array.from(g.acts), rows: g.p * g.p, cols: g.l };
    const K = g.keys.length;

    it(`${name}: full power spectrum of every latent`, () => {
      const s = gridSpectrum(acts, g.p, { blockLatents: 3 });
      for (let l = 0; l < g.l; l++) {
        const tol = 1e-5 * g.total[l] + 1e-9;
        for (let i = 0; i < g.p * g.p; i++) close(s.powerLUV[l * g.p * g.p + i], g.power[l * g.p * g.p + i], tol);
      }
    });

    it(`${name}: total, key shares, per-key shares, dead flags, dominants, strongest components`, () => {
      const r = latentFourier(acts, g.p, g.keys, { blockLatents: 2 });
      for (let l = 0; l < g.l; l++) {
        close(r.total[l], g.total[l], 1e-5 * g.total[l]);
        close(r.keyShare[l], g.keyShare[l], 1e-5);
        for (let i = 0; i < K; i++) close(r.perKeyShareLK[l * K + i], g.perKeyShare[l * K + i], 1e-5);
        expect(r.dead[l]).toBe(g.dead[l] ? 1 : 0);
        expect(r.dominant[l]).toBe(g.dominant[l]);
        close(r.topShare[l], g.topShare[l], 1e-5);
        if (!g.topTie[l]) expect([r.topU[l], r.topV[l], r.topSign[l]]).toEqual([g.topU[l], g.topV[l], g.topSign[l]]);
      }
    });
  }

  it('the reference engine and the active engine agree (fast path and slow twin)', () => {
    const g = G.grid.p13;
    const acts: Mat = { data: Float32Array.from(g.acts), rows: g.p * g.p, cols: g.l };
    const fast = latentFourier(acts, g.p, g.keys, { engine: getEngine() });
    const slow = latentFourier(acts, g.p, g.keys, { engine: createEngine('reference') });
    for (let l = 0; l < g.l; l++) {
      close(fast.keyShare[l], slow.keyShare[l], 1e-6);
      close(fast.total[l], slow.total[l], 1e-6 * slow.total[l]);
    }
  });
});

describe('latentFourier invariants', () => {
  const p = 23;

  it('cos(2πk(a + b)/p) has keyShare 1 and dominant k with keys ∋ k, keyShare 0 without k', () => {
    const acts = gridActs(p, [wave(p, 5), wave(p, 5, -1), (a) => Math.sin((2 * Math.PI * 5 * a) / p)]);
    const r = latentFourier(acts, p, [2, 5]);
    for (let l = 0; l < 3; l++) {
      close(r.keyShare[l], 1, 1e-5);
      expect(r.dominant[l]).toBe(5);
      close(r.perKeyShareLK[l * 2 + 1], 1, 1e-5);
      close(r.perKeyShareLK[l * 2], 0, 1e-5);
    }
    expect([r.topU[0], r.topV[0], r.topSign[0]]).toEqual([5, 5, 1]);
    expect([r.topU[1], r.topV[1], r.topSign[1]]).toEqual([5, 5, -1]);
    expect([r.topU[2], r.topV[2]]).toEqual([5, 0]);
    close(r.topShare[0], 1, 1e-5);
    const off = latentFourier(acts, p, [1, 4, 6]);
    for (let l = 0; l < 3; l++) {
      close(off.keyShare[l], 0, 1e-5);
      expect(off.dominant[l]).toBe(-1);
    }
    expect(latentFourier(acts, p, []).keyShare[0]).toBe(0);
  });

  it('a constant latent and an all-zero latent are dead (share 0, dominant −1, not counted live)', () => {
    const r = latentFourier(gridActs(p, [() => 2.5, () => 0, wave(p, 3)]), p, [3]);
    expect(Array.from(r.dead)).toEqual([1, 1, 0]);
    expect(Array.from(r.keyShare.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(r.dominant)).toEqual([-1, -1, 3]);
    expect(fourierFeatureFraction(r)).toEqual({ fraction: 1, count: 1, live: 1 });
  });

  it('white noise has keyShare ≈ (|U|² − 1)/(p² − 1) on average', () => {
    const q = 13;
    const L = 1500;
    const data = new Float32Array(q * q * L);
    Rng.from(11, 'fourier-test-noise').fillNormal(data);
    const keys = [2, 5];
    const r = latentFourier({ data, rows: q * q, cols: L }, q, keys);
    let mean = 0;
    for (const s of r.keyShare) mean += s / L;
    const U = 1 + 2 * keys.length;
    // Per latent: 12 of 84 equal-variance conjugate classes, sd ≈ 0.038; the mean's se ≈ 0.001.
    close(mean, (U * U - 1) / (q * q - 1), 0.005);
    expect(fourierFeatureFraction(r).count).toBe(0);
  });

  it('a latent active on part of the grid only: ReLU(cos(2πk(a + b)/p)) keeps ≈ 84% in U×U', () => {
    // Half-wave rectified cosine: variance 1/4 − 1/π², fundamental 1/8, share 0.841 (continuous limit).
    const r = latentFourier(gridActs(p, [(a, b) => Math.max(wave(p, 7)(a, b), 0)]), p, [7]);
    close(r.keyShare[0], 0.125 / (0.25 - 1 / Math.PI ** 2), 0.02);
    expect(r.dominant[0]).toBe(7);
    expect(
      latentFourier(gridActs(p, [(a, b) => Math.max(wave(p, 7)(a, b), 0)]), p, [7], { threshold: 0.9 }).dominant[0],
    ).toBe(-1);
  });

  it('fourierFeatureFraction(result, threshold) counts live latents at or above the threshold', () => {
    const r = latentFourier(
      gridActs(p, [wave(p, 2), (a, b) => wave(p, 2)(a, b) + 0.8 * wave(p, 9)(a, b), () => 1]),
      p,
      [2],
    );
    // Latent 1 keeps 1/(1 + 0.64) = 0.61 of its power in k = 2.
    close(r.keyShare[1], 1 / 1.64, 1e-5);
    expect(fourierFeatureFraction(r)).toEqual({ fraction: 0.5, count: 1, live: 2 });
    expect(fourierFeatureFraction(r, 0.6)).toEqual({ fraction: 1, count: 2, live: 2 });
  });

  it('handles a non-prime odd p, L = 0 and many blocks; rejects bad shapes and keys', () => {
    const acts = gridActs(9, [wave(9, 3), wave(9, 1), wave(9, 4, -1)]);
    const r = latentFourier(acts, 9, [3, 4], { blockLatents: 1 });
    expect(Array.from(r.dominant)).toEqual([3, -1, 4]);
    expect(latentFourier({ data: new Float32Array(0), rows: 81, cols: 0 }, 9, [1]).latents).toBe(0);
    expect(() => latentFourier(acts, 7, [1])).toThrow(ShapeError);
    expect(() => latentFourier(acts, 9, [5])).toThrow(/key 5.*1\.\.4/);
    expect(() => latentFourier(acts, 9, [2, 2])).toThrow(ConfigError);
    expect(() => latentFourier(acts, 9, [1], { blockLatents: 0 })).toThrow(ConfigError);
    const bad = gridActs(9, [() => NaN]);
    expect(() => latentFourier(bad, 9, [1])).toThrow(DataError);
  });
});

describe('matchedFrequencyAgreement(domA, domB, pairs, opts)', () => {
  it('identical dominants through a matching: agreement 1, null near chance, small p', () => {
    const n = 40;
    const domA = Int32Array.from({ length: n }, (_, i) => 1 + (i % 8));
    // B is A's latents in another order; the matching recovers the order.
    const perm = Rng.from(3, 'fourier-test-perm').permutation(n);
    const domB = new Int32Array(n);
    for (let i = 0; i < n; i++) domB[perm[i]] = domA[i];
    const cost = { data: new Float64Array(n * n), rows: n, cols: n };
    for (let i = 0; i < n; i++) cost.data[i * n + perm[i]] = 1;
    const match = linearSumAssignment(cost, { maximize: true });
    const r = matchedFrequencyAgreement(domA, domB, match, { draws: 500, seed: 1 });
    expect(r).toMatchObject({ agreement: 1, agreeing: n, fourierPairs: n, pairs: n });
    expect(r.pValue).toBe(1 / 501);
    // Exact null mean: Σ_f nA_f·nB_f / n² = 8·5² / 40² = 1/8.
    close(r.null.mean, 1 / 8, 4 * (r.null.sd / Math.sqrt(500)) + 1e-9);
    expect(r.null.n).toBe(500);
    // Same seed, same null; another seed, another draw.
    expect(matchedFrequencyAgreement(domA, domB, match, { draws: 500, seed: 1 }).null.values).toEqual(r.null.values);
    expect(matchedFrequencyAgreement(domA, domB, match, { draws: 500, seed: 2 }).null.values).not.toEqual(
      r.null.values,
    );
  });

  it('counts only pairs where both latents are Fourier features; none gives NaN', () => {
    const domA = Int32Array.from([3, 3, -1, 5, 7]);
    const domB = Int32Array.from([3, 4, 5, -1, 7]);
    const pairs = { rowIdx: Int32Array.from([0, 1, 2, 3, 4]), colIdx: Int32Array.from([0, 1, 2, 3, 4]) };
    const r = matchedFrequencyAgreement(domA, domB, pairs, { draws: 50 });
    expect(r).toMatchObject({ agreeing: 2, fourierPairs: 3, pairs: 5 });
    close(r.agreement, 2 / 3, 1e-12);
    // A constant-frequency set cannot beat its own null: every shuffle agrees too.
    const flat = matchedFrequencyAgreement(
      Int32Array.from([4, 4]),
      Int32Array.from([4, 4]),
      { rowIdx: [0, 1], colIdx: [1, 0] },
      { draws: 20 },
    );
    expect([flat.agreement, flat.pValue]).toEqual([1, 1]);
    const none = matchedFrequencyAgreement(Int32Array.from([-1]), Int32Array.from([2]), { rowIdx: [0], colIdx: [0] });
    expect(none.agreement).toBeNaN();
    expect(none.pValue).toBeNaN();
  });

  it('rejects mismatched pair arrays, out-of-range indices and too few draws', () => {
    const d = Int32Array.from([1, 2]);
    expect(() => matchedFrequencyAgreement(d, d, { rowIdx: [0, 1], colIdx: [0] })).toThrow(ShapeError);
    expect(() => matchedFrequencyAgreement(d, d, { rowIdx: [0], colIdx: [2] })).toThrow(/colIdx\[0\]/);
    expect(() => matchedFrequencyAgreement(d, d, { rowIdx: [0], colIdx: [0] }, { draws: 5 })).toThrow(ConfigError);
  });
});
