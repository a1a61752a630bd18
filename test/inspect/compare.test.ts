/**
 * `husai compare` end to end on SAEs in two layouts (SAELens v6 and sparsify), against values
 * computed independently by test/golden/compare/make_compare.py (numpy + scipy, docs/SCIENCE.md §3).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matFrom } from '../../src/core/mat.js';
import { ShapeError } from '../../src/core/errors.js';
import { readNpy } from '../../src/formats/npy.js';
import { loadSae } from '../../src/sae/checkpoint/index.js';
import { compareGroundTruth, comparePair, compareSeeds } from '../../src/inspect/compare.js';

const DIR = path.join(import.meta.dirname, '../golden/compare');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(DIR, 'expected.json'), 'utf8')) as {
  pair: Record<string, number>;
  ground_truth: Record<string, number>;
};
const a = loadSae(path.join(DIR, 'sae_a'));
const b = loadSae(path.join(DIR, 'sae_b'));

describe('comparePair(SAELens dir, sparsify dir)', () => {
  const out = comparePair(a, b, { nullDraws: 10, seed: 0 });

  it('matches the numpy/scipy definitions to 1e-4', () => {
    for (const key of [
      'mmcs_ab',
      'mmcs_ba',
      'mean_max_abs_sym',
      'pwmcc',
      'pwmcc_abs',
      'enc_pwmcc',
      'shared_fraction',
    ]) {
      expect(Math.abs((out as unknown as Record<string, number>)[key] - EXPECTED.pair[key]), key).toBeLessThan(1e-4);
    }
    expect([out.n_a, out.n_b, out.d]).toEqual([EXPECTED.pair.n_a, EXPECTED.pair.n_b, EXPECTED.pair.d]);
    expect(out.dead_atoms_a).toBe(1);
  });

  it('reports the random null of the same shapes, and excess = pwmcc − null mean', () => {
    // Random 48 vs 40 unit atoms in d = 16 sit far below these partly shared SAEs.
    expect(out.null_pwmcc_mean).toBeGreaterThan(0.2);
    expect(out.null_pwmcc_mean).toBeLessThan(0.6);
    expect(out.null_pwmcc_sd).toBeGreaterThan(0);
    expect(out.null_draws).toBe(10);
    expect(out.pwmcc_excess).toBeCloseTo(out.pwmcc - out.null_pwmcc_mean, 12);
    expect(out.pwmcc_ratio).toBeCloseTo(out.pwmcc / out.null_pwmcc_mean, 12);
  });

  it('is symmetric where the definitions are: swapping A and B swaps mmcs_ab and mmcs_ba', () => {
    const ba = comparePair(b, a, { nullDraws: 10 });
    expect(ba.mmcs_ab).toBeCloseTo(out.mmcs_ba, 6);
    expect(ba.mmcs_ba).toBeCloseTo(out.mmcs_ab, 6);
    expect(ba.pwmcc).toBeCloseTo(out.pwmcc, 6);
  });
});

describe('compareGroundTruth(SAE, gt)', () => {
  it('matches gt_mcc, gt_mmcs and gt_recovered from numpy to 1e-4', () => {
    const gt = readNpy(path.join(DIR, 'gt.npy'));
    const out = compareGroundTruth(a, matFrom(gt.data, gt.shape[0], gt.shape[1]), 'gt.npy', { nullDraws: 10 });
    for (const key of ['gt_mcc', 'gt_mmcs', 'gt_recovered_09', 'gt_recovered_07']) {
      expect(Math.abs((out as unknown as Record<string, number>)[key] - EXPECTED.ground_truth[key]), key).toBeLessThan(
        1e-4,
      );
    }
    expect([out.n_gt, out.n_sae]).toEqual([EXPECTED.ground_truth.n_gt, EXPECTED.ground_truth.n_sae]);
    expect(out.null_gt_mcc_mean).toBeLessThan(out.gt_mcc);
  });

  it('rejects ground truth of the wrong width, naming both shapes', () => {
    expect(() => compareGroundTruth(a, matFrom(new Float32Array(24 * 8), 24, 8), 'bad.npy')).toThrow(ShapeError);
    expect(() => compareGroundTruth(a, matFrom(new Float32Array(24 * 8), 24, 8), 'bad.npy')).toThrow(
      /\[24×8\].*d_in = 16/,
    );
  });
});

describe('compareSeeds([A, B, A])', () => {
  it('puts pairwise PW-MCC in a symmetric matrix; identical SAEs score 1', () => {
    const out = compareSeeds([a, b, a], { nullDraws: 10 });
    expect(out.n_seeds).toBe(3);
    expect(out.pwmcc_matrix[0][2]).toBeCloseTo(1 - 1 / 48, 6); // the dead latent matches nothing
    expect(out.pwmcc_matrix[0][1]).toBeCloseTo(EXPECTED.pair.pwmcc, 4);
    expect(out.pwmcc_matrix[1][0]).toBe(out.pwmcc_matrix[0][1]);
    expect(out.pwmcc_ci_lo).toBeLessThanOrEqual(out.pwmcc_mean);
    expect(out.pwmcc_ci_hi).toBeGreaterThanOrEqual(out.pwmcc_mean);
    expect(out.present_in.reduce((s, f) => s + f, 0)).toBeCloseTo(1, 10);
  });
});
