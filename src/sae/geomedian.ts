/**
 * Geometric median by Weiszfeld's algorithm (docs/SCIENCE.md §2: b_dec is initialised to the geometric
 * median of a data sample, ≤ 100 iterations; Bricken et al. 2023). Float64 throughout; the
 * iteration starts at the coordinate-wise mean and stops when the step is below `tol`·(1 + ‖y‖).
 * A data point that coincides with the iterate is skipped (weight capped via `minDist`), the standard
 * guard against division by zero. Written by hand: a few lines, no library fits.
 *
 * Letters: N sample rows, D dimensions.
 */

interface GeoMedianResult {
  median: Float64Array;
  iterations: number;
  converged: boolean;
}

export function geometricMedian(
  xND: ArrayLike<number>,
  N: number,
  D: number,
  maxIter = 100,
  tol = 1e-7,
): GeoMedianResult {
  const y = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) y[d] += xND[n * D + d];
  for (let d = 0; d < D; d++) y[d] /= Math.max(N, 1);
  if (N <= 1) return { median: y, iterations: 0, converged: true };
  const next = new Float64Array(D);
  const minDist = 1e-12;
  for (let it = 1; it <= maxIter; it++) {
    next.fill(0);
    let wSum = 0;
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let d = 0; d < D; d++) {
        const v = xND[n * D + d] - y[d];
        s += v * v;
      }
      const dist = Math.sqrt(s);
      if (dist < minDist) continue;
      const w = 1 / dist;
      wSum += w;
      for (let d = 0; d < D; d++) next[d] += w * xND[n * D + d];
    }
    if (wSum === 0) return { median: y, iterations: it, converged: true };
    let move = 0;
    let norm = 0;
    for (let d = 0; d < D; d++) {
      const v = next[d] / wSum;
      move += (v - y[d]) ** 2;
      norm += v * v;
      y[d] = v;
    }
    if (Math.sqrt(move) <= tol * (1 + Math.sqrt(norm))) return { median: y, iterations: it, converged: true };
  }
  return { median: y, iterations: maxIter, converged: false };
}
