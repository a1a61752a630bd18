import { describe, expect, it } from 'vitest';
import { DataError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';
import { cosineMatrix, maxCosines, unitAtoms, unitColumns } from '../../src/metrics/cosine.js';

function gaussian(rows: number, cols: number, seed: number): Mat {
  const data = new Float32Array(rows * cols);
  Rng.from(seed, 'cosine-test').fillNormal(data);
  return { data, rows, cols };
}

/** Row and column maxima by plain loops over the full matrix (the slow twin of maxCosines). */
function naiveMax(c: Mat, abs: boolean) {
  const rowMax = new Float64Array(c.rows).fill(-Infinity);
  const rowArg = new Int32Array(c.rows).fill(-1);
  const colMax = new Float64Array(c.cols).fill(-Infinity);
  const colArg = new Int32Array(c.cols).fill(-1);
  for (let i = 0; i < c.rows; i++) {
    for (let j = 0; j < c.cols; j++) {
      const x = abs ? Math.abs(c.data[i * c.cols + j]) : c.data[i * c.cols + j];
      if (x > rowMax[i]) [rowMax[i], rowArg[i]] = [x, j];
      if (x > colMax[j]) [colMax[j], colArg[j]] = [x, i];
    }
  }
  return { rowMax, rowArg, colMax, colArg };
}

function expectClose(got: Float64Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  for (let k = 0; k < got.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-6);
}

describe('cosine', () => {
  it('unitAtoms(m) returns a unit-norm copy and leaves the input alone', () => {
    const m = gaussian(5, 7, 1);
    const before = Float32Array.from(m.data);
    const u = unitAtoms(m, 'W_dec');
    expect(m.data).toEqual(before);
    for (let r = 0; r < 5; r++) {
      let s = 0;
      for (let c = 0; c < 7; c++) s += u.data[r * 7 + c] ** 2;
      expect(s).toBeCloseTo(1, 6);
    }
    expect(u.name).toBe('W_dec');
    expect(unitAtoms(u)).toBe(u);
  });

  it('unitAtoms(m with NaN) throws a DataError naming the matrix, row and column', () => {
    const m = gaussian(4, 3, 2);
    m.data[2 * 3 + 1] = NaN;
    expect(() => unitAtoms(m, 'decoder atoms of seed 3')).toThrow(DataError);
    expect(() => unitAtoms(m, 'decoder atoms of seed 3')).toThrow(
      /decoder atoms of seed 3: row 2, column 1 of \[4×3\]: found NaN/,
    );
  });

  it('unitAtoms(zero row) keeps it zero, so its cosines are 0', () => {
    const m = gaussian(3, 4, 3);
    m.data.fill(0, 4, 8);
    const c = cosineMatrix(m, m);
    for (let j = 0; j < 3; j++) expect(c.data[1 * 3 + j]).toBe(0);
  });

  it('unitColumns(W_enc [D×M]) gives column i as unit atom i', () => {
    const w = gaussian(6, 4, 4);
    const u = unitColumns(w);
    expect([u.rows, u.cols]).toEqual([4, 6]);
    for (let i = 0; i < 4; i++) {
      let n = 0;
      for (let r = 0; r < 6; r++) n += w.data[r * 4 + i] ** 2;
      n = Math.sqrt(n);
      for (let r = 0; r < 6; r++) expect(u.data[i * 6 + r]).toBeCloseTo(w.data[r * 4 + i] / n, 6);
    }
  });

  it('cosineMatrix(A, B) is Â·B̂ᵀ and |·| with abs', () => {
    const a = gaussian(3, 5, 5);
    const b = gaussian(4, 5, 6);
    const c = cosineMatrix(a, b);
    const ca = cosineMatrix(a, b, { abs: true });
    const ua = unitAtoms(a);
    const ub = unitAtoms(b);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 5; k++) s += ua.data[i * 5 + k] * ub.data[j * 5 + k];
        expect(c.data[i * 4 + j]).toBeCloseTo(s, 6);
        expect(ca.data[i * 4 + j]).toBeCloseTo(Math.abs(s), 6);
      }
    }
  });

  it('cosineMatrix(A [n×5], B [m×6]) throws a ShapeError naming both', () => {
    expect(() => cosineMatrix(gaussian(2, 5, 1), gaussian(2, 6, 1), { nameA: 'seed 0', nameB: 'seed 1' })).toThrow(
      ShapeError,
    );
    expect(() => cosineMatrix(gaussian(2, 5, 1), gaussian(2, 6, 1), { nameA: 'seed 0', nameB: 'seed 1' })).toThrow(
      /seed 0 \[2×5\] and seed 1 \[2×6\]/,
    );
  });

  for (const blockRows of [1, 3, 7, 64, 1024]) {
    it(`maxCosines(A [50×16], B [37×16], { blockRows: ${blockRows} }) equals the unblocked loops, signed and abs`, () => {
      const a = gaussian(50, 16, 7);
      const b = gaussian(37, 16, 8);
      for (const abs of [false, true]) {
        const want = naiveMax(cosineMatrix(a, b), abs);
        const got = maxCosines(a, b, { abs, blockRows });
        // Values within float32 rounding (a BLAS may round a row differently inside a smaller block).
        expectClose(got.rowMax, want.rowMax);
        expectClose(got.colMax, want.colMax);
        expect(got.rowArg).toEqual(want.rowArg);
        expect(got.colArg).toEqual(want.colArg);
      }
    });
  }

  it('maxCosines(ties) picks the first index, like numpy argmax', () => {
    const a: Mat = { data: Float32Array.from([1, 0, 1, 0]), rows: 2, cols: 2 };
    const b: Mat = { data: Float32Array.from([0, 1, 1, 0, 1, 0]), rows: 3, cols: 2 };
    const m = maxCosines(a, b, { blockRows: 1 });
    expect(Array.from(m.rowArg)).toEqual([1, 1]);
    expect(Array.from(m.colArg)).toEqual([0, 0, 0]);
  });

  it('maxCosines(A [0×d], B) returns empty row maxima and −∞ column maxima', () => {
    const m = maxCosines({ data: new Float32Array(0), rows: 0, cols: 4 }, gaussian(3, 4, 9));
    expect(m.rowMax.length).toBe(0);
    expect(Array.from(m.colMax)).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(Array.from(m.colArg)).toEqual([-1, -1, -1]);
  });
});
