/**
 * Optimiser pieces shared by every architecture (docs/SCIENCE.md §2, "Training defaults"): Adam moments
 * held per named tensor and stepped through engine.adam, and global-norm gradient clipping.
 */
import type { AdamOptions, Engine } from '../engine/types.js';

/** Named float32 tensors (SAELens names: W_enc, b_enc, W_dec, b_dec, …). */
export type TensorMap = Record<string, Float32Array>;

/** Adam first and second moments for each tensor of a TensorMap, zero at start. */
export class AdamState {
  readonly m: TensorMap = {};
  readonly v: TensorMap = {};

  constructor(params: TensorMap) {
    for (const [name, p] of Object.entries(params)) {
      this.m[name] = new Float32Array(p.length);
      this.v[name] = new Float32Array(p.length);
    }
  }

  /** One Adam step on every tensor in `params` with its gradient in `grads`. */
  step(e: Engine, params: TensorMap, grads: TensorMap, opts: AdamOptions): void {
    for (const name of Object.keys(params)) e.adam(params[name], grads[name], this.m[name], this.v[name], opts);
  }

  /** Zeroes the moments of elements [start, start + len) of tensor `name` (dead-latent resampling). */
  resetRange(name: string, start: number, len: number): void {
    this.m[name].fill(0, start, start + len);
    this.v[name].fill(0, start, start + len);
  }

  /** Zeroes column c of the moments of a [rows, cols] tensor. */
  resetColumn(name: string, c: number, rows: number, cols: number): void {
    for (let r = 0; r < rows; r++) {
      this.m[name][r * cols + c] = 0;
      this.v[name][r * cols + c] = 0;
    }
  }
}

interface ClipResult {
  /** Global L2 norm before clipping (NaN when some gradient is not finite). */
  norm: number;
  /** The first tensor whose gradient is not finite, or null. */
  nonFinite: string | null;
}

/** Scales all gradients so their global L2 norm is at most maxNorm (maxNorm ≤ 0 or ∞: no clipping). */
export function clipGlobalNorm(e: Engine, grads: TensorMap, maxNorm: number): ClipResult {
  let sq = 0;
  let nonFinite: string | null = null;
  for (const [name, g] of Object.entries(grads)) {
    const s = e.sumSq(g);
    if (!Number.isFinite(s) && nonFinite === null) nonFinite = name;
    sq += s;
  }
  const norm = Math.sqrt(sq);
  if (nonFinite === null && maxNorm > 0 && Number.isFinite(maxNorm) && norm > maxNorm) {
    const f = maxNorm / norm;
    for (const g of Object.values(grads)) e.scale(g, f);
  }
  return { norm: nonFinite === null ? norm : NaN, nonFinite };
}
