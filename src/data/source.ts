/**
 * ActivationSource: the plain data type between data/ and training (docs/ARCHITECTURE.md, "The flow") — a
 * stream of [B, d] batches with a known width and, when finite, a known row count. Data order is a
 * pure function of the data-order seed and the epoch (docs/SCIENCE.md §2, "Seeds": the init seed and
 * the data-order seed are separate), so many SAEs can share one pass over the same batches.
 * Implementations: data/memory.ts (rows in memory, exact permutation per epoch), data/files.ts
 * (.npy / .safetensors files and shard folders through a seeded shuffle buffer), and
 * data/synthetic/index.ts `syntheticSource` (generated data, in memory).
 */
import type { Mat } from '../core/mat.js';

export interface BatchOptions {
  /** Data-order seed: same seed + epoch → same batches in the same order. */
  seed: number;
  /** Epoch number (0-based); each epoch is a fresh shuffle of the same seed. */
  epoch?: number;
  /** Keep a short final batch (default true); training drops it to keep B fixed. */
  keepLast?: boolean;
}

export interface ActivationSource {
  /** Human-readable origin, e.g. a file path or "synthetic:exact-k(n=50000,d=64,F=128,k=4,seed=0)". */
  readonly name: string;
  /** Activation width. */
  readonly d: number;
  /** Number of rows when finite and known, else null. */
  readonly length: number | null;
  /**
   * Batches of rows [≤ batchSize, d] covering the data once in a seeded order. Each yielded Mat
   * may be reused by the source for the next batch: copy it if you keep it past the iteration.
   */
  batches(batchSize: number, opts: BatchOptions): AsyncIterable<Mat>;
}
