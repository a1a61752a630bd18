/** Shared helpers for the data tests: collect the rows a source yields (copied, since batches are reused). */
import { expect } from 'vitest';
import type { ActivationSource, BatchOptions } from '../../src/data/source.js';

/** Column 0 of every row yielded, in order, plus the batch sizes. */
export async function collect(
  src: ActivationSource,
  batchSize: number,
  opts: BatchOptions,
): Promise<{ labels: number[]; sizes: number[]; rows: Float32Array[] }> {
  const labels: number[] = [];
  const sizes: number[] = [];
  const rows: Float32Array[] = [];
  for await (const b of src.batches(batchSize, opts)) {
    expect(b.cols).toBe(src.d);
    expect(b.data.length).toBe(b.rows * b.cols);
    sizes.push(b.rows);
    for (let r = 0; r < b.rows; r++) {
      labels.push(b.data[r * b.cols]);
      rows.push(b.data.slice(r * b.cols, (r + 1) * b.cols));
    }
  }
  return { labels, sizes, rows };
}

/** A [n, d] matrix whose row r is [r, r + 1/8, r + 2/8, …] (row identity in column 0). */
export function labelled(n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) x[r * d + c] = r + c / 8;
  return x;
}

/** 0..n-1, for comparing with sorted labels. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
