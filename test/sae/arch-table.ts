/**
 * The shared architecture table for the SAE tests (docs/ARCHITECTURE.md: a new architecture = one file + one
 * registry line + one row here). Shapes are tiny so finite differences stay fast on the reference engine.
 * Each row also carries its ground-truth recovery floor (recovery.test.ts): gt_mcc on exactly-k data
 * (d 32, 64 features, k 3, 20,000 rows, width 64, 3000 steps, default hyperparameters), measured
 * on seeds 1–3 with the native engine and set below the lowest with a margin.
 */
import type { RunConfig } from '../../src/sae/train.js';
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
  /** The recovery run's SAE config (defaults otherwise) and the gt_mcc it must reach; measured values in the comment. */
  recovery: { sae: RunConfig['sae']; gtMccFloor: number };
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
  {
    title: 'relu (april-2024)',
    input: { arch: 'relu', dIn: D, dSae: M, variant: 'april-2024', sparsityCoeff: 0.3 },
    recovery: { sae: { arch: 'relu', dSae: 64 }, gtMccFloor: 0.9 }, // measured 0.979, 0.944, 0.974
  },
  {
    title: 'relu (constrained-2023)',
    input: { arch: 'relu', dIn: D, dSae: M, variant: 'constrained-2023', sparsityCoeff: 0.3 },
    recovery: { sae: { arch: 'relu', dSae: 64, variant: 'constrained-2023' }, gtMccFloor: 0.9 }, // measured 0.962, 0.954, 0.951
  },
  {
    title: 'topk',
    input: { arch: 'topk', dIn: D, dSae: M, k: 3, kAux: 2, auxKCoeff: 0.5 },
    noDead: true,
    recovery: { sae: { arch: 'topk', dSae: 64, k: 3 }, gtMccFloor: 0.9 }, // measured 0.978, 0.954, 0.967
  },
  {
    title: 'batchtopk',
    input: { arch: 'batchtopk', dIn: D, dSae: M, k: 3, kAux: 2, auxKCoeff: 0.5 },
    noDead: true,
    recovery: { sae: { arch: 'batchtopk', dSae: 64, k: 3 }, gtMccFloor: 0.85 }, // measured 0.919, 0.909, 0.923
  },
  {
    title: 'matryoshka',
    input: { arch: 'matryoshka', dIn: D, dSae: M, k: 3, kAux: 2, auxKCoeff: 0.5, groupFractions: [1 / 6, 1 / 4] },
    noDead: true,
    recovery: { sae: { arch: 'matryoshka', dSae: 64, k: 3 }, gtMccFloor: 0.7 }, // measured 0.772, 0.788, 0.769
  },
  {
    title: 'jumprelu',
    input: { arch: 'jumprelu', dIn: D, dSae: M, sparsityCoeff: 0.3, initThreshold: 0.05, bandwidth: 0.2 },
    steOnly: ['log_threshold'],
    recovery: { sae: { arch: 'jumprelu', dSae: 64 }, gtMccFloor: 0.72 }, // measured 0.793, 0.786, 0.848
  },
  {
    title: 'gated',
    input: { arch: 'gated', dIn: D, dSae: M, sparsityCoeff: 0.3 },
    detachedGrad: gatedDetached,
    recovery: { sae: { arch: 'gated', dSae: 64 }, gtMccFloor: 0.6 }, // measured 0.744, 0.668, 0.735
  },
];
