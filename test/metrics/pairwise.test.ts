import { describe, expect, it } from 'vitest';
import { ConfigError, DataError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';
import { gtMetrics, meanMaxAbsSym, mmcs, pwmcc, pwmccAbs, sharedFraction } from '../../src/metrics/pairwise.js';
import { golden, mat } from './golden.js';

// float32 GEMM against numpy's float64: cosines agree to ~1e-7, means of them to ~1e-6.
const TOL = 2e-6;

interface PairCase {
  name: string;
  d: number;
  nA: number;
  nB: number;
  A: number[];
  B: number[];
  mmcs_ab: number;
  mmcs_ba: number;
  meanMaxAbsSym: number;
  bestForA: number[];
  bestForB: number[];
  pwmcc: number;
  pwmcc_colForRow: number[];
  pwmcc_abs: number;
}
interface SharedCase {
  name: string;
  d: number;
  nA: number;
  nB: number;
  encA: number[];
  decA: number[];
  encB: number[];
  decB: number[];
  tau: number;
  taus: number[];
  shared_fraction: number;
  partnerEnc: number[];
  partnerDec: number[];
  curve: number[];
}
interface GtCase {
  name: string;
  d: number;
  nG: number;
  nA: number;
  G: number[];
  D: number[];
  gt_mcc: number;
  gt_mmcs: number;
  gt_recovered: number[];
}
const G = golden<{ pairs: PairCase[]; shared: SharedCase[]; gt: GtCase[] }>('pairwise.json');

function gaussian(rows: number, cols: number, seed: number): Mat {
  const data = new Float32Array(rows * cols);
  Rng.from(seed, 'pairwise-test').fillNormal(data);
  return { data, rows, cols };
}

function permuteRows(m: Mat, perm: ArrayLike<number>): Mat {
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(perm[i] * m.cols, (perm[i] + 1) * m.cols), i * m.cols);
  return { data: out, rows: m.rows, cols: m.cols };
}

describe('pairwise: golden values from numpy/scipy', () => {
  for (const c of G.pairs) {
    it(`mmcs / meanMaxAbsSym / pwmcc / pwmccAbs on fixture ${c.name} (N_A ≠ N_B allowed)`, () => {
      const a = mat(c.A, c.nA, c.d);
      const b = mat(c.B, c.nB, c.d);
      const m = mmcs(a, b);
      expect(Math.abs(m.mmcs_ab - c.mmcs_ab)).toBeLessThan(TOL);
      expect(Math.abs(m.mmcs_ba - c.mmcs_ba)).toBeLessThan(TOL);
      expect(Array.from(m.bestForA)).toEqual(c.bestForA);
      expect(Array.from(m.bestForB)).toEqual(c.bestForB);
      expect(Math.abs(meanMaxAbsSym(a, b) - c.meanMaxAbsSym)).toBeLessThan(TOL);
      const p = pwmcc(a, b);
      expect(Math.abs(p.value - c.pwmcc)).toBeLessThan(TOL);
      expect(Array.from(p.colForRow)).toEqual(c.pwmcc_colForRow);
      expect(p.rowIdx.length).toBe(Math.min(c.nA, c.nB));
      expect(Math.abs(pwmccAbs(a, b).value - c.pwmcc_abs)).toBeLessThan(TOL);
    });
  }

  for (const c of G.shared) {
    it(`sharedFraction on fixture ${c.name} matches the numpy rule and its τ-curve`, () => {
      const A = { enc: mat(c.encA, c.nA, c.d), dec: mat(c.decA, c.nA, c.d) };
      const B = { enc: mat(c.encB, c.nB, c.d), dec: mat(c.decB, c.nB, c.d) };
      const r = sharedFraction(A, B, { tau: c.tau, taus: c.taus });
      expect(r.shared_fraction).toBeCloseTo(c.shared_fraction, 12);
      expect(Array.from(r.partnerEnc)).toEqual(c.partnerEnc);
      expect(Array.from(r.partnerDec)).toEqual(c.partnerDec);
      expect(r.curve.taus).toEqual(c.taus);
      r.curve.fractions.forEach((f, k) => expect(f).toBeCloseTo(c.curve[k], 12));
      expect(r.shared.reduce((s, x) => s + x, 0)).toBe(Math.round(c.shared_fraction * c.nA));
    });
  }

  for (const c of G.gt) {
    it(`gtMetrics on fixture ${c.name}: gt_mcc (signed), gt_mmcs, gt_recovered at 0.9 and 0.7`, () => {
      const r = gtMetrics(mat(c.G, c.nG, c.d), mat(c.D, c.nA, c.d));
      expect(Math.abs(r.gt_mcc - c.gt_mcc)).toBeLessThan(TOL);
      expect(Math.abs(r.gt_mmcs - c.gt_mmcs)).toBeLessThan(TOL);
      expect(r.gt_recovered.map((x) => x.tau)).toEqual([0.9, 0.7]);
      r.gt_recovered.forEach((x, k) => expect(x.fraction).toBeCloseTo(c.gt_recovered[k], 12));
    });
  }
});

