/**
 * Evaluation of a training step on a fixed set of inputs: MSE, explained variance, L0 and firing
 * rates (docs/SCIENCE.md §1). EV = 1 − Σ_b‖x_b − x̂_b‖² / Σ_b‖x_b − x̄‖² with x̄ the
 * per-dimension
 * mean
 * over the evaluation set — not centred at zero (SAELens had that wrong before v6.45.1).
 *
 * Letters: N rows of the evaluation set, B batch rows, D d_in, M d_sae.
 */
import type { SaeStep } from './types.js';

/** Σ_n ‖x_n − x̄‖² with x̄ the per-dimension mean (float64, two passes). */
export function totalVariance(xND: ArrayLike<number>, N: number, D: number): number {
  const mean = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) mean[d] += xND[n * D + d];
  for (let d = 0; d < D; d++) mean[d] /= Math.max(N, 1);
  let s = 0;
  for (let n = 0; n < N; n++) {
    for (let d = 0; d < D; d++) {
      const v = xND[n * D + d] - mean[d];
      s += v * v;
    }
  }
  return s;
}

/** EV of a reconstruction (docs/SCIENCE.md §1): 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖². */
export function explainedVariance(xND: ArrayLike<number>, xHatND: ArrayLike<number>, N: number, D: number): number {
  let sse = 0;
  for (let i = 0; i < N * D; i++) sse += (xND[i] - xHatND[i]) ** 2;
  return 1 - sse / totalVariance(xND, N, D);
}

interface EvalResult {
  /** mean_n Σ_d (x̂ − x)², in the units of the inputs given. */
  mse: number;
  explainedVariance: number;
  l0: number;
  /** Fraction of latents non-zero on more than 10% of the evaluation rows. */
  denseFraction: number;
  /** Latents non-zero on no evaluation row. */
  silent: number;
  rows: number;
}

/**
 * Runs `step` in eval mode over the first ⌊N/B⌋·B rows of xND (B = step.batch). `totalVar` may be
 * passed when already known for those rows.
 */
export function evaluateStep(
  step: SaeStep,
  xND: Float32Array,
  N: number,
  D: number,
  M: number,
  totalVar?: number,
): EvalResult {
  const B = step.batch;
  const nb = Math.floor(N / B);
  const rows = nb * B;
  const counts = new Int32Array(M);
  let sse = 0;
  let active = 0;
  for (let b = 0; b < nb; b++) {
    const x = xND.subarray(b * B * D, (b + 1) * B * D);
    const parts = step.forward(x, { mode: 'eval', sparsityScale: 1, dead: null });
    sse += parts.mse * B;
    active += parts.l0 * B;
    step.countFiring(counts);
  }
  const tv = totalVar ?? totalVariance(xND, rows, D);
  let dense = 0;
  let silent = 0;
  for (let i = 0; i < M; i++) {
    if (counts[i] > 0.1 * rows) dense++;
    if (counts[i] === 0) silent++;
  }
  return {
    mse: sse / Math.max(rows, 1),
    explainedVariance: tv > 0 ? 1 - sse / tv : NaN,
    l0: active / Math.max(rows, 1),
    denseFraction: dense / M,
    silent,
    rows,
  };
}
