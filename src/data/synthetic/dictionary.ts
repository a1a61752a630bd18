/**
 * Ground-truth dictionaries and decoding for the synthetic generators (docs/SCIENCE.md §5): G = F random
 * unit rows in R^D (Gaussian draws, normalised — uniform on the sphere), and x = s·G computed
 * sparsely from the codes (K·D multiply-adds, no dense [N, F] matrix). Letters as in types.ts.
 */
import type { Mat } from '../../core/mat.js';
import type { Rng } from '../../core/rng.js';
import type { SparseCodes } from './types.js';

/** F random unit rows in R^D, drawn from `rng`. */
export function randomUnitRows(rng: Rng, features: number, d: number): Mat {
  const gFD = new Float32Array(features * d);
  const row = new Float64Array(d);
  for (let f = 0; f < features; f++) {
    let norm2 = 0;
    do {
      rng.fillNormal(row);
      norm2 = 0;
      for (let j = 0; j < d; j++) norm2 += row[j] * row[j];
    } while (norm2 === 0);
    const inv = 1 / Math.sqrt(norm2);
    for (let j = 0; j < d; j++) gFD[f * d + j] = row[j] * inv;
  }
  return { data: gFD, rows: features, cols: d };
}

/**
 * x = s·G: acts [N, D] from CSR codes and the dictionary gFD [F, D]. Each row is summed in float64
 * in code order, four codes per pass (fewer accumulator loads and stores), and rounded to float32
 * once — deterministic, and deliberately not delegated to the engine, whose summation order (and
 * so the bytes) may differ by backend.
 */
export function decodeCodes(codes: SparseCodes, gFD: Mat): Mat {
  const n = codes.rowPtr.length - 1;
  const d = gFD.cols;
  const g = gFD.data;
  const xND = new Float32Array(n * d);
  const accD = new Float64Array(d);
  const { rowPtr, idxK, valK } = codes;
  for (let i = 0; i < n; i++) {
    let p = rowPtr[i];
    const end = rowPtr[i + 1];
    if (p === end) continue;
    accD.fill(0);
    for (; p + 3 < end; p += 4) {
      const s1 = valK[p];
      const s2 = valK[p + 1];
      const s3 = valK[p + 2];
      const s4 = valK[p + 3];
      const g1 = idxK[p] * d;
      const g2 = idxK[p + 1] * d;
      const g3 = idxK[p + 2] * d;
      const g4 = idxK[p + 3] * d;
      for (let j = 0; j < d; j++) accD[j] += s1 * g[g1 + j] + s2 * g[g2 + j] + (s3 * g[g3 + j] + s4 * g[g4 + j]);
    }
    for (; p < end; p++) {
      const s = valK[p];
      const g1 = idxK[p] * d;
      for (let j = 0; j < d; j++) accD[j] += s * g[g1 + j];
    }
    xND.set(accD, i * d);
  }
  return { data: xND, rows: n, cols: d };
}

/** A growable CSR builder (capacity doubles as needed). */
export class CodesBuilder {
  private idx: Int32Array;
  private val: Float32Array;
  private len = 0;
  private readonly rowPtr: Int32Array;
  private row = 0;

  constructor(
    n: number,
    private readonly features: number,
    expectedPerRow: number,
  ) {
    this.rowPtr = new Int32Array(n + 1);
    const cap = Math.max(16, Math.ceil(n * expectedPerRow * 1.25));
    this.idx = new Int32Array(cap);
    this.val = new Float32Array(cap);
  }

  push(feature: number, value: number): void {
    if (this.len === this.idx.length) {
      const idx = new Int32Array(this.idx.length * 2);
      idx.set(this.idx);
      this.idx = idx;
      const val = new Float32Array(this.val.length * 2);
      val.set(this.val);
      this.val = val;
    }
    this.idx[this.len] = feature;
    this.val[this.len] = value;
    this.len++;
  }

  /** Closes the current row. */
  endRow(): void {
    this.rowPtr[++this.row] = this.len;
  }

  finish(): SparseCodes {
    return {
      rowPtr: this.rowPtr,
      idxK: this.idx.slice(0, this.len),
      valK: this.val.slice(0, this.len),
      features: this.features,
    };
  }
}
