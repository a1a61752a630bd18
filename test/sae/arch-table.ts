/**
 * The shared architecture table for the SAE tests (DESIGN.md: a new architecture = one file + one
 * registry line + one row here). Shapes are tiny so finite differences stay fast on the reference engine.
 */
import type { Sae, SaeConfigInput } from '../../src/sae/types.js';

export interface ArchCase {
  /** Test title fragment. */
  title: string;
  input: SaeConfigInput;
  /** Tensors whose gradient is a straight-through estimate, checked against a formula, not finite differences. */
  steOnly?: string[];
  /**
   * Gradient of the loss's stop-gradient terms w.r.t. their detached occurrences: finite differences
   * see it, backward rightly does not, so the check adds it to backward's gradient.
   */
  detachedGrad?: (sae: Sae, x: Float32Array, B: number) => Record<string, Float64Array>;
  /** AuxK detaches its residual; the whole-architecture check runs with no dead latent (nn/auxk has its own check). */
  noDead?: boolean;
}

/** Gated's aux loss mean_b‖ReLU(π)·sg(W_dec) + sg(b_dec) − x‖²: its gradient w.r.t. the detached W_dec and b_dec. */
function gatedDetached(sae: Sae, x: Float32Array, B: number): Record<string, Float64Array> {
  const { dIn: D, dSae: M } = sae.cfg;
  const p = sae.params;
  const gW = new Float64Array(M * D);
  const gb = new Float64Array(D);
  const rp = new Float64Array(M);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < M; i++) {
      let s = p.b_gate[i];
      for (let j = 0; j < D; j++) s += (x[b * D + j] - p.b_dec[j]) * p.W_enc[j * M + i];
      rp[i] = Math.max(s, 0);
    }
    for (let d = 0; d < D; d++) {
      let a = p.b_dec[d] - x[b * D + d];
      for (let i = 0; i < M; i++) a += rp[i] * p.W_dec[i * D + d];
      const g = (2 / B) * a;
      gb[d] += g;
      for (let i = 0; i < M; i++) gW[i * D + d] += g * rp[i];
    }
  }
  return { W_dec: gW, b_dec: gb };
}

const D = 6;
const M = 12;

export const ARCH_CASES: ArchCase[] = [
  { title: 'relu (april-2024)', input: { arch: 'relu', dIn: D, dSae: M, variant: 'april-2024', sparsityCoeff: 0.3 } },
  { title: 'relu (constrained-2023)', input: { arch: 'relu', dIn: D, dSae: M, variant: 'constrained-2023', sparsityCoeff: 0.3 } },
  { title: 'topk', input: { arch: 'topk', dIn: D, dSae: M, k: 3, kAux: 2, auxKCoeff: 0.5 }, noDead: true },
  { title: 'batchtopk', input: { arch: 'batchtopk', dIn: D, dSae: M, k: 3, kAux: 2, auxKCoeff: 0.5 }, noDead: true },
  { title: 'matryoshka', input: { arch: 'matryoshka', dIn: D, dSae: M, k: 3, kAux: 2, auxKCoeff: 0.5, groupFractions: [1 / 6, 1 / 4] }, noDead: true },
  { title: 'jumprelu', input: { arch: 'jumprelu', dIn: D, dSae: M, sparsityCoeff: 0.3, initThreshold: 0.05, bandwidth: 0.2 }, steOnly: ['log_threshold'] },
  { title: 'gated', input: { arch: 'gated', dIn: D, dSae: M, sparsityCoeff: 0.3 }, detachedGrad: gatedDetached },
];