describe('pairwise: invariants', () => {
  const a = gaussian(40, 12, 1);
  const b = gaussian(30, 12, 2);

  it('pwmcc(A, A) = 1 with the identity matching, signed and abs', () => {
    const p = pwmcc(a, a);
    expect(p.value).toBeCloseTo(1, 6);
    expect(Array.from(p.colForRow)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(pwmccAbs(a, a).value).toBeCloseTo(1, 6);
    const m = mmcs(a, a);
    expect(m.mmcs_ab).toBeCloseTo(1, 6);
    expect(m.mmcs_ba).toBeCloseTo(1, 6);
  });

  it('pwmcc(A, B) is invariant to permuting the rows of B, and to rescaling atoms', () => {
    const perm = Rng.from(3, 'perm').permutation(30);
    const bp = permuteRows(b, perm);
    expect(pwmcc(a, bp).value).toBeCloseTo(pwmcc(a, b).value, 6);
    expect(pwmccAbs(a, bp).value).toBeCloseTo(pwmccAbs(a, b).value, 6);
    const scaled = { ...b, data: b.data.map((x, k) => x * (1 + (Math.floor(k / 12) % 5))) };
    expect(pwmcc(a, scaled).value).toBeCloseTo(pwmcc(a, b).value, 6);
    expect(meanMaxAbsSym(a, bp)).toBeCloseTo(meanMaxAbsSym(a, b), 6);
  });

  it('pwmcc(A, −A) is signed (below 1) while pwmccAbs(A, −A) = 1', () => {
    const neg = { ...a, data: a.data.map((x) => -x) };
    expect(pwmccAbs(a, neg).value).toBeCloseTo(1, 6);
    expect(pwmcc(a, neg).value).toBeLessThan(0.8); // best signed matching avoids the −1 diagonal
    expect(mmcs(a, neg).mmcs_ab).toBeLessThan(0.9);
    expect(meanMaxAbsSym(a, neg)).toBeCloseTo(1, 6);
  });

  it('mmcs_ab ≠ mmcs_ba on an asymmetric example: A = {e1}, B = {e1, e2, e3}', () => {
    const e = (k: number): number[] => [0, 0, 0].map((_, j) => (j === k ? 1 : 0));
    const A = mat(e(0), 1, 3);
    const B = mat([...e(0), ...e(1), ...e(2)], 3, 3);
    const m = mmcs(A, B);
    expect(m.mmcs_ab).toBeCloseTo(1, 7);
    expect(m.mmcs_ba).toBeCloseTo(1 / 3, 7);
    expect(meanMaxAbsSym(A, B)).toBeCloseTo(2 / 3, 7);
    expect(pwmcc(A, B).value).toBeCloseTo(1, 7); // min(N_A, N_B) = 1 pair
  });

  it('pwmcc(A [40×d], B [30×d]) matches min(N_A, N_B) = 30 pairs both ways round', () => {
    const ab = pwmcc(a, b);
    const ba = pwmcc(b, a);
    expect(ab.rowIdx.length).toBe(30);
    expect(ba.rowIdx.length).toBe(30);
    expect(ab.value).toBeCloseTo(ba.value, 6);
    expect(ab.colForRow.filter((j) => j < 0).length).toBe(10);
    ab.matchedCos.forEach((c) => expect(Math.abs(c)).toBeLessThanOrEqual(1 + 1e-6));
  });

  it('mmcs(A with NaN) and pwmcc(…) throw a DataError naming the matrix', () => {
    const bad = { ...a, data: Float32Array.from(a.data) };
    bad.data[5 * 12 + 3] = NaN;
    expect(() => mmcs(bad, b, { nameA: 'seed 4 W_dec' })).toThrow(DataError);
    expect(() => mmcs(bad, b, { nameA: 'seed 4 W_dec' })).toThrow(/seed 4 W_dec: row 5, column 3/);
    expect(() => pwmcc(b, bad, { nameB: 'seed 7 W_dec' })).toThrow(/seed 7 W_dec/);
    expect(() => gtMetrics(bad, b)).toThrow(/^G: row 5/);
  });

  it('pwmcc(A [n×12], B [m×8]) throws a ShapeError', () => {
    expect(() => pwmcc(a, gaussian(5, 8, 9))).toThrow(ShapeError);
  });

  it('mmcs and pwmcc of an empty set are NaN', () => {
    const empty: Mat = { data: new Float32Array(0), rows: 0, cols: 12 };
    expect(mmcs(empty, b).mmcs_ab).toBeNaN();
    expect(mmcs(b, empty).mmcs_ba).toBeNaN();
    expect(meanMaxAbsSym(empty, b)).toBeNaN();
    expect(pwmcc(empty, b).value).toBeNaN();
  });

  it('sharedFraction(A, A) = 1 at every τ ≤ 1 − 1e-6; with shuffled B partners follow the shuffle', () => {
    const enc = gaussian(25, 10, 4);
    const dec = gaussian(25, 10, 5);
    const self = sharedFraction({ enc, dec }, { enc, dec }, { taus: [0, 0.5, 0.999] });
    expect(self.shared_fraction).toBe(1);
    expect(self.curve.fractions).toEqual([1, 1, 1]);
    const perm = Rng.from(6, 'perm').permutation(25);
    const r = sharedFraction({ enc, dec }, { enc: permuteRows(enc, perm), dec: permuteRows(dec, perm) });
    expect(r.shared_fraction).toBe(1);
    for (let k = 0; k < 25; k++) expect(r.partnerEnc[perm[k]]).toBe(k);
  });

  it('sharedFraction is 0 when encoder and decoder matchings disagree', () => {
    const enc = gaussian(6, 10, 7);
    const dec = gaussian(6, 10, 8);
    const perm = [1, 2, 3, 4, 5, 0];
    const r = sharedFraction({ enc, dec }, { enc, dec: permuteRows(dec, perm) });
    expect(r.shared_fraction).toBe(0);
    expect(r.cosEnc[0]).toBeCloseTo(1, 6);
  });

  it('sharedFraction({enc [m×d], dec [m′×d]}, …) throws a ShapeError naming the SAE', () => {
    const A = { enc: gaussian(6, 10, 1), dec: gaussian(5, 10, 2) };
    expect(() => sharedFraction(A, A, { nameA: 'seed 2' })).toThrow(
      /seed 2: encoder atoms \[6×10\] and decoder atoms \[5×10\]/,
    );
  });

  it('sharedFraction({ tau: 1.5 }) throws a ConfigError', () => {
    const A = { enc: gaussian(3, 4, 1), dec: gaussian(3, 4, 2) };
    expect(() => sharedFraction(A, A, { tau: 1.5 })).toThrow(ConfigError);
  });

  it('gtMetrics(G, G) recovers everything; gt_mcc uses min(N_G, N_A) pairs', () => {
    const g = gaussian(8, 10, 11);
    const r = gtMetrics(g, g);
    expect(r.gt_mcc).toBeCloseTo(1, 6);
    expect(r.gt_mmcs).toBeCloseTo(1, 6);
    expect(r.gt_recovered.map((x) => x.fraction)).toEqual([1, 1]);
    const wider = gtMetrics(g, {
      data: Float32Array.from([...g.data, ...gaussian(4, 10, 12).data]),
      rows: 12,
      cols: 10,
    });
    expect(wider.gt_mcc).toBeCloseTo(1, 6);
    expect(wider.match.rowIdx.length).toBe(8);
  });
});
