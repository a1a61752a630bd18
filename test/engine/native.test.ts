/**
 * The native engine against the TypeScript reference, kernel by kernel, on seeded random data:
 * odd shapes, 1-row / 1-column cases, strided and offset views (with the memory around them
 * checked untouched), ties / NaN / ±0 where order or masks matter. Kernels documented as matching
 * the reference bit for bit (native/src/kernels.cc) are compared byte for byte; float-accumulating
 * kernels get rigorous bounds of the form 2·(terms + 2)·2⁻²⁴·Σ|products|.
 *
 * If the addon is not built this file fails (it does not skip). Under HUSAI_ENGINE=reference it
 * only checks that the reference engine is the one in use.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { createEngine, getEngine } from '../../src/engine/index.js';
import { loadNativeEngine } from '../../src/engine/native.js';
import type { Engine } from '../../src/engine/types.js';

const U = 2 ** -24; // float32 unit roundoff
const SENTINEL = 12345.25;

if (process.env.HUSAI_ENGINE === 'reference') {
  describe('native engine (HUSAI_ENGINE=reference)', () => {
    it('the process-wide engine is the reference engine', () => {
      expect(getEngine().name).toBe('reference');
    });
  });
} else {
  nativeSuite();
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────

function randn(rng: Rng, n: number, sd = 1): Float32Array {
  const a = new Float32Array(n);
  rng.fillNormal(a, 0, sd);
  return a;
}

/** A copy of `data` placed at offset `off` inside a larger buffer filled with SENTINEL. */
function placed(data: Float32Array, off: number, tail = 5): { buf: Float32Array; view: Float32Array } {
  const buf = new Float32Array(off + data.length + tail).fill(SENTINEL);
  buf.set(data, off);
  return { buf, view: buf.subarray(off, off + data.length) };
}
function placedI32(data: Int32Array, off: number, tail = 3): { buf: Int32Array; view: Int32Array } {
  const buf = new Int32Array(off + data.length + tail).fill(-777);
  buf.set(data, off);
  return { buf, view: buf.subarray(off, off + data.length) };
}

/** Every element of buf outside [off, off + len) is still SENTINEL. */
function expectUntouched(buf: Float32Array, off: number, len: number): void {
  for (let i = 0; i < buf.length; i++) {
    if (i >= off && i < off + len) continue;
    if (buf[i] !== SENTINEL) throw new Error(`element ${i} outside the view was overwritten: ${buf[i]}`);
  }
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Byte-identical arrays (distinguishes −0 from +0 and compares NaNs by bits). */
function expectSameBytes(
  what: string,
  got: Float32Array | Int32Array | Float64Array,
  want: Float32Array | Int32Array | Float64Array,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const gb = bytes(got);
  const wb = bytes(want);
  for (let i = 0; i < gb.length; i++) {
    if (gb[i] !== wb[i]) {
      const e = Math.floor(i / want.BYTES_PER_ELEMENT);
      throw new Error(
        `${what}: element ${e} differs: native ${Object.is(got[e], -0) ? '-0' : got[e]}, reference ${Object.is(want[e], -0) ? '-0' : want[e]}`,
      );
    }
  }
}

/** |got − want| ≤ tol[i] elementwise (NaN must match NaN). */
function expectWithin(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: ArrayLike<number> | number,
): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) throw new Error(`${what}[${i}]: native ${g}, reference ${w}`);
      continue;
    }
    const t = typeof tol === 'number' ? tol : tol[i];
    if (!(Math.abs(g - w) <= t)) {
      throw new Error(`${what}[${i}]: native ${g}, reference ${w}, |diff| ${Math.abs(g - w)} > tol ${t}`);
    }
  }
}

function abs(a: Float32Array): Float32Array {
  return a.map(Math.abs);
}

function randIdx(rng: Rng, n: number, bound: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(bound);
  return a;
}

/** Distinct indices per row (TopK codes). */
function distinctIdx(rng: Rng, rows: number, k: number, bound: number): Int32Array {
  const a = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const seen = new Set<number>();
    for (let j = 0; j < k; j++) {
      let v = rng.int(bound);
      while (seen.has(v)) v = rng.int(bound);
      seen.add(v);
      a[r * k + j] = v;
    }
  }
  return a;
}

