/**
 * The shapes every synthetic generator returns (docs/SCIENCE.md §5). Letters: N samples, D activation
 * width, F ground-truth features, K stored codes (non-zeros) in total.
 */
import type { Mat } from '../../core/mat.js';

/**
 * The true sparse codes s, x = s·G, as compressed sparse rows: sample i's non-zeros are
 * `idxK[rowPtr[i] .. rowPtr[i+1])` with magnitudes `valK[...]` (all > 0).
 */
export interface SparseCodes {
  /** [N + 1] offsets into idxK / valK. */
  rowPtr: Int32Array;
  /** [K] feature indices. */
  idxK: Int32Array;
  /** [K] magnitudes. */
  valK: Float32Array;
  /** F, the number of features (columns of the dense code matrix). */
  features: number;
}

export interface SyntheticData<C> {
  /** Activations x, [N, D]. */
  acts: Mat;
  /** Ground-truth feature directions G, [F, D], unit rows. */
  gt: Mat;
  /** The codes that made `acts` (before any added noise). */
  codes: SparseCodes;
  /** Target marginal firing probability of each feature, [F] (exact in expectation). */
  firingProb: Float64Array;
  /** The resolved configuration (every default filled in), enough to regenerate the data. */
  config: C;
}
