/**
 * Reference backend: every Engine operation in plain TypeScript, written for clarity first — the
 * oracle the native kernels are tested against, and the fallback where the addon cannot build.
 * `HUSAI_ENGINE=reference` forces it. Sums accumulate in float64 so this is the more accurate of
 * the two; tests compare with tolerances scaled to the reduction length.
 */
import type { AdamOptions, Engine, EngineInfo, F32, I32 } from './types.js';

export class ReferenceEngine implements Engine {
  readonly name = 'reference' as const;

  info(): EngineInfo {
    return {
      name: 'reference',
      blas: 'typescript',
      blasConfig: 'plain TypeScript loops',
      blasCore: '',
      blasThreading: 'none',
      threads: 1,
      fallbackReason: null,
    };
  }

  setThreads(_n: number): void {
    // Single-threaded by design: the oracle must not depend on scheduling.
  }

  gemm(
    transA: boolean,
    transB: boolean,
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
    const acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        // No zero-skip: 0·Inf must give NaN exactly as BLAS does.
        const aip = transA ? a[p * lda + i] : a[i * lda + p];
        if (transB) {
          for (let j = 0; j < n; j++) acc[j] += aip * b[j * ldb + p];
        } else {
          const bRow = p * ldb;
          for (let j = 0; j < n; j++) acc[j] += aip * b[bRow + j];
        }
      }
      const cRow = i * ldc;
      for (let j = 0; j < n; j++) {
        c[cRow + j] = beta === 0 ? alpha * acc[j] : alpha * acc[j] + beta * c[cRow + j];
      }
    }
  }

  addRowVec(x: F32, rows: number, cols: number, v: F32, alpha: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) x[o + c] += alpha * v[c];
    }
  }

  colSum(x: F32, rows: number, cols: number, out: F32, alpha: number, beta: number): void {
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) acc[c] += x[o + c];
    }
    for (let c = 0; c < cols; c++) out[c] = beta === 0 ? alpha * acc[c] : beta * out[c] + alpha * acc[c];
  }

  rowNorms(x: F32, rows: number, cols: number, out: F32): void {
    for (let r = 0; r < rows; r++) out[r] = Math.sqrt(sumSqRange(x, r * cols, cols));
  }

  normalizeRows(x: F32, rows: number, cols: number, normsOut: F32 | null): void {
    for (let r = 0; r < rows; r++) {
      const norm = Math.sqrt(sumSqRange(x, r * cols, cols));
      if (normsOut) normsOut[r] = norm;
      const inv = 1 / Math.max(norm, 1e-12);
      for (let c = 0; c < cols; c++) x[r * cols + c] *= inv;
    }
  }

  projectOutRows(w: F32, g: F32, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let gw = 0;
      let ww = 0;
      for (let c = 0; c < cols; c++) {
        gw += g[o + c] * w[o + c];
        ww += w[o + c] * w[o + c];
      }
      if (ww === 0) continue;
      const s = gw / ww;
      for (let c = 0; c < cols; c++) g[o + c] -= s * w[o + c];
    }
  }

  rowMax(x: F32, rows: number, cols: number, valOut: F32, idxOut: I32): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let best = x[o];
      let bi = 0;
      for (let c = 1; c < cols; c++) {
        const v = x[o + c];
        if (v > best || (best !== best && v === v)) {
          best = v;
          bi = c;
        }
      }
      valOut[r] = best;
      idxOut[r] = bi;
    }
  }

  colNonzeroCount(x: F32, rows: number, cols: number, counts: I32): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) if (x[o + c] !== 0) counts[c]++;
    }
  }

  relu(x: F32, out: F32): void {
    for (let i = 0; i < x.length; i++) out[i] = x[i] > 0 ? x[i] : 0;
  }

  reluBackward(pre: F32, gOut: F32, gIn: F32, rows: number, cols: number, colAdd: F32 | null): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) {
        gIn[o + c] = pre[o + c] > 0 ? gOut[o + c] + (colAdd ? colAdd[c] : 0) : 0;
      }
    }
  }

  axpy(alpha: number, x: F32, y: F32): void {
    for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
  }

  scale(x: F32, alpha: number): void {
    for (let i = 0; i < x.length; i++) x[i] *= alpha;
  }

  sumSq(x: F32): number {
    return sumSqRange(x, 0, x.length);
  }

  sumSqDiff(a: F32, b: F32): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      s += d * d;
    }
    return s;
  }

  dot(a: F32, b: F32): number {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  topkRows(x: F32, rows: number, cols: number, k: number, valsOut: F32, idxOut: I32): void {
    const order = new Int32Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let c = 0; c < cols; c++) order[c] = c;
      // Descending by value, NaN last, ties by lower column: a total order, so the result is unique.
      order.sort((i, j) => {
        const vi = x[o + i];
        const vj = x[o + j];
        const ni = vi !== vi;
        const nj = vj !== vj;
        if (ni || nj) return ni === nj ? i - j : ni ? 1 : -1;
        return vi > vj ? -1 : vi < vj ? 1 : i - j;
      });
      for (let j = 0; j < k; j++) {
        valsOut[r * k + j] = x[o + order[j]];
        idxOut[r * k + j] = order[j];
      }
    }
  }

  scatterRows(vals: F32, idx: I32, rows: number, k: number, out: F32, cols: number): void {
    out.fill(0, 0, rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) out[r * cols + idx[r * k + j]] = vals[r * k + j];
    }
  }

  gatherRows(x: F32, cols: number, idx: I32, rows: number, k: number, out: F32): void {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) out[r * k + j] = x[r * cols + idx[r * k + j]];
    }
  }

  sparseDecode(
    vals: F32,
    idx: I32,
    rows: number,
    k: number,
    w: F32,
    _m: number,
    d: number,
    out: F32,
    beta: number,
  ): void {
    const acc = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      acc.fill(0);
      for (let j = 0; j < k; j++) {
        const v = vals[r * k + j];
        const wo = idx[r * k + j] * d;
        for (let c = 0; c < d; c++) acc[c] += v * w[wo + c];
      }
      const o = r * d;
      for (let c = 0; c < d; c++) out[o + c] = beta === 0 ? acc[c] : beta * out[o + c] + acc[c];
    }
  }

  sparseDecodeGradVals(gOut: F32, idx: I32, rows: number, k: number, w: F32, _m: number, d: number, gVals: F32): void {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) {
        const wo = idx[r * k + j] * d;
        let s = 0;
        for (let c = 0; c < d; c++) s += gOut[r * d + c] * w[wo + c];
        gVals[r * k + j] = s;
      }
    }
  }

  sparseDecodeGradW(vals: F32, idx: I32, rows: number, k: number, gOut: F32, _m: number, d: number, gW: F32): void {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) {
        const v = vals[r * k + j];
        if (v === 0) continue;
        const wo = idx[r * k + j] * d;
        for (let c = 0; c < d; c++) gW[wo + c] += v * gOut[r * d + c];
      }
    }
  }

  adam(param: F32, grad: F32, m: F32, v: F32, o: AdamOptions): void {
    const bc1 = 1 - Math.pow(o.beta1, o.step);
    const bc2 = 1 - Math.pow(o.beta2, o.step);
    const decay = 1 - o.lr * o.weightDecay;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      const mHat = m[i] / bc1;
      const vHat = v[i] / bc2;
      param[i] = param[i] * decay - (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  }
}

function sumSqRange(x: F32, off: number, len: number): number {
  let s = 0;
  for (let i = off; i < off + len; i++) s += x[i] * x[i];
  return s;
}
