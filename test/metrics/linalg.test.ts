import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { symEig, thinSvd } from '../../src/metrics/linalg.js';
import { NumericError, ShapeError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';

// Golden numbers from numpy.linalg (test/golden/metrics2/make_golden.py).
const G = JSON.parse(readFileSync(new URL('../golden/metrics2/golden.json', import.meta.url), 'utf8'));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** ‖XᵀX − I‖_max for X [r × k] row-major. */
function orthoError(x: Float64Array, r: number, k: number): number {
  let m = 0;
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let s = 0;
      for (let i = 0; i < r; i++) s += x[i * k + p] * x[i * k + q];
      m = Math.max(m, Math.abs(s - (p === q ? 1 : 0)));
    }
  }
  return m;
}

describe('symEig(aNN, n, wantVectors)', () => {
  it('symEig(random 12×12) matches numpy.linalg.eigh values and sign-fixed vectors to 1e-12', () => {
    const c = G.eig.random;
    const r = symEig(c.a, c.n);
    expect(maxAbsDiff(r.values, c.values)).toBeLessThan(1e-12);
    // Our rows are eigenvectors; numpy's golden stores them as columns.
    const n = c.n;
    const asCols = new Float64Array(n * n);
    for (let t = 0; t < n; t++) for (let i = 0; i < n; i++) asCols[i * n + t] = r.vectorsNN![t * n + i];
    expect(maxAbsDiff(asCols, c.vectorsCols)).toBeLessThan(1e-11);
  });

  it('symEig(ill-conditioned, eigenvalues ±1 … ±1e-12) has absolute accuracy ~n·ε·‖A‖', () => {
    const c = G.eig.ill;
    const r = symEig(c.a, c.n);
    expect(maxAbsDiff(r.values, c.values)).toBeLessThan(1e-14);
    // A·v = λ·v for every pair (residual relative to ‖A‖ = 1).
    const n = c.n;
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += c.a[i * n + j] * r.vectorsNN![t * n + j];
        expect(Math.abs(s - r.values[t] * r.vectorsNN![t * n + i])).toBeLessThan(1e-14);
      }
    }
  });

  it('symEig(repeated eigenvalues 3, 3, 1, 1, 1, −2) gives the values and an orthonormal eigenbasis', () => {
    const c = G.eig.repeated;
    const r = symEig(c.a, c.n);
    expect(maxAbsDiff(r.values, c.values)).toBeLessThan(1e-13);
    const n = c.n;
    const v = new Float64Array(n * n);
    for (let t = 0; t < n; t++) for (let i = 0; i < n; i++) v[i * n + t] = r.vectorsNN![t * n + i];
    expect(orthoError(v, n, n)).toBeLessThan(1e-13);
  });

  it('symEig(a, n, false) returns the same eigenvalues without vectors', () => {
    for (const c of [G.eig.random, G.eig.ill, G.eig.repeated]) {
      const r = symEig(c.a, c.n, false);
      expect(r.vectorsNN).toBeNull();
      expect(maxAbsDiff(r.values, c.values)).toBeLessThan(1e-12);
    }
  });

  it('symEig of 1×1, 0×0 and diagonal matrices', () => {
    expect(Array.from(symEig([5], 1).values)).toEqual([5]);
    expect(symEig([], 0).values.length).toBe(0);
    const r = symEig([1, 0, 0, 0, 4, 0, 0, 0, 2], 3);
    expect(Array.from(r.values)).toEqual([4, 2, 1]);
    expect(Array.from(r.vectorsNN!.subarray(0, 3))).toEqual([0, 1, 0]);
  });

  it('symEig throws ShapeError on a wrong length and NumericError on NaN', () => {
    expect(() => symEig([1, 2, 3], 2)).toThrow(ShapeError);
    expect(() => symEig([1, NaN, NaN, 1], 2)).toThrow(NumericError);
  });

  it('symEig(random 80×80) reconstructs A = VᵀΛV to 1e-12', () => {
    const n = 80;
    const rng = Rng.from(3, 'linalg');
    const x = new Float64Array(n * n);
    rng.fillNormal(x);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (x[i * n + j] + x[j * n + i]) / 2;
    const { values, vectorsNN } = symEig(a, n);
    let err = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < n; t++) s += vectorsNN![t * n + i] * values[t] * vectorsNN![t * n + j];
        err = Math.max(err, Math.abs(s - a[i * n + j]));
      }
    }
    expect(err).toBeLessThan(1e-12);
  });
});

