/**
 * Finite-difference gradient checks for every architecture and every trained tensor (docs/SCIENCE.md
 * §2 objectives, differentiated by hand in src/sae/*.ts). Small shapes, a few random coordinates per
 * tensor, central differences (h = 1e-2, shrunk when needed) on an O(1) loss, relative tolerance
 * 1e-2. Selection-based architectures (TopK, BatchTopK, JumpReLU, Gated's gate) are piecewise
 * smooth: each difference is taken only where the active pattern is identical at x ± h (asserted).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { archsUsing, getArch } from '../../src/sae/registry.js';
import { setReluPath } from '../../src/sae/relu.js';
import type { Sae, SaeStep, StepOptions, TensorMap } from '../../src/sae/types.js';
import { ARCH_CASES } from './arch-table.js';
import { engine, perturbedSae, randn } from './helpers.js';

const B = 8;

function setup(caseIdx: number, seed: number) {
  const c = ARCH_CASES[caseIdx];
  const sae = perturbedSae(c.input, seed);
  const step = getArch(sae.cfg.arch).createStep(sae, B, engine());
  const x = randn(Rng.from(seed, 'x'), B * sae.cfg.dIn);
  for (let i = 0; i < x.length; i++) x[i] += 0.3; // a mean, so b_dec matters
  const dead = new Uint8Array(sae.cfg.dSae);
  for (let i = 0; i < dead.length; i += 3) dead[i] = 1;
  const opts: StepOptions = { mode: 'train', sparsityScale: 0.7, dead: c.noDead ? null : dead };
  return { c, sae, step, x, opts };
}

function grads(sae: Sae): TensorMap {
  const g: TensorMap = {};
  for (const [n, t] of Object.entries(sae.params)) g[n] = new Float32Array(t.length).fill(NaN);
  return g;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Checks `coords` coordinates of tensor `name`; returns how many were compared. */
function fdCheck(
  sae: Sae,
  step: SaeStep,
  x: Float32Array,
  opts: StepOptions,
  name: string,
  g: Float32Array,
  rng: Rng,
  coords: number,
): number {
  step.forward(x, opts);
  const base = step.activePattern();
  const t = sae.params[name];
  let scaleG = 0;
  for (let i = 0; i < g.length; i++) scaleG = Math.max(scaleG, Math.abs(g[i]));
  let compared = 0;
  for (let tries = 0; tries < coords * 6 && compared < coords; tries++) {
    const i = rng.int(t.length);
    const orig = t[i];
    for (const h of [1e-2, 3e-3, 1e-3]) {
      t[i] = orig + h;
      const lp = step.forward(x, opts).loss;
      const pp = step.activePattern();
      t[i] = orig - h;
      const lm = step.forward(x, opts).loss;
      const pm = step.activePattern();
      t[i] = orig;
      if (!same(pp, base) || !same(pm, base)) continue;
      const fd = (lp - lm) / (2 * h);
      const tol = 1e-2 * Math.max(Math.abs(fd), Math.abs(g[i])) + 2e-3 * Math.max(scaleG, 1e-2) + 1e-4;
      expect(
        Math.abs(fd - g[i]),
        `${name}[${i}]: finite difference ${fd} vs backward ${g[i]} (h=${h})`,
      ).toBeLessThanOrEqual(tol);
      compared++;
      break;
    }
  }
  step.forward(x, opts);
  return compared;
}

