/**
 * An ActivationSource over rows held in memory (a Mat): synthetic data, small files loaded whole.
 * Each epoch is an exact uniform permutation of the rows drawn from `Rng.from(seed, 'order',
 * epoch)`, so the data order depends only on the data-order seed and the epoch (docs/SCIENCE.md §2,
 * "Seeds"). Batches are gathered into one buffer per iteration and yielded as views of it. The
 * file source uses the same order whenever a dataset fits its shuffle buffer (data/files.ts).
 */
import { ConfigError } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import type { ActivationSource, BatchOptions } from './source.js';

/** Checks a batch size: a positive integer, else a ConfigError naming it. */
export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ConfigError(`batchSize = ${batchSize}: expected an integer ≥ 1`);
}

/** The data-order seed's generator for one epoch (shared by every source, so orders agree). */
export function orderRng(opts: BatchOptions): Rng {
  const epoch = opts.epoch ?? 0;
  if (!Number.isSafeInteger(opts.seed)) throw new ConfigError(`seed = ${opts.seed}: expected an integer`);
  if (!Number.isInteger(epoch) || epoch < 0) throw new ConfigError(`epoch = ${epoch}: expected an integer ≥ 0`);
  return Rng.from(opts.seed, 'order', epoch);
}

/** Batches of `xND` rows in the seeded permutation for (seed, epoch); views of one reused buffer. */
export async function* permutedBatches(xND: Mat, batchSize: number, opts: BatchOptions): AsyncGenerator<Mat> {
  checkBatchSize(batchSize);
  const { rows: n, cols: d } = xND;
  const perm = orderRng(opts).permutation(n);
  const bufBD = new Float32Array(batchSize * d);
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    if (b < batchSize && opts.keepLast === false) return;
    for (let i = 0; i < b; i++) {
      const src = perm[start + i] * d;
      bufBD.set(xND.data.subarray(src, src + d), i * d);
    }
    yield { data: b === batchSize ? bufBD : bufBD.subarray(0, b * d), rows: b, cols: d };
  }
}

/** An in-memory source over `xND` [n, d]. `name` describes the origin for logs and reports. */
export function memorySource(xND: Mat, name = `memory[${xND.rows}×${xND.cols}]`): ActivationSource {
  return {
    name,
    d: xND.cols,
    length: xND.rows,
    batches: (batchSize: number, opts: BatchOptions) => permutedBatches(xND, batchSize, opts),
  };
}