/** Values with deliberate ties, zeros of both signs, infinities and NaNs. */
function awkward(rng: Rng, n: number, nanRate = 0.05): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    if (u < nanRate) a[i] = NaN;
    else if (u < nanRate + 0.05) a[i] = -0;
    else if (u < nanRate + 0.1) a[i] = 0;
    else if (u < nanRate + 0.12) a[i] = rng.uniform() < 0.5 ? Infinity : -Infinity;
    else if (u < 0.6)
      a[i] = rng.int(5) - 2; // small integers: many ties
    else a[i] = rng.normal();
  }
  return a;
}

const SIZES = [1, 7, 33, 129];

// ── the suite ───────────────────────────────────────────────────────────────────────────────

function nativeSuite(): void {
  const ref = createEngine('reference');
  let natEngine: Engine | null = null;
  /** Created on first use, so a missing addon fails each test with the loader's reason and fix. */
  const nat = (): Engine => (natEngine ??= createEngine('native'));

  describe('native engine: build and info', () => {
    it('the addon is built and loads', () => {
      const loaded = loadNativeEngine();
      if ('error' in loaded) throw new Error(`native addon unavailable: ${loaded.error}; ${loaded.hint}`);
      expect(loaded.engine.name).toBe('native');
    });

    it('info() reports the BLAS in use, and a fallback reason exactly when it is the built-in GEMM', () => {
      const info = nat().info();
      expect(info.name).toBe('native');
      expect(['openblas', 'builtin']).toContain(info.blas);
      expect(['openmp', 'pthreads', 'none']).toContain(info.blasThreading);
      expect(info.threads).toBeGreaterThanOrEqual(1);
      expect(info.blasConfig.length).toBeGreaterThan(0);
      if (info.blas === 'builtin') {
        expect(info.fallbackReason).toMatch(/OpenBLAS not found at build time.*libopenblas-openmp-dev/);
        expect(info.blasCore).toBe('');
      } else {
        expect(info.fallbackReason).toBeNull();
        expect(info.blasCore.length).toBeGreaterThan(0);
      }
    });

    it('setThreads changes info().threads', () => {
      const before = nat().info().threads;
      try {
        nat().setThreads(1);
        expect(nat().info().threads).toBe(1);
        nat().setThreads(2);
        expect(nat().info().threads).toBe(2);
      } finally {
        nat().setThreads(before);
      }
    });

    it('a shape mismatch throws an error naming the shapes', () => {
      expect(() => nat().addRowVec(new Float32Array(11), 3, 4, new Float32Array(4), 1)).toThrow(/\[3×4\]/);
      expect(() =>
        nat().gemm(
          false,
          false,
          3,
          5,
          4,
          1,
          new Float32Array(11),
          4,
          new Float32Array(20),
          5,
          0,
          new Float32Array(15),
          5,
        ),
      ).toThrow(/\[3×4\]/);
    });
  });

  describe('native engine: gemm', () => {
    it('all four transpose combinations, odd shapes, alpha/beta ≠ 0/1, strides > columns, offset views', () => {
      const rng = Rng.from(101, 'gemm');
      const shapes: Array<[number, number, number]> = [
        [1, 1, 1],
        [1, 7, 33],
        [7, 1, 33],
        [33, 129, 7],
        [129, 33, 64],
        [64, 64, 1],
        [17, 5, 300],
        [5, 1100, 20],
        [70, 90, 520],
      ];
      const coefs: Array<[number, number]> = [
        [1, 0],
        [0.7, 0],
        [-1.3, 0.5],
        [1, 1],
        [2.5, -2],
      ];
      let caseNo = 0;
      for (const [m, n, k] of shapes) {
        for (const tA of [false, true]) {
          for (const tB of [false, true]) {
            const [alpha, beta] = coefs[caseNo++ % coefs.length];
            const [ar, ac] = tA ? [k, m] : [m, k];
            const [br, bc] = tB ? [n, k] : [k, n];
            const lda = ac + (caseNo % 3);
            const ldb = bc + ((caseNo + 1) % 4);
            const ldc = n + (caseNo % 2) * 3;
            const aData = randn(rng, (ar - 1) * lda + ac);
            const bData = randn(rng, (br - 1) * ldb + bc);
            const cData = randn(rng, (m - 1) * ldc + n);
            if (beta === 0) cData.fill(NaN); // beta = 0 must ignore C entirely
            const offA = 3;
            const offB = 1;
            const offC = 5;
            const A = placed(aData, offA);
            const B = placed(bData, offB);
            const C = placed(cData, offC);
            const cRef = cData.slice();
            const label = `gemm ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} m=${m} n=${n} k=${k} α=${alpha} β=${beta}`;
            nat().gemm(tA, tB, m, n, k, alpha, A.view, lda, B.view, ldb, beta, C.view, ldc);
            ref.gemm(tA, tB, m, n, k, alpha, aData, lda, bData, ldb, beta, cRef, ldc);
            // Error bound: 2·(k + 2)·u·|alpha|·Σ_p |a_ip b_pj| + 2u·|beta·c_ij|.
            const S = new Float32Array(cData.length);
            ref.gemm(tA, tB, m, n, k, 1, abs(aData), lda, abs(bData), ldb, 0, S, ldc);
            const got: number[] = [];
            const want: number[] = [];
            const tol: number[] = [];
            for (let i = 0; i < m; i++) {
              for (let j = 0; j < n; j++) {
                const at = i * ldc + j;
                got.push(C.view[at]);
                want.push(cRef[at]);
                tol.push(
                  2 * (k + 2) * U * Math.abs(alpha) * S[at] +
                    (beta === 0 ? 0 : 4 * U * Math.abs(beta * cData[at])) +
                    1e-30,
                );
              }
            }
            expectWithin(label, got, want, tol);
            // Only the m×n logical entries of C may change: not the gaps between rows, not outside.
            for (let i = 0; i < C.buf.length; i++) {
              const e = i - offC;
              const inside = e >= 0 && e < cData.length && e % ldc < n;
              if (!inside && !Object.is(C.buf[i], i < offC || e >= cData.length ? SENTINEL : cData[e])) {
                throw new Error(`${label}: C element ${i} outside the m×n block changed`);
              }
            }
            expectUntouched(A.buf, offA, aData.length);
            expectUntouched(B.buf, offB, bData.length);
          }
        }
      }
    });

    it('the same call twice gives identical bytes', () => {
      const rng = Rng.from(102, 'gemm-det');
      const [m, n, k] = [300, 257, 190];
      const a = randn(rng, m * k);
      const b = randn(rng, k * n);
      const c1 = new Float32Array(m * n);
      const c2 = new Float32Array(m * n);
      nat().gemm(false, true, m, n, k, 1, a, k, b.subarray(0, n * k), k, 0, c1, n);
      nat().gemm(false, true, m, n, k, 1, a, k, b.subarray(0, n * k), k, 0, c2, n);
      expectSameBytes('gemm repeat', c1, c2);
    });
  });

  describe('native engine: broadcasts and row/column reductions', () => {
    it('addRowVec matches the reference bit for bit (alpha = 1, −1, 0.37), on offset views', () => {
      const rng = Rng.from(201);
      for (const rows of SIZES) {
        for (const cols of SIZES) {
          for (const alpha of [1, -1, 0.37]) {
            const x = randn(rng, rows * cols);
            const v = randn(rng, cols);
            const X = placed(x, 2);
            const V = placed(v, 7);
            const want = x.slice();
            ref.addRowVec(want, rows, cols, v, alpha);
            nat().addRowVec(X.view, rows, cols, V.view, alpha);
            expectSameBytes(`addRowVec ${rows}×${cols} α=${alpha}`, X.view, want);
            expectUntouched(X.buf, 2, x.length);
          }
        }
      }
    });

    it('colSum matches the reference bit for bit (same summation order), with alpha/beta', () => {
      const rng = Rng.from(202);
      for (const rows of [1, 7, 33, 129, 1000]) {
        for (const cols of [1, 7, 33, 129, 600]) {
          for (const [alpha, beta] of [
            [1, 0],
            [0.5, 1],
            [-2, 0.3],
          ] as const) {
            const x = randn(rng, rows * cols);
            const out = randn(rng, cols);
            if (beta === 0) out.fill(NaN);
            const O = placed(out, 4);
            const want = out.slice();
            ref.colSum(x, rows, cols, want, alpha, beta);
            nat().colSum(placed(x, 1).view, rows, cols, O.view, alpha, beta);
            expectSameBytes(`colSum ${rows}×${cols} α=${alpha} β=${beta}`, O.view, want);
            expectUntouched(O.buf, 4, cols);
          }
        }
      }
    });

    it('rowNorms and normalizeRows (including a zero row), with and without normsOut', () => {
      const rng = Rng.from(203);
      for (const rows of SIZES) {
        for (const cols of [1, 7, 33, 129, 512]) {
          const x = randn(rng, rows * cols, 3);
          x.fill(0, 0, cols); // first row zero
          const norms = new Float32Array(rows);
          const normsRef = new Float32Array(rows);
          nat().rowNorms(placed(x, 3).view, rows, cols, norms);
          ref.rowNorms(x, rows, cols, normsRef);
          expectWithin(
            `rowNorms ${rows}×${cols}`,
            norms,
            normsRef,
            Array.from(normsRef, (v) => 2 * U * v),
          );

          const X = placed(x, 6);
          const want = x.slice();
          const N = placed(new Float32Array(rows), 1);
          const wantN = new Float32Array(rows);
          nat().normalizeRows(X.view, rows, cols, N.view);
          ref.normalizeRows(want, rows, cols, wantN);
          expectWithin(
            `normalizeRows ${rows}×${cols}`,
            X.view,
            want,
            Array.from(want, (v) => 4 * U * Math.abs(v)),
          );
          expectWithin(
            `normalizeRows norms ${rows}×${cols}`,
            N.view,
            wantN,
            Array.from(wantN, (v) => 2 * U * v),
          );
          expectUntouched(X.buf, 6, x.length);
          expectUntouched(N.buf, 1, rows);

          const Y = x.slice();
          const wantY = x.slice();
          nat().normalizeRows(Y, rows, cols, null);
          ref.normalizeRows(wantY, rows, cols, null);
          expectWithin(
            `normalizeRows (no norms) ${rows}×${cols}`,
            Y,
            wantY,
            Array.from(wantY, (v) => 4 * U * Math.abs(v)),
          );
        }
      }
    });

    it('projectOutRows (zero weight rows leave g unchanged)', () => {
      const rng = Rng.from(204);
      for (const rows of SIZES) {
        for (const cols of [1, 7, 33, 129, 512]) {
          const w = randn(rng, rows * cols);
          w.fill(0, 0, cols);
          const g = randn(rng, rows * cols);
          const G = placed(g, 5);
          const want = g.slice();
          nat().projectOutRows(placed(w, 2).view, G.view, rows, cols);
          ref.projectOutRows(w, want, rows, cols);
          // Error: |Δs|·|w| with Δs ~ cols·2⁻⁵³·(|g||w|/|w|²), plus the final float rounding.
          const tol = Array.from(want, (v, i) => 4 * U * Math.abs(v) + 1e-12 * cols * (Math.abs(g[i]) + 1));
          expectWithin(`projectOutRows ${rows}×${cols}`, G.view, want, tol);
          expectSameBytes('projectOutRows zero row', G.view.subarray(0, cols), g.subarray(0, cols));
          expectUntouched(G.buf, 5, g.length);
        }
      }
    });

    it('rowMax: first index of the largest value, NaN skipped, all-NaN rows, ±0 ties', () => {
      const rng = Rng.from(205);
      for (const rows of SIZES) {
        for (const cols of SIZES) {
          const x = awkward(rng, rows * cols, 0.2);
          if (rows > 2) x.fill(NaN, cols, 2 * cols); // an all-NaN row
          const v = new Float32Array(rows);
          const i = new Int32Array(rows);
          const vr = new Float32Array(rows);
          const ir = new Int32Array(rows);
          nat().rowMax(placed(x, 1).view, rows, cols, v, i);
          ref.rowMax(x, rows, cols, vr, ir);
          expectSameBytes(`rowMax vals ${rows}×${cols}`, v, vr);
          expectSameBytes(`rowMax idx ${rows}×${cols}`, i, ir);
        }
      }
    });

    it('colNonzeroCount accumulates into counts (NaN counts, ±0 does not)', () => {
      const rng = Rng.from(206);
      for (const rows of [1, 7, 33, 129, 700]) {
        for (const cols of [1, 7, 33, 129, 1500]) {
          const x = awkward(rng, rows * cols);
          const init = randIdx(rng, cols, 10);
          const C = placedI32(init, 2);
          const want = init.slice();
          nat().colNonzeroCount(x, rows, cols, C.view);
          ref.colNonzeroCount(x, rows, cols, want);
          expectSameBytes(`colNonzeroCount ${rows}×${cols}`, C.view, want);
          expect(C.buf[0]).toBe(-777);
          expect(C.buf[C.buf.length - 1]).toBe(-777);
        }
      }
    });
  });

  describe('native engine: elementwise and scalar reductions', () => {
    it('relu (also in place) and reluBackward (with and without colAdd, also in place) bit for bit', () => {
      const rng = Rng.from(301);
      for (const rows of SIZES) {
        for (const cols of [1, 7, 33, 129, 300]) {
          const n = rows * cols;
          const x = awkward(rng, n);
          const O = placed(new Float32Array(n), 3);
          const want = new Float32Array(n);
          nat().relu(placed(x, 1).view, O.view);
          ref.relu(x, want);
          expectSameBytes(`relu ${n}`, O.view, want);
          expectUntouched(O.buf, 3, n);
          const inPlace = x.slice();
          nat().relu(inPlace, inPlace);
          expectSameBytes(`relu in place ${n}`, inPlace, want);

          const pre = awkward(rng, n);
          const gOut = awkward(rng, n, 0);
          const colAdd = randn(rng, cols);
          for (const ca of [null, colAdd]) {
            const GI = placed(new Float32Array(n).fill(7), 2);
            const wantG = new Float32Array(n);
            nat().reluBackward(pre, placed(gOut, 4).view, GI.view, rows, cols, ca);
            ref.reluBackward(pre, gOut, wantG, rows, cols, ca);
            expectSameBytes(`reluBackward ${rows}×${cols} colAdd=${ca !== null}`, GI.view, wantG);
            expectUntouched(GI.buf, 2, n);
            const alias = gOut.slice();
            nat().reluBackward(pre, alias, alias, rows, cols, ca);
            expectSameBytes(`reluBackward in place ${rows}×${cols}`, alias, wantG);
          }
        }
      }
    });

    it('axpy and scale bit for bit (alpha = ±1, float-exact and non-float-exact alphas)', () => {
      const rng = Rng.from(302);
      for (const n of [0, 1, 7, 33, 129, 70001]) {
        for (const alpha of [1, -1, 0.5, -3, 0.1, 1 / 3]) {
          const x = randn(rng, n);
          const y = randn(rng, n);
          const Y = placed(y, 3);
          const wantY = y.slice();
          nat().axpy(alpha, placed(x, 2).view, Y.view);
          ref.axpy(alpha, x, wantY);
          expectSameBytes(`axpy n=${n} α=${alpha}`, Y.view, wantY);
          expectUntouched(Y.buf, 3, n);

          const X = placed(x, 1);
          const wantX = x.slice();
          nat().scale(X.view, alpha);
          ref.scale(wantX, alpha);
          expectSameBytes(`scale n=${n} α=${alpha}`, X.view, wantX);
          expectUntouched(X.buf, 1, n);
        }
      }
    });

    it('sumSq, sumSqDiff, dot within float64 bounds, and independent of the thread count', () => {
      const rng = Rng.from(303);
      const before = nat().info().threads;
      try {
        for (const n of [0, 1, 7, 4095, 4096, 4097, 100003]) {
          const a = placed(randn(rng, n), 3).view;
          const b = placed(randn(rng, n, 2), 1).view;
          let sAbsAB = 0;
          let sDiff = 0;
          for (let i = 0; i < n; i++) {
            sAbsAB += Math.abs(a[i] * b[i]);
            sDiff += (a[i] - b[i]) ** 2;
          }
          const bound = (s: number): number => 2 * (n + 2) * 2 ** -53 * s + 1e-300;
          const ss = ref.sumSq(a);
          expect(Math.abs(nat().sumSq(a) - ss)).toBeLessThanOrEqual(bound(ss));
          expect(Math.abs(nat().sumSqDiff(a, b) - ref.sumSqDiff(a, b))).toBeLessThanOrEqual(bound(sDiff));
          expect(Math.abs(nat().dot(a, b) - ref.dot(a, b))).toBeLessThanOrEqual(bound(sAbsAB));
          nat().setThreads(1);
          const one = [nat().sumSq(a), nat().sumSqDiff(a, b), nat().dot(a, b)];
          nat().setThreads(2);
          const two = [nat().sumSq(a), nat().sumSqDiff(a, b), nat().dot(a, b)];
          expect(two).toEqual(one);
        }
      } finally {
        nat().setThreads(before);
      }
    });

    it('adam over several steps, with and without weight decay', () => {
      const rng = Rng.from(304);
      for (const n of [1, 7, 129, 50001]) {
        for (const weightDecay of [0, 0.01]) {
          const p0 = randn(rng, n);
          const P = placed(p0, 2);
          const M = placed(new Float32Array(n), 3);
          const V = placed(new Float32Array(n), 4);
          const pr = p0.slice();
          const mr = new Float32Array(n);
          const vr = new Float32Array(n);
          for (let step = 1; step <= 5; step++) {
            const g = randn(rng, n, 0.1);
            const opts = { lr: 1e-3 * step, beta1: 0.9, beta2: 0.999, eps: 1e-8, step, weightDecay };
            nat().adam(P.view, placed(g, 1).view, M.view, V.view, opts);
            ref.adam(pr, g, mr, vr, opts);
          }
          const rel = (a: Float32Array): number[] => Array.from(a, (v) => 4 * U * Math.abs(v) + 1e-30);
          expectWithin(`adam param n=${n} wd=${weightDecay}`, P.view, pr, rel(pr));
          expectWithin(`adam m n=${n}`, M.view, mr, rel(mr));
          expectWithin(`adam v n=${n}`, V.view, vr, rel(vr));
          expectUntouched(P.buf, 2, n);
          expectUntouched(M.buf, 3, n);
          expectUntouched(V.buf, 4, n);
        }
      }
    });
  });

  describe('native engine: TopK and sparse codes', () => {
    it('topkRows: exact order (descending, ties by lower column, NaN last, ±0 tie) for all k', () => {
      const rng = Rng.from(401);
      for (const rows of [1, 7, 33]) {
        for (const cols of [1, 7, 33, 129, 300]) {
          for (const k of new Set([1, Math.min(3, cols), Math.min(32, cols), cols])) {
            for (const nanRate of [0, 0.05, 0.9]) {
              const x = awkward(rng, rows * cols, nanRate);
              const V = placed(new Float32Array(rows * k), 2);
              const I = placedI32(new Int32Array(rows * k), 1);
              const vr = new Float32Array(rows * k);
              const ir = new Int32Array(rows * k);
              nat().topkRows(placed(x, 5).view, rows, cols, k, V.view, I.view);
              ref.topkRows(x, rows, cols, k, vr, ir);
              const label = `topkRows ${rows}×${cols} k=${k} nan=${nanRate}`;
              expectSameBytes(`${label} idx`, I.view, ir);
              expectSameBytes(`${label} vals`, V.view, vr);
              expectUntouched(V.buf, 2, rows * k);
            }
          }
        }
      }
    });

    it('topkRows on training-sized rows (4096 columns, k = 32): normal, coarsely quantised, with a few NaN', () => {
      const rng = Rng.from(403, 'wide');
      const [rows, cols, k] = [12, 4096, 32];
      for (const kind of ['normal', 'quantised', 'nan'] as const) {
        const x = randn(rng, rows * cols);
        if (kind === 'quantised') for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i] * 4) / 4; // heavy ties at the threshold
        if (kind === 'nan') for (let i = 0; i < x.length; i += 97) x[i] = NaN;
        const v = new Float32Array(rows * k);
        const i = new Int32Array(rows * k);
        const vr = new Float32Array(rows * k);
        const ir = new Int32Array(rows * k);
        nat().topkRows(x, rows, cols, k, v, i);
        ref.topkRows(x, rows, cols, k, vr, ir);
        expectSameBytes(`topk ${kind} idx`, i, ir);
        expectSameBytes(`topk ${kind} vals`, v, vr);
      }
    });

    it('topkRows on sorted, reversed and constant rows (worst cases for the selection)', () => {
      const cols = 257;
      const rows = 3;
      const x = new Float32Array(rows * cols);
      for (let c = 0; c < cols; c++) {
        x[c] = c; // ascending: every column displaces the threshold
        x[cols + c] = -c;
        x[2 * cols + c] = 1.5;
      }
      for (const k of [1, 16, 100, 257]) {
        const v = new Float32Array(rows * k);
        const i = new Int32Array(rows * k);
        const vr = new Float32Array(rows * k);
        const ir = new Int32Array(rows * k);
        nat().topkRows(x, rows, cols, k, v, i);
        ref.topkRows(x, rows, cols, k, vr, ir);
        expectSameBytes(`topk sorted k=${k} idx`, i, ir);
        expectSameBytes(`topk sorted k=${k} vals`, v, vr);
      }
    });

    it('scatterRows and gatherRows bit for bit (duplicate indices: the later entry wins)', () => {
      const rng = Rng.from(402);
      for (const rows of SIZES) {
        for (const cols of [1, 7, 33, 129]) {
          for (const k of new Set([1, Math.min(5, cols), cols])) {
            const vals = randn(rng, rows * k);
            const idx = randIdx(rng, rows * k, cols);
            const O = placed(randn(rng, rows * cols), 3);
            const want = new Float32Array(rows * cols).fill(9);
            nat().scatterRows(placed(vals, 1).view, placedI32(idx, 2).view, rows, k, O.view, cols);
            ref.scatterRows(vals, idx, rows, k, want, cols);
            expectSameBytes(`scatterRows ${rows}×${cols} k=${k}`, O.view, want);
            expectUntouched(O.buf, 3, rows * cols);

            const x = randn(rng, rows * cols);
            const G = placed(new Float32Array(rows * k), 4);
            const wantG = new Float32Array(rows * k);
            nat().gatherRows(placed(x, 2).view, cols, placedI32(idx, 1).view, rows, k, G.view);
            ref.gatherRows(x, cols, idx, rows, k, wantG);
            expectSameBytes(`gatherRows ${rows}×${cols} k=${k}`, G.view, wantG);
            expectUntouched(G.buf, 4, rows * k);
          }
        }
      }
    });

    it('sparseDecode (beta = 0 ignores NaN in out; beta ≠ 0) and its two gradients', () => {
      const rng = Rng.from(403);
      for (const rows of SIZES) {
        for (const [m, d] of [
          [1, 1],
          [7, 33],
          [33, 7],
          [129, 64],
          [300, 129],
        ] as const) {
          for (const k of new Set([1, Math.min(4, m), Math.min(7, m), Math.min(33, m)])) {
            const label = `rows=${rows} m=${m} d=${d} k=${k}`;
            const vals = randn(rng, rows * k);
            for (let i = 0; i < vals.length; i += 5) vals[i] = i % 10 === 0 ? 0 : -0; // zeros are skipped by gradW
            const idx = rng.uniform() < 0.5 ? distinctIdx(rng, rows, k, m) : randIdx(rng, rows * k, m);
            const w = randn(rng, m * d);
            const Sw = abs(w);
            const Sv = abs(vals);

            for (const beta of [0, 0.5]) {
              const out0 = randn(rng, rows * d);
              if (beta === 0) out0.fill(NaN);
              const O = placed(out0, 3);
              const want = out0.slice();
              nat().sparseDecode(
                placed(vals, 1).view,
                placedI32(idx, 2).view,
                rows,
                k,
                placed(w, 4).view,
                m,
                d,
                O.view,
                beta,
              );
              ref.sparseDecode(vals, idx, rows, k, w, m, d, want, beta);
              const S = new Float32Array(rows * d);
              ref.sparseDecode(Sv, idx, rows, k, Sw, m, d, S, 0);
              const tol = Array.from(
                S,
                (s, i) => 2 * (k + 2) * U * s + (beta === 0 ? 0 : 4 * U * Math.abs(beta * out0[i])) + 1e-30,
              );
              expectWithin(`sparseDecode ${label} β=${beta}`, O.view, want, tol);
              expectUntouched(O.buf, 3, rows * d);
            }

            const gOut = randn(rng, rows * d);
            const GV = placed(new Float32Array(rows * k), 2);
            const wantGV = new Float32Array(rows * k);
            nat().sparseDecodeGradVals(
              placed(gOut, 1).view,
              placedI32(idx, 3).view,
              rows,
              k,
              placed(w, 2).view,
              m,
              d,
              GV.view,
            );
            ref.sparseDecodeGradVals(gOut, idx, rows, k, w, m, d, wantGV);
            const SV = new Float32Array(rows * k);
            ref.sparseDecodeGradVals(abs(gOut), idx, rows, k, Sw, m, d, SV);
            expectWithin(
              `sparseDecodeGradVals ${label}`,
              GV.view,
              wantGV,
              Array.from(SV, (s) => 2 * (d + 2) * U * s + 1e-30),
            );
            expectUntouched(GV.buf, 2, rows * k);

            const gW0 = randn(rng, m * d);
            const GW = placed(gW0, 5);
            const wantGW = gW0.slice();
            nat().sparseDecodeGradW(
              placed(vals, 2).view,
              placedI32(idx, 1).view,
              rows,
              k,
              placed(gOut, 3).view,
              m,
              d,
              GW.view,
            );
            ref.sparseDecodeGradW(vals, idx, rows, k, gOut, m, d, wantGW);
            const SW = abs(gW0);
            ref.sparseDecodeGradW(Sv, idx, rows, k, abs(gOut), m, d, SW);
            const terms = rows * k + 2;
            expectWithin(
              `sparseDecodeGradW ${label}`,
              GW.view,
              wantGW,
              Array.from(SW, (s) => 2 * terms * U * s + 1e-30),
            );
            expectUntouched(GW.buf, 5, m * d);
          }
        }
      }
    });
  });

  describe('native engine: determinism', () => {
    it('the same calls twice give identical bytes', () => {
      const rng = Rng.from(501);
      const [rows, k, m, d] = [256, 16, 512, 64];
      const vals = randn(rng, rows * k);
      const idx = distinctIdx(rng, rows, k, m);
      const w = randn(rng, m * d);
      const gOut = randn(rng, rows * d);
      const x = randn(rng, rows * m);
      const run = (): Array<Float32Array | Int32Array | Float64Array> => {
        const out = new Float32Array(rows * d);
        nat().sparseDecode(vals, idx, rows, k, w, m, d, out, 0);
        const gv = new Float32Array(rows * k);
        nat().sparseDecodeGradVals(gOut, idx, rows, k, w, m, d, gv);
        const gw = new Float32Array(m * d);
        nat().sparseDecodeGradW(vals, idx, rows, k, gOut, m, d, gw);
        const tv = new Float32Array(rows * k);
        const ti = new Int32Array(rows * k);
        nat().topkRows(x, rows, m, k, tv, ti);
        const cs = new Float32Array(m);
        nat().colSum(x, rows, m, cs, 1, 0);
        return [out, gv, gw, tv, ti, cs, new Float64Array([nat().sumSq(x)])];
      };
      const a = run();
      const b = run();
      a.forEach((arr, i) => expectSameBytes(`repeat #${i}`, b[i], arr));
    });

    it('sparseDecodeGradW (rows=512, k=32, m=1024, d=64) and other parallel kernels: identical bytes with 1 and 2 threads', () => {
      const rng = Rng.from(502);
      const [rows, k, m, d] = [512, 32, 1024, 64];
      const vals = randn(rng, rows * k);
      const idx = distinctIdx(rng, rows, k, m);
      const gOut = randn(rng, rows * d);
      const w = randn(rng, m * d);
      const x = randn(rng, rows * m);
      const gW0 = randn(rng, m * d);
      const before = nat().info().threads;
      const run = (threads: number): Array<Float32Array | Int32Array | Float64Array> => {
        nat().setThreads(threads);
        const gw = gW0.slice();
        nat().sparseDecodeGradW(vals, idx, rows, k, gOut, m, d, gw);
        const out = new Float32Array(rows * d);
        nat().sparseDecode(vals, idx, rows, k, w, m, d, out, 0);
        const gv = new Float32Array(rows * k);
        nat().sparseDecodeGradVals(gOut, idx, rows, k, w, m, d, gv);
        const tv = new Float32Array(rows * k);
        const ti = new Int32Array(rows * k);
        nat().topkRows(x, rows, m, k, tv, ti);
        const cs = new Float32Array(m);
        nat().colSum(x, rows, m, cs, 0.5, 0);
        const norms = new Float32Array(rows);
        nat().rowNorms(x, rows, m, norms);
        return [gw, out, gv, tv, ti, cs, norms, new Float64Array([nat().sumSq(x), nat().dot(x, x)])];
      };
      try {
        const one = run(1);
        const two = run(2);
        one.forEach((arr, i) => expectSameBytes(`1 vs 2 threads, kernel #${i}`, two[i], arr));
        // And the gradient is right.
        const want = gW0.slice();
        ref.sparseDecodeGradW(vals, idx, rows, k, gOut, m, d, want);
        const S = abs(gW0);
        ref.sparseDecodeGradW(abs(vals), idx, rows, k, abs(gOut), m, d, S);
        expectWithin(
          'sparseDecodeGradW large',
          one[0] as Float32Array,
          want,
          Array.from(S, (s) => 2 * (rows + 2) * U * s),
        );
      } finally {
        nat().setThreads(before);
      }
    });
  });
}
