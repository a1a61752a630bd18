import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  averageRanks,
  decoderSubspace,
  orthonormalBasis,
  principalAngles,
  rsaPairedAtoms,
  spearman,
  subspaceOverlap,
  svcca,
  svccaFromCovariance,
} from '../../src/metrics/subspace.js';
import { ConfigError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';

// Golden numbers from numpy/scipy (test/golden/metrics2/make_golden.py).
const G = JSON.parse(readFileSync(new URL('../golden/metrics2/golden.json', import.meta.url), 'utf8'));

function gaussian(rows: number, cols: number, rng: Rng): Mat {
  const data = new Float32Array(rows * cols);
  rng.fillNormal(data);
  return { data, rows, cols };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('principalAngles(a, b)', () => {
  const c = G.angles;
  const A = orthonormalBasis(c.a, c.d, c.ka);
  const B = orthonormalBasis(c.b, c.d, c.kb);
  const C = orthonormalBasis(c.c, c.d, c.ka);

  it('principalAngles(span A [10×3], span B [10×4]) = scipy.linalg.subspace_angles to 1e-12', () => {
    expect(maxDiff(principalAngles(A, B), c.anglesAB)).toBeLessThan(1e-12);
    expect(maxDiff(principalAngles(B, A), c.anglesAB)).toBeLessThan(1e-12);
  });

  it('principalAngles of nearly equal subspaces (angles ~1e-9) keeps relative accuracy (sine branch)', () => {
    const got = principalAngles(A, C);
    for (let t = 0; t < 3; t++) {
      expect(c.anglesAC[t]).toBeLessThan(1e-7);
      expect(Math.abs(got[t] - c.anglesAC[t]) / c.anglesAC[t]).toBeLessThan(1e-5);
    }
  });

  it('principalAngles(a, a) = 0 and orthogonal subspaces give π/2', () => {
    expect(Math.max(...principalAngles(A, A))).toBeLessThan(1e-7);
    const e1 = { d: 3, k: 1, basisKD: new Float64Array([1, 0, 0]) };
    const e23 = { d: 3, k: 2, basisKD: new Float64Array([0, 1, 0, 0, 0, 1]) };
    expect(principalAngles(e1, e23)[0]).toBeCloseTo(Math.PI / 2, 12);
    expect(subspaceOverlap(e1, e23)).toBe(0);
  });

  it('subspaceOverlap = mean cos² of the principal angles; different d throws ShapeError', () => {
    const ang = principalAngles(A, B);
    const mean = Array.from(ang).reduce((s, t) => s + Math.cos(t) ** 2, 0) / 3;
    expect(Math.abs(subspaceOverlap(A, B) - mean)).toBeLessThan(1e-12);
    expect(() => subspaceOverlap(A, { d: 4, k: 1, basisKD: new Float64Array(4) })).toThrow(ShapeError);
  });
});

describe('decoderSubspace(atomsMD, k) and subspaceOverlap', () => {
  it('decoderSubspace recovers a planted k-subspace (overlap 1) and its singular values', () => {
    // Atoms lying in span(e0, e1, e2) of R^8: top-3 subspace is exactly that span.
    const rng = Rng.from(5, 'planted');
    const M = 40;
    const D = 8;
    const atoms = new Float32Array(M * D);
    for (let i = 0; i < M; i++) for (let j = 0; j < 3; j++) atoms[i * D + j] = rng.normal() * (j + 1);
    const s = decoderSubspace({ data: atoms, rows: M, cols: D }, 3);
    const planted = { d: D, k: 3, basisKD: new Float64Array(3 * D) };
    for (let j = 0; j < 3; j++) planted.basisKD[j * D + j] = 1;
    expect(subspaceOverlap(s, planted)).toBeCloseTo(1, 6);
    expect(s.energy).toBeCloseTo(1, 6);
    // σ² = eigenvalues of W_decᵀW_dec = column sums of squares here (dominant axis e2).
    let ss = 0;
    for (let i = 0; i < M; i++) ss += atoms[i * D + 2] ** 2;
    expect(s.singularValues[0] ** 2 / ss).toBeGreaterThan(0.5);
  });

  it('random Gaussian decoders: mean overlap of top-k subspaces ≈ k/d within 4 standard errors', () => {
    // The top-k singular subspace of a Gaussian matrix is Haar-distributed, so two independent
    // decoders give E[‖U_AᵀU_B‖²_F / k] = k/d. The tolerance is 4 standard errors from the sample
    // sd (the per-draw sd at d = 32, k = 4 is ≈ 0.035, so 4·0.035/√150 ≈ 0.012 around 0.125).
    const rng = Rng.from(7, 'overlap-null');
    const d = 32;
    const k = 4;
    const m = 48;
    const draws = 150;
    const vals: number[] = [];
    for (let t = 0; t < draws; t++) {
      const a = decoderSubspace(gaussian(m, d, rng), k);
      const b = decoderSubspace(gaussian(m, d, rng), k);
      vals.push(subspaceOverlap(a, b));
    }
    const mean = vals.reduce((s, v) => s + v, 0) / draws;
    const sd = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / (draws - 1));
    expect(sd).toBeGreaterThan(0.015);
    expect(sd).toBeLessThan(0.08);
    expect(Math.abs(mean - k / d)).toBeLessThan((4 * sd) / Math.sqrt(draws));
  });

  it('decoderSubspace throws ConfigError for k outside [1, min(M, D)]', () => {
    const atoms = gaussian(5, 4, Rng.from(1));
    expect(() => decoderSubspace(atoms, 0)).toThrow(ConfigError);
    expect(() => decoderSubspace(atoms, 5)).toThrow(ConfigError);
  });
});

describe('svcca(xNP, yNQ, opts)', () => {
  const c = G.svcca;
  const x = { data: c.xa as number[], rows: c.n, cols: c.p };
  const y = { data: c.xb as number[], rows: c.n, cols: c.q };

  it('svcca at 99% variance matches a numpy SVD + QR implementation (kept dims and correlations)', () => {
    const r = svcca(x, y);
    expect(r.keptA).toBe(c.keptA);
    expect(r.keptB).toBe(c.keptB);
    expect(maxDiff(r.correlations, c.correlations)).toBeLessThan(1e-10);
    expect(Math.abs(r.mean - c.mean)).toBeLessThan(1e-10);
  });

  it('svcca at 90% variance matches numpy', () => {
    const r = svcca(x, y, { varianceKept: 0.9 });
    expect(r.keptA).toBe(c.keep90.keptA);
    expect(r.keptB).toBe(c.keep90.keptB);
    expect(Math.abs(r.mean - c.keep90.mean)).toBeLessThan(1e-10);
  });

  it('svcca(x, x) = 1; svcca of constant data is NaN; bad varianceKept throws', () => {
    expect(svcca(x, x).mean).toBeCloseTo(1, 10);
    const flat = { data: new Float64Array(c.n * 2).fill(3), rows: c.n, cols: 2 };
    expect(svcca(x, flat).mean).toBeNaN();
    expect(() => svcca(x, y, { varianceKept: 0 })).toThrow(ConfigError);
    expect(() => svccaFromCovariance([1], 1, [1], 1, [1, 2], {})).toThrow(ShapeError);
  });
});

describe('spearman(x, y) and averageRanks(x)', () => {
  it('averageRanks gives average ranks to ties (= scipy.stats.rankdata)', () => {
    expect(Array.from(averageRanks(G.spearman.x))).toEqual(G.spearman.ranksX);
  });

  it('spearman with ties = scipy.stats.spearmanr', () => {
    expect(Math.abs(spearman(G.spearman.x, G.spearman.y) - G.spearman.rho)).toBeLessThan(1e-14);
  });

  it('spearman of a constant vector is NaN; length mismatch throws ShapeError', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => spearman([1, 2], [1])).toThrow(ShapeError);
  });
});

