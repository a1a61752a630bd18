/**
 * Shape validation in front of any backend. Each check is O(1) against array lengths, so it stays
 * on in production: a wrong shape becomes a ShapeError naming both shapes instead of a silent
 * out-of-bounds read in C++. Backends themselves assume valid input.
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import type { AdamOptions, Engine, EngineInfo, F32, I32 } from './types.js';

function need(op: string, what: string, arr: ArrayLike<number>, len: number, shape: string): void {
  if (arr.length < len) {
    throw new ShapeError(`${op}: ${what} has ${arr.length} elements but shape ${shape} needs ${len}`);
  }
}
function exact(op: string, what: string, arr: ArrayLike<number>, len: number, shape: string): void {
  if (arr.length !== len) {
    throw new ShapeError(`${op}: ${what} has ${arr.length} elements, expected ${shape} = ${len}`);
  }
}
function dims(op: string, ...ds: number[]): void {
  for (const d of ds) {
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: dimensions must be non-negative integers, got ${ds.join(', ')}`);
  }
}
/** Elements needed by a rows×cols matrix stored with row stride ld. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

export class CheckedEngine implements Engine {
  constructor(readonly inner: Engine) {}
  get name(): 'native' | 'reference' {
    return this.inner.name;
  }
  info(): EngineInfo {
    return this.inner.info();
  }
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1)
      throw new RangeError(`setThreads: thread count must be an integer ≥ 1, got ${n}`);
    this.inner.setThreads(n);
  }

  gemm(
    tA: boolean,
    tB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: F32,
    lda: number,
    b: F32,
    ldb: number,
    beta: number,
    c: F32,
    ldc: number,
  ): void {
    const op = 'gemm';
    dims(op, m, n, k);
    const [ar, ac] = tA ? [k, m] : [m, k];
    const [br, bc] = tB ? [n, k] : [k, n];
    if (lda < Math.max(1, ac)) throw new ShapeError(`${op}: lda=${lda} < columns of stored A ${fmtShape(ar, ac)}`);
    if (ldb < Math.max(1, bc)) throw new ShapeError(`${op}: ldb=${ldb} < columns of stored B ${fmtShape(br, bc)}`);
    if (ldc < Math.max(1, n)) throw new ShapeError(`${op}: ldc=${ldc} < columns of C ${fmtShape(m, n)}`);
    need(
      op,
      `A${tA ? 'ᵀ' : ''} (stored ${fmtShape(ar, ac)}, ld ${lda})`,
      a,
      span(ar, ac, lda),
      `op(A) ${fmtShape(m, k)} · op(B) ${fmtShape(k, n)}`,
    );
    need(
      op,
      `B${tB ? 'ᵀ' : ''} (stored ${fmtShape(br, bc)}, ld ${ldb})`,
      b,
      span(br, bc, ldb),
      `op(A) ${fmtShape(m, k)} · op(B) ${fmtShape(k, n)}`,
    );
    need(op, `C (${fmtShape(m, n)}, ld ${ldc})`, c, span(m, n, ldc), fmtShape(m, n));
    if (m === 0 || n === 0) return;
    if (k === 0) {
      // Nothing to multiply: C ← beta·C, done here so backends never see k = 0.
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) c[i * ldc + j] = beta === 0 ? 0 : beta * c[i * ldc + j];
      return;
    }
    this.inner.gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }

  addRowVec(x: F32, rows: number, cols: number, v: F32, alpha: number): void {
    dims('addRowVec', rows, cols);
    exact('addRowVec', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('addRowVec', 'v', v, cols, fmtShape(cols));
    this.inner.addRowVec(x, rows, cols, v, alpha);
  }
  colSum(x: F32, rows: number, cols: number, out: F32, alpha: number, beta: number): void {
    dims('colSum', rows, cols);
    exact('colSum', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('colSum', 'out', out, cols, fmtShape(cols));
    this.inner.colSum(x, rows, cols, out, alpha, beta);
  }
  rowNorms(x: F32, rows: number, cols: number, out: F32): void {
    dims('rowNorms', rows, cols);
    exact('rowNorms', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('rowNorms', 'out', out, rows, fmtShape(rows));
    this.inner.rowNorms(x, rows, cols, out);
  }
  normalizeRows(x: F32, rows: number, cols: number, normsOut: F32 | null): void {
    dims('normalizeRows', rows, cols);
    exact('normalizeRows', 'x', x, rows * cols, fmtShape(rows, cols));
    if (normsOut) exact('normalizeRows', 'normsOut', normsOut, rows, fmtShape(rows));
    this.inner.normalizeRows(x, rows, cols, normsOut);
  }
  projectOutRows(w: F32, g: F32, rows: number, cols: number): void {
    dims('projectOutRows', rows, cols);
    exact('projectOutRows', 'w', w, rows * cols, fmtShape(rows, cols));
    exact('projectOutRows', 'g', g, rows * cols, fmtShape(rows, cols));
    this.inner.projectOutRows(w, g, rows, cols);
  }
  rowMax(x: F32, rows: number, cols: number, valOut: F32, idxOut: I32): void {
    dims('rowMax', rows, cols);
    if (cols < 1 && rows > 0) throw new ShapeError(`rowMax: needs at least one column, got ${fmtShape(rows, cols)}`);
    exact('rowMax', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('rowMax', 'valOut', valOut, rows, fmtShape(rows));
    exact('rowMax', 'idxOut', idxOut, rows, fmtShape(rows));
    this.inner.rowMax(x, rows, cols, valOut, idxOut);
  }
  colNonzeroCount(x: F32, rows: number, cols: number, counts: I32): void {
    dims('colNonzeroCount', rows, cols);
    exact('colNonzeroCount', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('colNonzeroCount', 'counts', counts, cols, fmtShape(cols));
    this.inner.colNonzeroCount(x, rows, cols, counts);
  }
  relu(x: F32, out: F32): void {
    exact('relu', 'out', out, x.length, fmtShape(x.length));
    this.inner.relu(x, out);
  }
  reluBackward(pre: F32, gOut: F32, gIn: F32, rows: number, cols: number, colAdd: F32 | null): void {
    dims('reluBackward', rows, cols);
    const s = fmtShape(rows, cols);
    exact('reluBackward', 'pre', pre, rows * cols, s);
    exact('reluBackward', 'gOut', gOut, rows * cols, s);
    exact('reluBackward', 'gIn', gIn, rows * cols, s);
    if (colAdd) exact('reluBackward', 'colAdd', colAdd, cols, fmtShape(cols));
    this.inner.reluBackward(pre, gOut, gIn, rows, cols, colAdd);
  }
  axpy(alpha: number, x: F32, y: F32): void {
    exact('axpy', 'y', y, x.length, `x's length`);
    this.inner.axpy(alpha, x, y);
  }
  scale(x: F32, alpha: number): void {
    this.inner.scale(x, alpha);
  }
  sumSq(x: F32): number {
    return this.inner.sumSq(x);
  }
  sumSqDiff(a: F32, b: F32): number {
    exact('sumSqDiff', 'b', b, a.length, `a's length`);
    return this.inner.sumSqDiff(a, b);
  }
  dot(a: F32, b: F32): number {
    exact('dot', 'b', b, a.length, `a's length`);
    return this.inner.dot(a, b);
  }
  topkRows(x: F32, rows: number, cols: number, k: number, valsOut: F32, idxOut: I32): void {
    dims('topkRows', rows, cols, k);
    if (k > cols) throw new ShapeError(`topkRows: k=${k} exceeds the ${cols} columns of x ${fmtShape(rows, cols)}`);
    exact('topkRows', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('topkRows', 'valsOut', valsOut, rows * k, fmtShape(rows, k));
    exact('topkRows', 'idxOut', idxOut, rows * k, fmtShape(rows, k));
    this.inner.topkRows(x, rows, cols, k, valsOut, idxOut);
  }
  scatterRows(vals: F32, idx: I32, rows: number, k: number, out: F32, cols: number): void {
    dims('scatterRows', rows, k, cols);
    sparseShapes('scatterRows', vals, idx, rows, k);
    exact('scatterRows', 'out', out, rows * cols, fmtShape(rows, cols));
    checkIdx('scatterRows', idx, cols);
    this.inner.scatterRows(vals, idx, rows, k, out, cols);
  }
  gatherRows(x: F32, cols: number, idx: I32, rows: number, k: number, out: F32): void {
    dims('gatherRows', rows, k, cols);
    exact('gatherRows', 'x', x, rows * cols, fmtShape(rows, cols));
    exact('gatherRows', 'idx', idx, rows * k, fmtShape(rows, k));
    exact('gatherRows', 'out', out, rows * k, fmtShape(rows, k));
    checkIdx('gatherRows', idx, cols);
    this.inner.gatherRows(x, cols, idx, rows, k, out);
  }
  sparseDecode(
    vals: F32,
    idx: I32,
    rows: number,
    k: number,
    w: F32,
    m: number,
    d: number,
    out: F32,
    beta: number,
  ): void {
    dims('sparseDecode', rows, k, m, d);
    sparseShapes('sparseDecode', vals, idx, rows, k);
    exact('sparseDecode', 'w', w, m * d, fmtShape(m, d));
    exact('sparseDecode', 'out', out, rows * d, fmtShape(rows, d));
    checkIdx('sparseDecode', idx, m);
    this.inner.sparseDecode(vals, idx, rows, k, w, m, d, out, beta);
  }
  sparseDecodeGradVals(gOut: F32, idx: I32, rows: number, k: number, w: F32, m: number, d: number, gVals: F32): void {
    dims('sparseDecodeGradVals', rows, k, m, d);
    exact('sparseDecodeGradVals', 'gOut', gOut, rows * d, fmtShape(rows, d));
    exact('sparseDecodeGradVals', 'idx', idx, rows * k, fmtShape(rows, k));
    exact('sparseDecodeGradVals', 'w', w, m * d, fmtShape(m, d));
    exact('sparseDecodeGradVals', 'gVals', gVals, rows * k, fmtShape(rows, k));
    checkIdx('sparseDecodeGradVals', idx, m);
    this.inner.sparseDecodeGradVals(gOut, idx, rows, k, w, m, d, gVals);
  }
  sparseDecodeGradW(vals: F32, idx: I32, rows: number, k: number, gOut: F32, m: number, d: number, gW: F32): void {
    dims('sparseDecodeGradW', rows, k, m, d);
    sparseShapes('sparseDecodeGradW', vals, idx, rows, k);
    exact('sparseDecodeGradW', 'gOut', gOut, rows * d, fmtShape(rows, d));
    exact('sparseDecodeGradW', 'gW', gW, m * d, fmtShape(m, d));
    checkIdx('sparseDecodeGradW', idx, m);
    this.inner.sparseDecodeGradW(vals, idx, rows, k, gOut, m, d, gW);
  }
  adam(param: F32, grad: F32, m: F32, v: F32, opts: AdamOptions): void {
    const n = param.length;
    exact('adam', 'grad', grad, n, `param's length`);
    exact('adam', 'm', m, n, `param's length`);
    exact('adam', 'v', v, n, `param's length`);
    if (!(opts.step >= 1))
      throw new RangeError(`adam: step must be ≥ 1 (1-based for bias correction), got ${opts.step}`);
    this.inner.adam(param, grad, m, v, opts);
  }
}

function sparseShapes(op: string, vals: F32, idx: I32, rows: number, k: number): void {
  exact(op, 'vals', vals, rows * k, fmtShape(rows, k));
  exact(op, 'idx', idx, rows * k, fmtShape(rows, k));
}

/** Index bounds are checked in O(B·k): cheap next to the O(B·k·d) kernels that use them. */
function checkIdx(op: string, idx: I32, bound: number): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v >= bound) throw new ShapeError(`${op}: idx[${i}] = ${v} outside [0, ${bound})`);
  }
}
