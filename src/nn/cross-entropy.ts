/**
 * Softmax cross-entropy over class logits, its gradient and accuracy (the modular-arithmetic
 * transformer's loss, docs/SCIENCE.md §5). The log-sum-exp is taken in float64: a grokked model drives
 * the training loss below 1e-7, where float32 log-softmax rounds the correct class's probability
 * to exactly 1 and the loss (and its gradient) to 0 — the "slingshot" artefact Nanda et al. avoid
 * the same way.
 *
 * Shapes: logits [N, C] float32, targets [N] in [0, C).
 */
import type { F32 } from '../engine/types.js';

interface CrossEntropyResult {
  /** Mean −log p(target). */
  loss: number;
  /** Fraction of rows whose arg-max logit is the target (ties: lowest class). */
  accuracy: number;
}

/**
 * Mean cross-entropy and accuracy; when gLogitsNC is given, also ∂loss/∂logits = (softmax − onehot)/N
 * (multiplied by `gradScale`, e.g. to weight a sub-batch).
 */
export function crossEntropy(
  logitsNC: F32,
  N: number,
  C: number,
  targetsN: Int32Array,
  gLogitsNC: F32 | null = null,
  gradScale = 1,
): CrossEntropyResult {
  let loss = 0;
  let correct = 0;
  const gs = gradScale / N;
  const ex = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const o = n * C;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < C; c++) {
      const z = logitsNC[o + c];
      if (z > max) {
        max = z;
        arg = c;
      }
    }
    // log Σ_c exp(z_c − max) = log1p(Σ_{c ≠ arg} …): keeps losses far below float64's 1e-16 ulp of 1.
    let others = 0;
    for (let c = 0; c < C; c++) {
      ex[c] = c === arg ? 1 : Math.exp(logitsNC[o + c] - max);
      if (c !== arg) others += ex[c];
    }
    const t = targetsN[n];
    loss += max - logitsNC[o + t] + Math.log1p(others);
    if (arg === t) correct++;
    if (gLogitsNC) {
      const inv = gs / (1 + others);
      for (let c = 0; c < C; c++) gLogitsNC[o + c] = ex[c] * inv;
      // p_t − 1 without cancellation when t is the arg-max: −Σ_{c≠t} p_c = −others/(1 + others).
      gLogitsNC[o + t] = arg === t ? -others * inv : gLogitsNC[o + t] - gs;
    }
  }
  return { loss: loss / N, accuracy: correct / N };
}
