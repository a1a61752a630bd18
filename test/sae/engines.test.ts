/**
 * The native engine and the reference engine agree on one full training step of every architecture
 * (docs/ARCHITECTURE.md: every fast path has a slow twin and a test that they agree).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { createEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/types.js';
import { AdamState, clipGlobalNorm } from '../../src/nn/optim.js';
import { getArch } from '../../src/sae/registry.js';
import { setReluPath } from '../../src/sae/relu.js';
import type { LossParts, TensorMap } from '../../src/sae/types.js';
import { ARCH_CASES } from './arch-table.js';
import { nativeOrNull, perturbedSae, randn } from './helpers.js';

const B = 16;

function oneStep(e: Engine, ci: number): { parts: LossParts; grads: TensorMap; params: TensorMap } {
  const c = ARCH_CASES[ci];
  const sae = perturbedSae(c.input, 21);
  const step = getArch(sae.cfg.arch).createStep(sae, B, e);
  const x = randn(Rng.from(4, 'x'), B * sae.cfg.dIn);
  const dead = new Uint8Array(sae.cfg.dSae);
  for (let i = 0; i < dead.length; i += 4) dead[i] = 1;
  const parts = step.forward(x, { mode: 'train', sparsityScale: 1, dead });
  const grads: TensorMap = {};
  for (const [n, t] of Object.entries(sae.params)) grads[n] = new Float32Array(t.length);
  step.backward(grads);
  step.constrainGrads(grads);
  const saved: TensorMap = {};
  for (const [n, t] of Object.entries(grads)) saved[n] = new Float32Array(t);
  clipGlobalNorm(e, grads, 1);
  new AdamState(sae.params).step(e, sae.params, grads, {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    step: 1,
    weightDecay: 0,
  });
  step.afterUpdate(1, 10);
  return { parts, grads: saved, params: sae.params };
}

describe('native vs reference engine', () => {
  it('relu on the forced sparse decoder path: one training step agrees', () => {
    const ci = ARCH_CASES.findIndex((c) => c.input.arch === 'relu');
    setReluPath('sparse');
    try {
      const ref = oneStep(createEngine('reference'), ci);
      const native = nativeOrNull();
      const other = native ? oneStep(native, ci) : (setReluPath('dense'), oneStep(createEngine('reference'), ci));
      // Without the addon, compare the sparse path with the dense path on the reference engine.
      expect(other.parts.loss).toBeCloseTo(ref.parts.loss, 3);
      for (const n of Object.keys(ref.params)) {
        for (let i = 0; i < ref.params[n].length; i++)
          expect(Math.abs(ref.params[n][i] - other.params[n][i]), `${n}[${i}]`).toBeLessThan(2.5e-3);
      }
    } finally {
      setReluPath('auto');
    }
  });

  ARCH_CASES.forEach((c, ci) => {
    it(`${c.title}: one training step (loss, gradients, updated parameters) agrees`, () => {
      const ref = oneStep(createEngine('reference'), ci);
      const native = nativeOrNull();
      if (!native) {
        // No addon in this checkout: the reference step alone must still be finite and descend.
        expect(Number.isFinite(ref.parts.loss)).toBe(true);
        for (const t of Object.values(ref.params)) for (const v of t) expect(Number.isFinite(v)).toBe(true);
        return;
      }
      const nat = oneStep(native, ci);
      expect(nat.parts.loss).toBeCloseTo(ref.parts.loss, 3);
      expect(nat.parts.l0).toBe(ref.parts.l0);
      for (const n of Object.keys(ref.grads)) {
        const a = ref.grads[n];
        const b = nat.grads[n];
        let scale = 1e-3;
        for (const v of a) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${n}[${i}]`).toBeLessThan(1e-3 * scale);
      }
      for (const n of Object.keys(ref.params)) {
        const a = ref.params[n];
        const b = nat.params[n];
        // Adam's first step moves by ≈ lr·sign(g): a gradient within rounding of zero may flip sign.
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${n}[${i}]`).toBeLessThan(2.5e-3);
      }
    });
  });
});
