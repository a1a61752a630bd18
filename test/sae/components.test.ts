import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { DeadTracker } from '../../src/sae/dead.js';
import { explainedVariance, totalVariance } from '../../src/sae/evaluate.js';
import { SAE_ARCHITECTURES, saeLensCfg } from '../../src/sae/checkpoint/index.js';
import { saeWeightsToWrite } from '../../src/sae/save.js';
import { geometricMedian } from '../../src/sae/geomedian.js';
import { prefixEnds } from '../../src/sae/matryoshka.js';
import { estimateInputScale, foldInputScale } from '../../src/sae/normalize.js';
import { archBySaeLens, archNames, getArch, initSae, resolveConfig } from '../../src/sae/registry.js';
import { lrAt, sparsityScaleAt, defaultWarmupSteps } from '../../src/sae/schedule.js';
import { defaultBatchSize, defaultSteps } from '../../src/sae/train.js';
import { ARCH_CASES } from './arch-table.js';
import { engine, perturbedSae, randn } from './helpers.js';

describe('geometricMedian', () => {
  it('geometricMedian(equilateral triangle) is its centroid (the Fermat point)', () => {
    const pts = [0, 0, 2, 0, 1, Math.sqrt(3)];
    const r = geometricMedian(pts, 3, 2);
    expect(r.median[0]).toBeCloseTo(1, 5);
    expect(r.median[1]).toBeCloseTo(Math.sqrt(3) / 3, 5);
    expect(r.iterations).toBeLessThanOrEqual(100);
  });

  it('geometricMedian(collinear points with an outlier) is the middle point, unlike the mean', () => {
    const pts = [0, 0, 1, 0, 2, 0, 3, 0, 1000, 0];
    const r = geometricMedian(pts, 5, 2);
    expect(r.median[0]).toBeCloseTo(2, 3);
    expect(r.median[1]).toBeCloseTo(0, 6);
  });

  it('geometricMedian(triangle with a 120°+ angle) is that vertex; one point is itself', () => {
    const r = geometricMedian([0, 0, 10, 0.1, -10, 0.1], 3, 2);
    expect(r.median[0]).toBeCloseTo(0, 3);
    expect(r.median[1]).toBeCloseTo(0, 3);
    expect(Array.from(geometricMedian([3, 4], 1, 2).median)).toEqual([3, 4]);
  });
});

describe('explainedVariance', () => {
  it('explainedVariance(x, x̂) = 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖² with x̄ the per-dimension mean (not zero)', () => {
    // x rows (10, 1), (12, 3): mean (11, 2), Σ‖x − x̄‖² = 4; x̂ off by 1 in one coordinate.
    const x = [10, 1, 12, 3];
    const xh = [10, 1, 12, 2];
    expect(totalVariance(x, 2, 2)).toBeCloseTo(4, 12);
    expect(explainedVariance(x, xh, 2, 2)).toBeCloseTo(1 - 1 / 4, 12);
    // centring at zero would give 1 − 1/254
    expect(explainedVariance(x, xh, 2, 2)).not.toBeCloseTo(1 - 1 / 254, 3);
  });
});

describe('schedules', () => {
  it('lrAt(schedule, step) warms up linearly, holds, and decays linearly to ~0 over the last 20%', () => {
    const s = { lr: 1, totalSteps: 1000, warmupSteps: 50, decayFraction: 0.2 };
    expect(lrAt(s, 1)).toBeCloseTo(1 / 50);
    expect(lrAt(s, 50)).toBe(1);
    expect(lrAt(s, 800)).toBe(1);
    expect(lrAt(s, 801)).toBe(1);
    expect(lrAt(s, 900)).toBeCloseTo(101 / 200);
    expect(lrAt(s, 1000)).toBeCloseTo(1 / 200);
    expect(defaultWarmupSteps(1000)).toBe(50);
    expect(defaultWarmupSteps(100_000)).toBe(1000);
  });

  it('sparsityScaleAt(step, total, 0.05) ramps to 1 over the first 5%', () => {
    expect(sparsityScaleAt(1, 1000, 0.05)).toBeCloseTo(0.02);
    expect(sparsityScaleAt(50, 1000, 0.05)).toBe(1);
    expect(sparsityScaleAt(3, 1000, 0)).toBe(1);
  });

  it('defaultBatchSize(rows) is a power of two ≤ rows/64 in [32, 4096]; defaultSteps gives ≥ 8192 steps', () => {
    expect(defaultBatchSize(50_000)).toBe(512);
    expect(defaultBatchSize(10_000_000)).toBe(4096);
    expect(defaultBatchSize(1000)).toBe(32);
    expect(defaultBatchSize(20)).toBe(20);
    expect(defaultBatchSize(null)).toBe(4096);
    expect(defaultSteps(50_000, 512)).toBe(8192);
    expect(defaultSteps(100_000_000, 4096)).toBe(24414);
  });
});