describe('rsaPairedAtoms(atomsA, atomsB, pairsA, pairsB, opts)', () => {
  const c = G.rsa;
  const A: Mat = { data: Float32Array.from(c.atomsA), rows: c.nA, cols: c.d };
  const B: Mat = { data: Float32Array.from(c.atomsB), rows: c.nB, cols: c.d };

  it('rho = scipy spearmanr of the upper triangles of the paired cosine matrices', () => {
    const r = rsaPairedAtoms(A, B, c.pairsA, c.pairsB, { nullDraws: 0 });
    expect(r.nPairs).toBe(8);
    expect(r.nEntries).toBe(28);
    expect(Math.abs(r.rho - c.rho)).toBeLessThan(1e-6);
    expect(r.p).toBeNaN();
  });

  it('shuffled-pairing null: reproducible for a seed, p = (1 + #{null ≥ ρ}) / (1 + N) in (0, 1]', () => {
    const r1 = rsaPairedAtoms(A, B, c.pairsA, c.pairsB, { nullDraws: 499, seed: 3 });
    const r2 = rsaPairedAtoms(A, B, c.pairsA, c.pairsB, { nullDraws: 499, seed: 3 });
    expect(r1).toEqual(r2);
    expect(r1.p).toBeGreaterThanOrEqual(1 / 500);
    expect(r1.p).toBeLessThan(0.05); // the pairing is real (B = noisy A), ρ ≈ 0.75
    expect(Math.abs(r1.nullMean)).toBeLessThan(0.1);
  });

  it('a rotated copy gives ρ = 1 and the smallest possible p; independent atoms give a large p', () => {
    const rng = Rng.from(9, 'rsa');
    const n = 30;
    const d = 10;
    const a = gaussian(n, d, rng);
    // Rotation: multiply by an orthogonal matrix (from the SVD of a Gaussian).
    const q = orthonormalBasis(Float64Array.from(gaussian(d, d, rng).data), d, d).basisKD;
    const b = new Float32Array(n * d);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < d; j++) for (let t = 0; t < d; t++) b[i * d + j] += a.data[i * d + t] * q[t * d + j];
    const idx = Array.from({ length: n }, (_, i) => i);
    const same = rsaPairedAtoms(a, { data: b, rows: n, cols: d }, idx, idx, { nullDraws: 199 });
    expect(same.rho).toBeGreaterThan(0.9999);
    expect(same.p).toBeCloseTo(1 / 200, 12);
    const indep = rsaPairedAtoms(a, gaussian(n, d, rng), idx, idx, { nullDraws: 199 });
    expect(Math.abs(indep.rho)).toBeLessThan(0.2);
    expect(indep.p).toBeGreaterThan(0.01);
  });

  it('maxPairs subsamples pairs reproducibly; bad pairs throw', () => {
    const idx = [0, 1, 2, 3, 4, 5, 6, 7];
    const r = rsaPairedAtoms(A, B, idx, c.pairsB, { maxPairs: 5, nullDraws: 0 });
    expect(r.nPairs).toBe(5);
    expect(r.nEntries).toBe(10);
    expect(() => rsaPairedAtoms(A, B, [0, 1], [0], {})).toThrow(ShapeError);
    expect(() => rsaPairedAtoms(A, B, [0, 1, 99], [0, 1, 2], {})).toThrow(ShapeError);
    expect(() => rsaPairedAtoms(A, B, [0, 1], [0, 1], {})).toThrow(ConfigError);
  });
});
