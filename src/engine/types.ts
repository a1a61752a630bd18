/**
 * The Engine: every numeric operation SAE training and analysis needs, on Float32Array views.
 * One documented seam between the maths (nn/, sae/, metrics/) and the kernels (docs/ARCHITECTURE.md, "The
 * engine"); two backends implement it — `native` (N-API addon over OpenBLAS + C++/OpenMP kernels)
 * and `reference` (plain TypeScript, the test oracle).
 *
 * Conventions for every member:
 * - Matrices are row-major. A "view" is any Float32Array, typically `buf.subarray(off, …)` into a
 *   larger buffer; kernels read `byteOffset`, so offsets cost nothing.
 * - Outputs are written in place; an output may alias an input only where the doc says so.
 * - Shapes are passed explicitly; `engine/checked.ts` validates them against the array lengths and
 *   throws a ShapeError naming both shapes before any backend code runs.
 * - Index arrays are Int32Array. Reductions accumulate in float64 and return JS numbers.
 * - Results are deterministic for a fixed engine and thread count (parallel kernels split work
 *   into fixed, disjoint ranges; no atomics and no thread-order-dependent sums).
 */

export type F32 = Float32Array;
export type I32 = Int32Array;

/** What `husai info` reports about the running engine. */
export interface EngineInfo {
  /** 'native' (addon) or 'reference' (TypeScript). */
  name: 'native' | 'reference';
  /** Matrix-multiply provider: 'openblas' or 'builtin' (the addon's portable blocked GEMM) or 'typescript'. */
  blas: 'openblas' | 'builtin' | 'typescript';
  /** e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64" (openblas_get_config). */
  blasConfig: string;
  /** openblas_get_corename(), e.g. "SkylakeX" or "Haswell"; '' when not OpenBLAS. */
  blasCore: string;
  /** How BLAS runs in parallel: 'openmp' (shares the addon's OpenMP pool), 'pthreads', 'none'. */
  blasThreading: 'openmp' | 'pthreads' | 'none';
  /** Threads used by GEMM and the addon's own kernels. */
  threads: number;
  /** Why the fast path is not active, with the fix; null when it is. */
  fallbackReason: string | null;
}

export interface AdamOptions {
  /** Learning rate for this step (schedule applied by the caller). */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count, for bias correction: m̂ = m / (1 − β1^step). */
  step: number;
  /** Decoupled weight decay (AdamW): p −= lr·wd·p before the Adam update. 0 for plain Adam. */
  weightDecay: number;
}

export interface Engine {
  readonly name: 'native' | 'reference';
  info(): EngineInfo;
  /** Sets the thread count for GEMM and parallel kernels (≥ 1). */
  setThreads(n: number): void;