describe('DeadTracker', () => {
  it('DeadTracker(M, N).update(rows): dead ⇔ no firing over min(N, tokens so far)', () => {
    const t = new DeadTracker(3, 10);
    t.stepCounts[0] = 1;
    t.update(4); // tokens 4: latent 0 fired, 1 and 2 never → dead
    expect(Array.from(t.dead)).toEqual([0, 1, 1]);
    t.stepCounts[1] = 2;
    t.update(4); // tokens 8
    expect(Array.from(t.dead)).toEqual([0, 0, 1]);
    t.update(4); // tokens 12: latent 0 last fired at 4 → 8 < 10 alive
    expect(Array.from(t.dead)).toEqual([0, 0, 1]);
    t.update(4); // tokens 16: latent 0 silent for 12 ≥ 10 → dead; latent 1 silent 8
    expect(Array.from(t.dead)).toEqual([1, 0, 1]);
    expect(t.deadCount).toBe(2);
    expect(t.takeDenseFraction(0.1)).toBeCloseTo(1 / 3); // latent 1: 2 of 16 tokens > 10%
  });
});

describe('config validation', () => {
  it('resolveConfig rejects unknown architectures, k > d_sae, and fields that do not apply', () => {
    expect(() => resolveConfig({ arch: 'nope' as never, dIn: 4, dSae: 8 })).toThrow(ConfigError);
    expect(() => resolveConfig({ arch: 'topk', dIn: 4, dSae: 8, k: 9 })).toThrow(/k = 9/);
    expect(() => resolveConfig({ arch: 'topk', dIn: 4, dSae: 8, k: 2, sparsityCoeff: 1 })).toThrow(/sparsityCoeff/);
    expect(() => resolveConfig({ arch: 'relu', dIn: 4, dSae: 8, variant: 'x' as never })).toThrow(/variant/);
    expect(() => resolveConfig({ arch: 'topk', dIn: 0, dSae: 8, k: 2 })).toThrow(/dIn/);
    expect(resolveConfig({ arch: 'topk', dIn: 64, dSae: 128, k: 4 })).toMatchObject({ auxKCoeff: 1 / 32, kAux: 32 });
    expect(archNames().sort()).toEqual(['batchtopk', 'gated', 'jumprelu', 'matryoshka', 'relu', 'topk']);
  });

  it('archBySaeLens(name) is the one architecture writing SAELens name, for every name in SAE_ARCHITECTURES', () => {
    expect([...SAE_ARCHITECTURES].sort()).toEqual([
      'batchtopk',
      'gated',
      'jumprelu',
      'matryoshka_batchtopk',
      'standard',
      'topk',
    ]);
    for (const n of SAE_ARCHITECTURES) {
      expect(
        archNames().filter((a) => getArch(a).saeLens.name === n),
        n,
      ).toHaveLength(1);
      expect(archBySaeLens(n).saeLens.name).toBe(n);
    }
    expect(() => archBySaeLens('nope')).toThrow(/unknown SAELens architecture 'nope'.*standard/);
  });

  it('prefixEnds(m, [1/32, 1/16, 1/8, 1/4]) = m/32, 3m/32, 7m/32, 15m/32, m', () => {
    expect(prefixEnds(128, [1 / 32, 1 / 16, 1 / 8, 1 / 4])).toEqual([4, 12, 28, 60, 128]);
    expect(() => prefixEnds(4, [0.5, 0.5])).toThrow(ConfigError);
  });
});

describe('init', () => {
  it('Architecture.init(cfg, Rng.from(seed, "init")) depends on the seed alone (same bytes whatever the engine threads)', () => {
    for (const c of ARCH_CASES) {
      const cfg = resolveConfig(c.input);
      engine().setThreads(1);
      const a = initSae(cfg, 5);
      engine().setThreads(2);
      const b = initSae(cfg, 5);
      const other = initSae(cfg, 6);
      for (const n of Object.keys(a.params)) {
        expect(Buffer.from(a.params[n].buffer).equals(Buffer.from(b.params[n].buffer)), `${c.title} ${n}`).toBe(true);
      }
      expect(Buffer.from(a.params.W_dec.buffer).equals(Buffer.from(other.params.W_dec.buffer))).toBe(false);
    }
  });

  it('relu april-2024 init: decoder rows at norm 0.1 and W_enc = W_decᵀ; TopK: unit rows', () => {
    const a = initSae(resolveConfig({ arch: 'relu', dIn: 5, dSae: 7 }), 1);
    for (let i = 0; i < 7; i++) {
      let s = 0;
      for (let j = 0; j < 5; j++) {
        s += a.params.W_dec[i * 5 + j] ** 2;
        expect(a.params.W_enc[j * 7 + i]).toBe(a.params.W_dec[i * 5 + j]);
      }
      expect(Math.sqrt(s)).toBeCloseTo(0.1, 6);
    }
    const t = initSae(resolveConfig({ arch: 'topk', dIn: 5, dSae: 7, k: 2 }), 1);
    let s = 0;
    for (let j = 0; j < 5; j++) s += t.params.W_dec[j] ** 2;
    expect(Math.sqrt(s)).toBeCloseTo(1, 6);
  });
});

