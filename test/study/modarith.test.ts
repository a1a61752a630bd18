/**
 * A study on modular-arithmetic data end to end (issue 6): the spec trains its model on first use
 * into model_dir, reuses it after, refuses a folder trained with another config, and results.json
 * carries the data summary (effective rank, key frequencies, model accuracy) and each cell's
 * Fourier analysis with its chance value. Tiny shapes (p = 13); the real study is studies/modarith.yaml.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runStudy } from '../../src/study/study.js';
import { activationEffectiveRank } from '../../src/study/modarith-data.js';
import { tmpDir, writeSpec } from './helpers.js';

const spec = (model: string): string => `name: tiny-modarith
question: does a modarith study run end to end?
data:
  kind: modarith
  model_dir: model
  model: { p: 13, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, steps: ${model}, lr: 0.003 }
  hook: resid_post
defaults:
  steps: 80
  batch_size: 64
  k: 4
grid:
  arch: [topk]
  width: [16]
  seed: [0, 1, 2]
eval_rows: 169
`;

describe('modarith study', () => {
  it('trains the model once, analyses Fourier features per cell, and reuses the model', async () => {
    const dir = tmpDir();
    const file = writeSpec(dir, spec('150'));
    const out = await runStudy(file, { out: path.join(dir, 'study'), report: null });
    expect(fs.existsSync(path.join(dir, 'model', 'config.json'))).toBe(true);
    const r = out.results!;
    expect(r.data.kind).toBe('modarith');
    expect(r.data.rows).toBe(169);
    const summary = r.data.summary as Record<string, number | number[]>;
    expect(summary.effective_rank).toBeGreaterThan(1);
    expect(summary.effective_rank).toBeLessThanOrEqual(16);
    expect(Array.isArray(summary.key_frequencies)).toBe(true);
    const f = r.cells[0].fourier!;
    expect(f.keys).toEqual(summary.key_frequencies);
    expect(f.perSeedFraction).toHaveLength(3);
    for (const x of f.perSeedFraction) expect(x === null || (x >= 0 && x <= 1)).toBe(true);
    expect(f.chanceFraction).not.toBeNull();
    expect(f.featuresPerKey.map((e) => e.k)).toEqual(f.keys);
    // A second study with the same spec reuses the model folder byte for byte.
    const before = fs.readFileSync(path.join(dir, 'model', 'model.safetensors'));
    await runStudy(file, { out: path.join(dir, 'study2'), report: null });
    expect(fs.readFileSync(path.join(dir, 'model', 'model.safetensors')).equals(before)).toBe(true);
    // Another model config pointing at the same folder is refused, naming the field.
    const other = writeSpec(dir, spec('160'), 'other.yaml');
    await expect(runStudy(other, { out: path.join(dir, 'study3'), report: null })).rejects.toThrow(
      /steps = 150.*asks for 160/,
    );
  }, 120_000);

  it('effective rank: a rank-2 cloud has effective rank near 2, an isotropic one near D', () => {
    const N = 2000;
    const D = 6;
    const low = new Float32Array(N * D);
    const iso = new Float32Array(N * D);
    let s = 1;
    const rnd = (): number => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (let n = 0; n < N; n++) {
      const u = rnd();
      const v = rnd();
      for (let d = 0; d < D; d++) {
        low[n * D + d] = d % 2 === 0 ? u : v;
        iso[n * D + d] = rnd();
      }
    }
    expect(activationEffectiveRank({ data: low, rows: N, cols: D })).toBeCloseTo(2, 1);
    expect(activationEffectiveRank({ data: iso, rows: N, cols: D })).toBeGreaterThan(5.5);
  });
});