  // ── dense linear algebra ─────────────────────────────
  /**
   * C ← alpha·op(A)·op(B) + beta·C (row-major sgemm). op(A) is m×k (A stored k×m when transA),
   * op(B) is k×n (B stored n×k when transB), C is m×n. lda, ldb, ldc are the row strides of the
   * stored matrices (≥ their column counts), so sub-blocks of larger matrices can be used in place.
   * beta = 0 ignores C's prior content (NaN included). C must not alias A or B.
   */
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
  ): void;

  // ── broadcasts and reductions over rows ────────────────────────
  /** x[r, :] += alpha·v for every row r. x: [rows, cols], v: [cols]. */
  addRowVec(x: F32, rows: number, cols: number, v: F32, alpha: number): void;
  /** out[c] ← beta·out[c] + alpha·Σ_r x[r, c] (column sums: bias gradients). out: [cols]. */
  colSum(x: F32, rows: number, cols: number, out: F32, alpha: number, beta: number): void;
  /** out[r] = ‖x[r, :]‖₂. out: [rows]. */
  rowNorms(x: F32, rows: number, cols: number, out: F32): void;
  /** x[r, :] ← x[r, :] / max(‖x[r, :]‖₂, 1e-12); norms before scaling go to normsOut if given. */
  normalizeRows(x: F32, rows: number, cols: number, normsOut: F32 | null): void;
  /**
   * g[r, :] ← g[r, :] − (g[r, :]·w[r, :] / ‖w[r, :]‖²)·w[r, :]: removes from each gradient row its
   * component along the weight row (unit-norm decoder constraint, docs/SCIENCE.md §2). Zero rows of w
   * leave g unchanged.
   */
  projectOutRows(w: F32, g: F32, rows: number, cols: number): void;
  /** Per-row maximum and its first column index. valOut, idxOut: [rows]. cols ≥ 1. */
  rowMax(x: F32, rows: number, cols: number, valOut: F32, idxOut: I32): void;
  /** counts[c] += #{r : x[r, c] ≠ 0} (firing counts for L0 and dead-latent tracking). counts: [cols]. */
  colNonzeroCount(x: F32, rows: number, cols: number, counts: I32): void;

  // ── elementwise ────────────────────────────────
  /** out = max(x, 0). out may alias x. */
  relu(x: F32, out: F32): void;
  /**
   * gIn[r, c] = pre[r, c] > 0 ? gOut[r, c] + (colAdd ? colAdd[c] : 0) : 0, shape [rows, cols].
   * colAdd folds a per-latent constant gradient (the L1 penalty) into the mask pass. gIn may alias gOut.
   */
  reluBackward(pre: F32, gOut: F32, gIn: F32, rows: number, cols: number, colAdd: F32 | null): void;
  /** y ← y + alpha·x. */
  axpy(alpha: number, x: F32, y: F32): void;
  /** x ← alpha·x. */
  scale(x: F32, alpha: number): void;
  /** Σ x_i² (float64 accumulation). */
  sumSq(x: F32): number;
  /** Σ (a_i − b_i)². */
  sumSqDiff(a: F32, b: F32): number;
  /** Σ a_i·b_i. */
  dot(a: F32, b: F32): number;

  // ── TopK and sparse codes (B·k entries instead of B·m) ──────────────────
  /**
   * For each row of x [rows, cols]: the k largest values in descending order (ties: lower column
   * first; NaN sorts below everything) into valsOut [rows, k] and their columns into idxOut [rows, k].
   */
  topkRows(x: F32, rows: number, cols: number, k: number, valsOut: F32, idxOut: I32): void;
  /** out [rows, cols] ← 0, then out[r, idx[r, j]] = vals[r, j] (densify sparse codes). */
  scatterRows(vals: F32, idx: I32, rows: number, k: number, out: F32, cols: number): void;
  /** out[r, j] = x[r, idx[r, j]]. x: [rows, cols], out: [rows, k]. */
  gatherRows(x: F32, cols: number, idx: I32, rows: number, k: number, out: F32): void;
  /** out[r, :] ← beta·out[r, :] + Σ_j vals[r, j]·w[idx[r, j], :]. w: [m, d], out: [rows, d]. */
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
  ): void;
  /** gVals[r, j] = gOut[r, :]·w[idx[r, j], :] (gradient of sparseDecode w.r.t. vals). */
  sparseDecodeGradVals(gOut: F32, idx: I32, rows: number, k: number, w: F32, m: number, d: number, gVals: F32): void;
  /**
   * gW[idx[r, j], :] += vals[r, j]·gOut[r, :] (gradient of sparseDecode w.r.t. w; accumulates).
   * Deterministic: rows are visited in order for each output row of gW.
   */
  sparseDecodeGradW(vals: F32, idx: I32, rows: number, k: number, gOut: F32, m: number, d: number, gW: F32): void;

  // ── optimiser ────────────────────────────────
  /** One Adam(W) step in place on param, with moment buffers m and v (all the same length). */
  adam(param: F32, grad: F32, m: F32, v: F32, opts: AdamOptions): void;
}