describe('Architecture.exportSaeLens and foldInputScale', () => {
  it('arch.exportSaeLens(sae) gives SAELens names and shapes per architecture (threshold for batchtopk/matryoshka/jumprelu, no b_enc for gated)', () => {
    const want: Record<string, string[]> = {
      relu: ['W_enc', 'b_enc', 'W_dec', 'b_dec'],
      topk: ['W_enc', 'b_enc', 'W_dec', 'b_dec'],
      batchtopk: ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'],
      matryoshka: ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'],
      jumprelu: ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold'],
      gated: ['W_enc', 'b_gate', 'r_mag', 'b_mag', 'W_dec', 'b_dec'],
    };
    const archOf: Record<string, string> = {
      relu: 'standard',
      topk: 'topk',
      batchtopk: 'batchtopk',
      matryoshka: 'matryoshka_batchtopk',
      jumprelu: 'jumprelu',
      gated: 'gated',
    };
    for (const c of ARCH_CASES) {
      const sae = perturbedSae(c.input, 1);
      const ex = getArch(sae.cfg.arch).exportSaeLens(sae);
      const { dIn: D, dSae: M } = sae.cfg;
      expect(Object.keys(ex.tensors).sort(), c.title).toEqual([...want[c.input.arch]].sort());
      expect(getArch(sae.cfg.arch).saeLens.name).toBe(archOf[c.input.arch]);
      expect(ex.shapes.W_enc).toEqual([D, M]);
      expect(ex.shapes.W_dec).toEqual([M, D]);
      expect(ex.shapes.b_dec).toEqual([D]);
      for (const [n, t] of Object.entries(ex.tensors))
        expect(t.length, n).toBe(ex.shapes[n].reduce((a, b) => a * b, 1));
      const cfg = saeLensCfg(saeWeightsToWrite(sae), { seed: 1 });
      expect(cfg).toMatchObject({
        architecture: archOf[c.input.arch],
        d_in: D,
        d_sae: M,
        dtype: 'float32',
        apply_b_dec_to_input: true,
        normalize_activations: 'none',
      });
      expect((cfg.metadata as Record<string, unknown>).seed).toBe(1);
      if (c.input.arch === 'jumprelu')
        expect(ex.tensors.threshold[0]).toBeCloseTo(Math.exp(sae.params.log_threshold[0]), 6);
    }
  });

  it('foldInputScale(sae, s) on raw x reconstructs exactly x̂(s·x)/s for every architecture', () => {
    const e = engine();
    const B = 6;
    for (const c of ARCH_CASES) {
      const sae = perturbedSae(c.input, 2);
      if (sae.buffers.threshold) sae.buffers.threshold.fill(0.05);
      const D = sae.cfg.dIn;
      const raw = randn(Rng.from(9, 'raw'), B * D, 40);
      const s = estimateInputScale(raw, B, D);
      expect(s).toBeLessThan(0.1);
      const scaled = Float32Array.from(raw, (v) => v * s);
      const arch = getArch(sae.cfg.arch);
      const stepS = arch.createStep(sae, B, e);
      stepS.forward(scaled, { mode: 'eval', sparsityScale: 1, dead: null });
      const want = Float32Array.from(stepS.recon, (v) => v / s);
      const folded = foldInputScale(sae, s);
      const stepR = arch.createStep(folded, B, e);
      stepR.forward(raw, { mode: 'eval', sparsityScale: 1, dead: null });
      let err = 0;
      let ref = 0;
      for (let i = 0; i < want.length; i++) {
        err = Math.max(err, Math.abs(stepR.recon[i] - want[i]));
        ref = Math.max(ref, Math.abs(want[i]));
      }
      expect(err, c.title).toBeLessThan(1e-4 * ref);
    }
  });
});