describe('SaeStep.backward(grads) matches finite differences of SaeStep.forward(x, opts).loss', () => {
  ARCH_CASES.forEach((c, ci) => {
    it(`${c.title}: every trained tensor`, () => {
      const { sae, step, x, opts } = setup(ci, 11 + ci);
      step.forward(x, opts);
      const g = grads(sae);
      step.backward(g);
      for (const [name, t] of Object.entries(g)) {
        for (let i = 0; i < t.length; i++) expect(Number.isFinite(t[i]), `${name}[${i}] written and finite`).toBe(true);
      }
      const extra = c.detachedGrad?.(sae, x, B) ?? {};
      for (const [name, t] of Object.entries(extra)) for (let i = 0; i < t.length; i++) g[name][i] += t[i];
      const rng = Rng.from(ci, 'coords');
      for (const name of Object.keys(sae.params)) {
        if (c.steOnly?.includes(name)) continue;
        const n = fdCheck(sae, step, x, opts, name, g[name], rng, 6);
        expect(n, `${name}: coordinates compared without a selection change`).toBeGreaterThanOrEqual(3);
      }
    });
  });

  it('relu (both variants) on the sparse decoder path: every trained tensor', () => {
    setReluPath('sparse');
    try {
      ARCH_CASES.forEach((c, ci) => {
        if (c.input.arch !== 'relu') return;
        const { sae, step, x, opts } = setup(ci, 40 + ci);
        step.forward(x, opts);
        const g = grads(sae);
        step.backward(g);
        const rng = Rng.from(ci, 'coords-sparse');
        for (const name of Object.keys(sae.params))
          expect(fdCheck(sae, step, x, opts, name, g[name], rng, 6), name).toBeGreaterThanOrEqual(3);
      });
    } finally {
      setReluPath('auto');
    }
  });

  for (const arch of archsUsing('auxKCoeff')) {
    it(`${arch}: AuxK changes the gradients of dead latents only (W_dec rows, W_enc columns, b_enc; b_dec through the centring)`, () => {
      const ci = ARCH_CASES.findIndex((c) => c.input.arch === arch);
      const run = (auxKCoeff: number) => {
        const c = ARCH_CASES[ci];
        const sae = perturbedSae({ ...c.input, auxKCoeff }, 7);
        const step = getArch(sae.cfg.arch).createStep(sae, B, engine());
        const x = randn(Rng.from(7, 'x'), B * sae.cfg.dIn);
        const dead = new Uint8Array(sae.cfg.dSae);
        for (let i = 0; i < dead.length; i += 3) dead[i] = 1;
        const parts = step.forward(x, { mode: 'train', sparsityScale: 1, dead });
        const g = grads(sae);
        step.backward(g);
        return { g, parts, dead, D: sae.cfg.dIn, M: sae.cfg.dSae };
      };
      const off = run(0);
      const on = run(0.5);
      // (Matryoshka's aux part also holds its partial-prefix losses, the same in both runs.)
      expect(on.parts.aux).toBeGreaterThan(off.parts.aux);
      expect(on.parts.mse).toBe(off.parts.mse);
      const { D, M, dead } = on;
      let changed = 0;
      for (let i = 0; i < M; i++) {
        const rowDiff = Math.max(
          ...Array.from({ length: D }, (_, j) => Math.abs(on.g.W_dec[i * D + j] - off.g.W_dec[i * D + j])),
        );
        const colDiff = Math.max(
          ...Array.from({ length: D }, (_, j) => Math.abs(on.g.W_enc[j * M + i] - off.g.W_enc[j * M + i])),
        );
        const bDiff = Math.abs(on.g.b_enc[i] - off.g.b_enc[i]);
        if (!dead[i]) {
          expect(rowDiff, `live latent ${i} W_dec row`).toBeLessThan(1e-6);
          expect(colDiff, `live latent ${i} W_enc column`).toBeLessThan(1e-6);
          expect(bDiff, `live latent ${i} b_enc`).toBeLessThan(1e-6);
        } else if (rowDiff > 1e-6) changed++;
      }
      expect(changed, 'some dead latent receives an AuxK gradient').toBeGreaterThan(0);
    });
  }

  it('jumprelu: ∂L/∂log θ equals θ·Σ_b rect((h−θ)/ε)·(−(θ/ε)·∂L/∂f − λ/(Bε)) computed directly', () => {
    const ci = ARCH_CASES.findIndex((c) => c.input.arch === 'jumprelu');
    const { sae, step, x, opts } = setup(ci, 5);
    const { dIn: D, dSae: M, bandwidth, sparsityCoeff } = sae.cfg;
    const eps = bandwidth as number;
    const lambda = (sparsityCoeff as number) * opts.sparsityScale;
    step.forward(x, opts);
    const g = grads(sae);
    step.backward(g);
    // Independent recomputation in float64.
    const p = sae.params;
    const h = new Float64Array(B * M);
    const f = new Float64Array(B * M);
    const th = Array.from(p.log_threshold, Math.exp);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < M; i++) {
        let s = p.b_enc[i];
        for (let j = 0; j < D; j++) s += (x[b * D + j] - p.b_dec[j]) * p.W_enc[j * M + i];
        h[b * M + i] = s;
        f[b * M + i] = s > th[i] ? s : 0;
      }
    }
    let inWindow = 0;
    for (let i = 0; i < M; i++) {
      let gTheta = 0;
      for (let b = 0; b < B; b++) {
        // ∂L/∂f_bi = (2/B) Σ_d (x̂ − x)_bd W_dec[i, d]
        let gf = 0;
        for (let d = 0; d < D; d++) {
          let xh = p.b_dec[d];
          for (let q = 0; q < M; q++) xh += f[b * M + q] * p.W_dec[q * D + d];
          gf += (2 / B) * (xh - x[b * D + d]) * p.W_dec[i * D + d];
        }
        if (Math.abs(h[b * M + i] - th[i]) < eps / 2) {
          gTheta += -(th[i] / eps) * gf - lambda / (B * eps);
          inWindow++;
        }
      }
      expect(g.log_threshold[i]).toBeCloseTo(th[i] * gTheta, 4);
    }
    expect(inWindow, 'some pre-activations fall inside the kernel window').toBeGreaterThan(0);
  });
});
