import { describe, expect, it } from 'vitest';
import { DataError, ShapeError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { type Assignment, assignBenchMatrix, benchAssign, linearSumAssignment } from '../../src/metrics/assignment.js';
import { golden } from './golden.js';

interface Case {
  name: string;
  rows: number;
  cols: number;
  data?: number[];
  quad?: number;
  min: number;
  max: number;
}

/** The deterministic integer matrix of make_golden.py's quad_matrix. */
function quad(rows: number, cols: number, p: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = (31 * i * i + 17 * j * j + 13 * i * j + 7 * i + 3 * j + 5) % p;
  }
  return out;
}

/** Checks that `a` is a valid one-to-one assignment of min(R, K) pairs and its total is right. */
function expectValid(a: Assignment, c: ArrayLike<number>, rows: number, cols: number): void {
  const k = Math.min(rows, cols);
  expect(a.rowIdx.length).toBe(k);
  expect(a.colIdx.length).toBe(k);
  expect(new Set(a.rowIdx).size).toBe(k);
  expect(new Set(a.colIdx).size).toBe(k);
  let s = 0;
  for (let t = 0; t < k; t++) {
    if (t > 0) expect(a.rowIdx[t]).toBeGreaterThan(a.rowIdx[t - 1]);
    expect(a.colForRow[a.rowIdx[t]]).toBe(a.colIdx[t]);
    expect(a.rowForCol[a.colIdx[t]]).toBe(a.rowIdx[t]);
    s += c[a.rowIdx[t] * cols + a.colIdx[t]];
  }
  expect(a.colForRow.filter((j) => j >= 0).length).toBe(k);
  expect(a.total).toBeCloseTo(s, 9);
}

/** Brute-force optimum over all injections of the smaller side. */
function brute(c: Float64Array, rows: number, cols: number, maximize: boolean): number {
  const tr = rows > cols;
  const nr = tr ? cols : rows;
  const nc = tr ? rows : cols;
  const get = (i: number, j: number): number => (tr ? c[j * cols + i] : c[i * cols + j]);
  const used = new Array<boolean>(nc).fill(false);
  let best = maximize ? -Infinity : Infinity;
  const rec = (i: number, s: number): void => {
    if (i === nr) {
      best = maximize ? Math.max(best, s) : Math.min(best, s);
      return;
    }
    for (let j = 0; j < nc; j++) {
      if (used[j]) continue;
      used[j] = true;
      rec(i + 1, s + get(i, j));
      used[j] = false;
    }
  };
  rec(0, 0);
  return nr === 0 ? 0 : best;
}

describe('linearSumAssignment', () => {
  const { cases } = golden<{ cases: Case[] }>('assignment.json');

  for (const cs of cases) {
    it(`linearSumAssignment(${cs.name}) matches scipy's optimal totals (min and max)`, () => {
      const data = cs.quad !== undefined ? quad(cs.rows, cs.cols, cs.quad) : Float64Array.from(cs.data ?? []);
      for (const maximize of [false, true]) {
        const a = linearSumAssignment({ data, rows: cs.rows, cols: cs.cols }, { maximize });
        expectValid(a, data, cs.rows, cs.cols);
        const want = maximize ? cs.max : cs.min;
        expect(Math.abs(a.total - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
      }
    });
  }

  it('linearSumAssignment(random R×K, R, K ≤ 6) equals brute force on 1500 float and tied-integer matrices', () => {
    const rng = Rng.from(1, 'assignment-brute');
    for (let t = 0; t < 1500; t++) {
      const rows = 1 + rng.int(6);
      const cols = 1 + rng.int(6);
      const integer = rng.int(2) === 0;
      const c = new Float64Array(rows * cols);
      for (let k = 0; k < c.length; k++) c[k] = integer ? rng.int(3) : 2 * rng.uniform() - 1;
      const maximize = rng.int(2) === 0;
      const a = linearSumAssignment({ data: c, rows, cols }, { maximize });
      expectValid(a, c, rows, cols);
      expect(a.total).toBeCloseTo(brute(c, rows, cols, maximize), 9);
    }
  });

  it('linearSumAssignment(Float32Array) uses the float32 values exactly', () => {
    const data = Float32Array.from([0.1, 0.7, 0.3, 0.2]);
    const a = linearSumAssignment({ data, rows: 2, cols: 2 }, { maximize: true });
    expect(Array.from(a.colIdx)).toEqual([1, 0]);
    expect(a.total).toBe(data[1] + data[2]);
  });

  it('linearSumAssignment(0×0) is empty with total 0', () => {
    const a = linearSumAssignment({ data: new Float64Array(0), rows: 0, cols: 0 });
    expect(a.rowIdx.length).toBe(0);
    expect(a.total).toBe(0);
  });

  it('linearSumAssignment(NaN entry) throws a DataError naming the matrix and the entry', () => {
    const data = Float64Array.from([1, 2, 3, 4, NaN, 6]);
    const call = (): Assignment => linearSumAssignment({ data, rows: 2, cols: 3 }, { name: 'cos(A, B)' });
    expect(call).toThrow(DataError);
    expect(call).toThrow(/cos\(A, B\).*entry \[1, 1\].*NaN/);
  });

  it('linearSumAssignment(±Infinity entry) throws a DataError', () => {
    expect(() => linearSumAssignment({ data: Float64Array.from([1, -Infinity]), rows: 1, cols: 2 })).toThrow(
      /-Infinity/,
    );
    expect(() => linearSumAssignment({ data: Float64Array.from([Infinity, 1]), rows: 2, cols: 1 })).toThrow(DataError);
  });

  it('linearSumAssignment(data of the wrong length) throws a ShapeError', () => {
    expect(() => linearSumAssignment({ data: new Float64Array(5), rows: 2, cols: 3 })).toThrow(ShapeError);
  });

  it('linearSumAssignment(C) with maximize equals −(min of −C)', () => {
    const rng = Rng.from(2, 'neg');
    const c = new Float64Array(40 * 55);
    rng.fillNormal(c);
    const neg = c.map((x) => -x);
    const a = linearSumAssignment({ data: c, rows: 40, cols: 55 }, { maximize: true });
    const b = linearSumAssignment({ data: neg, rows: 40, cols: 55 });
    expect(a.total).toBeCloseTo(-b.total, 10);
  });

  it('assignBenchMatrix(n, kind, d, seed) is reproducible from the seed; benchAssign solves it exactly', () => {
    for (const kind of ['uniform', 'cosines'] as const) {
      const m = assignBenchMatrix(200, kind, 32, 5);
      expect(assignBenchMatrix(200, kind, 32, 5).data).toEqual(m.data);
      expect(assignBenchMatrix(200, kind, 32, 6).data).not.toEqual(m.data);
      const r = benchAssign(m, kind);
      expect(r.n).toBe(200);
      expect(r.seconds).toBeGreaterThanOrEqual(0);
      const direct = linearSumAssignment(m, { maximize: kind === 'cosines' });
      expect(r.total).toBe(direct.total);
    }
    // Cosines between random unit atoms lie in [-1, 1].
    const c = assignBenchMatrix(50, 'cosines', 8, 1);
    expect(Math.max(...c.data.map(Math.abs))).toBeLessThanOrEqual(1 + 1e-6);
  });
});
