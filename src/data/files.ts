/**
 * An ActivationSource over activation files (docs/FORMATS.md, "Activations"): a .npy, a .safetensors
 * or a folder of shards (found and validated by data/shards.ts), streamed through a seeded
 * shuffle buffer so files larger than RAM never load whole.
 *
 * Order per epoch (a pure function of the data-order seed and the epoch, docs/SCIENCE.md §2 "Seeds"):
 * - The data fit the buffer (rows ≤ `shuffleBuffer`): they are read once, kept, and served in the
 *   exact uniform permutation `Rng.from(seed, 'order', epoch)` — the same order memorySource gives.
 * - Otherwise: every shard is cut into contiguous chunks of `chunkRows` rows; the chunks are read
 *   in the order `Rng.from(seed, 'chunks', epoch).permutation`, appended to a buffer of
 *   `shuffleBuffer` rows, and rows are drawn from the buffer uniformly at random (swap-remove) with
 *   `Rng.from(seed, 'order', epoch)`, topping the buffer up whenever a whole chunk fits again.
 *   Every row appears exactly once per epoch; it is a shuffle-buffer approximation of a uniform
 *   permutation (rows from one chunk stay correlated in time within about shuffleBuffer draws).
 * Memory: shuffleBuffer × d × 4 bytes for the buffer, plus one chunk of scratch for f16/f64 files.
 * Rows are read by global index through data/rows.ts (at most 8 shard files open while streaming).
 */
import { ConfigError } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import { checkBatchSize, orderRng, permutedBatches } from './memory.js';
import { ShardRows } from './rows.js';
import { findShards, type ShardSet } from './shards.js';
import type { ActivationSource, BatchOptions } from './source.js';

export interface FileSourceOptions {
  /** safetensors: the tensor to read when a file holds more than one 2-D tensor (--tensor NAME). */
  tensor?: string;
  /** Shuffle-buffer capacity in rows (default 65,536). Data with at most this many rows are held whole. */
  shuffleBuffer?: number;
  /** Rows per contiguous read (default min(4096, ⌈shuffleBuffer / 16⌉)); at most shuffleBuffer. */
  chunkRows?: number;
  /** Display name (default: the path). */
  name?: string;
}

export interface FileActivationSource extends ActivationSource {
  readonly length: number;
  /** meta.json of a shard folder, when present. */
  readonly meta: Record<string, unknown> | null;
  /** Non-fatal notes (float64 narrowed), for the caller to show once. */
  readonly warnings: readonly string[];
  /** The files read, in order, with their row counts. */
  readonly shards: ReadonlyArray<{ path: string; rows: number; tensor?: string }>;
}

const DEFAULT_BUFFER = 65_536;
const MAX_OPEN = 8; // shard readers kept open at once while streaming

/** Opens a .npy file, a .safetensors file or a folder of shards as a streamed, seeded source. */
export function openActivations(pathOrDir: string, opts: FileSourceOptions = {}): FileActivationSource {
  const set = findShards(pathOrDir, { tensor: opts.tensor });
  const capacity = opts.shuffleBuffer ?? DEFAULT_BUFFER;
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new ConfigError(`shuffleBuffer = ${capacity}: expected an integer ≥ 1 (rows)`);
  const chunkRows = opts.chunkRows ?? Math.min(4096, Math.ceil(capacity / 16));
  if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > capacity) {
    throw new ConfigError(`chunkRows = ${chunkRows}: expected an integer in [1, shuffleBuffer = ${capacity}]`);
  }
  let whole: Mat | null = null;
  return {
    name: opts.name ?? pathOrDir,
    d: set.d,
    length: set.rows,
    meta: set.meta,
    warnings: set.warnings,
    shards: set.shards.map((s) => ({ path: s.path, rows: s.rows, tensor: s.tensor })),
    batches(batchSize: number, bopts: BatchOptions): AsyncIterable<Mat> {
      checkBatchSize(batchSize);
      if (set.rows <= capacity) {
        whole ??= loadAll(set);
        return permutedBatches(whole, batchSize, bopts);
      }
      return bufferedBatches(set, capacity, chunkRows, batchSize, bopts);
    },
  };
}

/** Reads every shard into one [rows, d] matrix (only called when rows ≤ the buffer capacity). */
function loadAll(set: ShardSet): Mat {
  const data = new Float32Array(set.rows * set.d);
  const rows = new ShardRows(set, { maxOpen: 1 });
  try {
    rows.read(0, set.rows, data);
  } finally {
    rows.close();
  }
  return { data, rows: set.rows, cols: set.d };
}

async function* bufferedBatches(
  set: ShardSet,
  capacity: number,
  chunkRows: number,
  batchSize: number,
  opts: BatchOptions,
): AsyncGenerator<Mat> {
  const d = set.d;
  const draw = orderRng(opts);
  // Chunk c of the whole set lives in shard s where firstChunk[s] ≤ c < firstChunk[s + 1].
  const firstChunk = [0];
  for (const s of set.shards) firstChunk.push(firstChunk[firstChunk.length - 1] + Math.ceil(s.rows / chunkRows));
  const nChunks = firstChunk[firstChunk.length - 1];
  const chunkOrder = Rng.from(opts.seed, 'chunks', opts.epoch ?? 0).permutation(nChunks);

  const rows = new ShardRows(set, { maxOpen: MAX_OPEN });

  const bufND = new Float32Array(capacity * d);
  const outBD = new Float32Array(batchSize * d);
  let filled = 0;
  let next = 0; // next position in chunkOrder
  const locate = (c: number): { start: number; count: number } => {
    let s = 0; // binary search: the last s with firstChunk[s] ≤ c
    for (let hi = set.shards.length - 1; s < hi;) {
      const mid = (s + hi + 1) >> 1;
      if (firstChunk[mid] <= c) s = mid;
      else hi = mid - 1;
    }
    const start = (c - firstChunk[s]) * chunkRows; // within shard s
    return { start: rows.starts[s] + start, count: Math.min(chunkRows, set.shards[s].rows - start) };
  };
  let pending = next < nChunks ? locate(chunkOrder[next]) : null;
  const refill = (): void => {
    while (pending !== null && filled + pending.count <= capacity) {
      rows.read(pending.start, pending.count, bufND.subarray(filled * d, (filled + pending.count) * d));
      filled += pending.count;
      next++;
      pending = next < nChunks ? locate(chunkOrder[next]) : null;
    }
  };

  try {
    refill();
    let b = 0;
    while (filled > 0) {
      const j = draw.int(filled);
      outBD.set(bufND.subarray(j * d, (j + 1) * d), b * d);
      filled--;
      if (j !== filled) bufND.copyWithin(j * d, filled * d, (filled + 1) * d);
      b++;
      if (b === batchSize) {
        yield { data: outBD, rows: b, cols: d };
        b = 0;
      }
      if (pending !== null && filled + pending.count <= capacity) refill();
    }
    if (b > 0 && opts.keepLast !== false) yield { data: outBD.subarray(0, b * d), rows: b, cols: d };
  } finally {
    rows.close();
  }
}