describe('thinSvd(aRC, rows, cols)', () => {
  for (const name of ['tall', 'wide'] as const) {
    it(`thinSvd(${name} ${G.svd[name].rows}×${G.svd[name].cols}) matches numpy.linalg.svd (s, sign-fixed U and V) to 1e-12`, () => {
      const c = G.svd[name];
      const r = thinSvd(c.a, c.rows, c.cols);
      expect(r.k).toBe(Math.min(c.rows, c.cols));
      expect(maxAbsDiff(r.s, c.s)).toBeLessThan(1e-12);
      expect(maxAbsDiff(r.uRK, c.u)).toBeLessThan(1e-11);
      expect(maxAbsDiff(r.vCK, c.v)).toBeLessThan(1e-11);
    });
  }

  it('thinSvd(ill-conditioned 20×8, σ = 1 … 1e-10) gets every σ to relative 1e-6 and U, V orthonormal', () => {
    // numpy (LAPACK gesdd) is accurate to ~ε·σ_max absolutely; Jacobi is relatively accurate, so
    // the smallest σ is where the two may differ: ≤ 1e-15 absolute, i.e. ≤ 1e-5 relative at 1e-10.
    const c = G.svd.ill;
    const r = thinSvd(c.a, c.rows, c.cols);
    for (let t = 0; t < 8; t++) expect(Math.abs(r.s[t] - c.s[t]) / c.s[t]).toBeLessThan(1e-5);
    expect(maxAbsDiff(r.s, c.s)).toBeLessThan(1e-14);
    expect(orthoError(r.uRK, 20, 8)).toBeLessThan(1e-12);
    expect(orthoError(r.vCK, 8, 8)).toBeLessThan(1e-12);
    // Well-separated leading vectors agree with numpy.
    for (let i = 0; i < 20; i++) expect(Math.abs(r.uRK[i * 8] - c.u[i * 8])).toBeLessThan(1e-12);
  });

  it('thinSvd(rank-2 6×4) gives two zero singular values and still orthonormal U, V', () => {
    const c = G.svd.rank2;
    const r = thinSvd(c.a, c.rows, c.cols);
    expect(maxAbsDiff(r.s, c.s)).toBeLessThan(1e-13);
    expect(orthoError(r.uRK, 6, 4)).toBeLessThan(1e-10);
    expect(orthoError(r.vCK, 4, 4)).toBeLessThan(1e-12);
    // Reconstruction.
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let t = 0; t < 4; t++) s += r.uRK[i * 4 + t] * r.s[t] * r.vCK[j * 4 + t];
        expect(Math.abs(s - c.a[i * 4 + j])).toBeLessThan(1e-13);
      }
    }
  });

  it('thinSvd(zero 3×2) returns σ = 0 with orthonormal completed U', () => {
    const r = thinSvd(new Float64Array(6), 3, 2);
    expect(Array.from(r.s)).toEqual([0, 0]);
    expect(orthoError(r.uRK, 3, 2)).toBeLessThan(1e-15);
  });

  it('thinSvd throws ShapeError on a wrong length and NumericError on Inf', () => {
    expect(() => thinSvd([1, 2, 3], 2, 2)).toThrow(ShapeError);
    expect(() => thinSvd([1, Infinity, 0, 1], 2, 2)).toThrow(NumericError);
  });
});
