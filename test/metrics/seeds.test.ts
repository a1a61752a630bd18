import { describe, expect, it } from 'vitest';
import { assignmentMatch, seedStability, type MatchFn } from '../../src/metrics/seeds.js';
import { unitAtoms } from '../../src/metrics/cosine.js';
import { pwmcc } from '../../src/metrics/pairwise.js';
import { ConfigError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';

const D = 64;

function unit(rng: Rng): Float64Array {
  const v = new Float64Array(D);
  rng.fillNormal(v);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** f + noise·g, normalised: a noisy copy (cos ≈ 0.99 for noise 0.1 at D = 64). */
function noisy(f: Float64Array, rng: Rng, noise = 0.1): Float64Array {
  const g = new Float64Array(D);
  rng.fillNormal(g, 0, noise / Math.sqrt(D));
  const v = f.map((x, k) => x + g[k]);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/**
 * S = 4 seeds of 10 atoms in R^64: features f0, f1, f2 in every seed, g in seeds 0 and 2 only,
 * the rest independent random directions (|cos| < 0.5 ≪ τ = 0.7 at D = 64). Shared features sit at
 * different latent indices in each seed.
 */
function constructed(): { atoms: Mat[]; where: number[][]; gWhere: number[] } {
  const rng = Rng.from(2024, 'seeds-constructed');
  const f = [unit(rng), unit(rng), unit(rng)];
  const g = unit(rng);
  const where = [
    [0, 1, 2],
    [9, 4, 0],
    [5, 7, 3],
    [2, 8, 6],
  ]; // where[s][k] = latent index of f_k in seed s
  const gWhere = [8, -1, 1, -1];
  const atoms = where.map((w, s) => {
    const rows: Float64Array[] = Array.from({ length: 10 }, () => unit(rng));
    w.forEach((idx, k) => (rows[idx] = noisy(f[k], rng)));
    if (gWhere[s] >= 0) rows[gWhere[s]] = noisy(g, rng);
    const data = new Float32Array(10 * D);
    rows.forEach((r, i) => data.set(r, i * D));
    return { data, rows: 10, cols: D };
  });
  return { atoms, where, gWhere };
}

describe('seedStability(atomsPerSeed, opts)', () => {
  const { atoms, where, gWhere } = constructed();
  const r = seedStability(atoms, { tau: 0.7 });

  it('histogram "present in m of S seeds" is exactly [0, 26, 2, 0, 12]', () => {
    // 3 features × 4 seeds in bin 4; g's two latents in bin 2; the other 26 latents unique.
    expect(Array.from(r.histogram)).toEqual([0, 26, 2, 0, 12]);
  });

  it('stab_i = 1 for the shared features, 1/3 for g, 0 for the rest; presentIn agrees', () => {
    for (let s = 0; s < 4; s++) {
      for (let i = 0; i < 10; i++) {
        const expected = where[s].includes(i) ? 1 : gWhere[s] === i ? 1 / 3 : 0;
        expect(r.stab[s][i]).toBeCloseTo(expected, 12);
        expect(r.presentIn[s][i]).toBe(Math.round(expected * 3) + 1);
      }
    }
    expect(r.meanStability).toBeCloseTo((12 + 2 / 3) / 40, 12);
  });

  it("uniqueCurve: fraction unique for S' = 2, 3, 4 over all seed subsets is 82/120, 80/120, 26/40", () => {
    // S' = 2: five pairs have 14 of 20 unique, {0, 2} has 12 of 20 (g matched) → 82/120.
    // S' = 3: {0,1,2} 19/30, {0,1,3} 21/30, {0,2,3} 19/30, {1,2,3} 21/30 → 80/120. S' = 4: 26/40.
    expect(r.uniqueCurve.seeds).toEqual([2, 3, 4]);
    expect(r.uniqueCurve.subsets).toEqual([6, 4, 1]);
    expect(r.uniqueCurve.fractionUnique[0]).toBeCloseTo(82 / 120, 12);
    expect(r.uniqueCurve.fractionUnique[1]).toBeCloseTo(80 / 120, 12);
    expect(r.uniqueCurve.fractionUnique[2]).toBeCloseTo(26 / 40, 12);
  });

  it('consensus: three 4-seed clusters (the shared features) and one 2-seed cluster (g), exactly', () => {
    expect(r.consensus.length).toBe(4);
    const got = r.consensus.map((c) => c.members.map((m) => `${m.seed}:${m.latent}`).join(' '));
    const want = [0, 1, 2].map((k) => where.map((w, s) => `${s}:${w[k]}`).join(' '));
    expect(new Set(got.slice(0, 3))).toEqual(new Set(want));
    expect(got[3]).toBe(`0:${gWhere[0]} 2:${gWhere[2]}`);
    expect(Array.from(r.clusterSizes)).toEqual([0, 26, 1, 0, 3]);
    for (const c of r.consensus) {
      expect(c.spread).toBeGreaterThan(0.98);
      expect(c.spread).toBeLessThanOrEqual(1 + 1e-12);
      expect(Math.hypot(...c.direction)).toBeCloseTo(1, 12);
    }
  });

  it('consensus direction is sign-aligned: flipping one member atom changes neither clusters nor spread', () => {
    // A sign-blind matcher (assignment on elementwise-|atom| cosines, scored by |cos|) still matches
    // a flipped atom; the consensus direction must then align signs, or the spread would drop.
    const flipped = atoms.map((a) => ({ ...a, data: new Float32Array(a.data) }));
    const i = where[1][0];
    for (let k = 0; k < D; k++) flipped[1].data[i * D + k] *= -1;
    const absMatch: MatchFn = (a, b) => {
      const m = assignmentMatch(
        unitAtoms({ ...a, data: a.data.map(Math.abs) }),
        unitAtoms({ ...b, data: b.data.map(Math.abs) }),
      );
      // Score the pair by |cos| of the real atoms.
      const cosForRow = new Float64Array(a.rows).fill(NaN);
      for (let p = 0; p < a.rows; p++) {
        const q = m.colForRow[p];
        if (q < 0) continue;
        let dot = 0;
        for (let k = 0; k < a.cols; k++) dot += a.data[p * a.cols + k] * b.data[q * b.cols + k];
        cosForRow[p] = Math.abs(dot);
      }
      return { colForRow: m.colForRow, cosForRow };
    };
    const base = seedStability(atoms, { match: absMatch });
    const flip = seedStability(flipped, { match: absMatch });
    expect(flip.consensus.map((c) => c.spread)).toEqual(
      base.consensus.map((c) => c.spread).map((x) => expect.closeTo(x, 6)),
    );
    expect(flip.histogram).toEqual(base.histogram);
  });

  it('identical seeds: every latent present in all S seeds, nothing unique', () => {
    const same = seedStability([atoms[0], atoms[0], atoms[0]]);
    expect(Array.from(same.histogram)).toEqual([0, 0, 0, 30]);
    expect(same.consensus.every((c) => c.members.length === 3)).toBe(true);
    expect(same.uniqueCurve.fractionUnique).toEqual([0, 0]);
    expect(same.consensus.length).toBe(10);
  });

  it("sampled subsets (maxSubsets below C(S, S')) are reproducible for a seed", () => {
    const a = seedStability(atoms, { maxSubsets: 2, seed: 5 });
    const b = seedStability(atoms, { maxSubsets: 2, seed: 5 });
    expect(a.uniqueCurve).toEqual(b.uniqueCurve);
    expect(a.uniqueCurve.subsets).toEqual([2, 2, 1]);
  });

  it('pwmcc[s][t] equals pairwise.ts pwmcc(seed s, seed t), symmetric with 1 on the diagonal', () => {
    for (let s = 0; s < atoms.length; s++) {
      expect(r.pwmcc[s][s]).toBe(1);
      for (let t = s + 1; t < atoms.length; t++) {
        expect(r.pwmcc[s][t]).toBeCloseTo(pwmcc(atoms[s], atoms[t]).value, 10);
        expect(r.pwmcc[t][s]).toBe(r.pwmcc[s][t]);
      }
    }
    const small: Mat = { data: atoms[1].data.subarray(0, 5 * D), rows: 5, cols: D };
    expect(seedStability([atoms[0], small]).pwmcc[0][1]).toBeCloseTo(pwmcc(atoms[0], small).value, 10);
  });

  it('rectangular seeds (different widths): unmatched latents count as absent', () => {
    const small: Mat = { data: atoms[1].data.subarray(0, 5 * D), rows: 5, cols: D };
    const res = seedStability([atoms[0], small]);
    expect(res.stab[0].length).toBe(10);
    expect(res.stab[1].length).toBe(5);
    // Seed 1's latents 0 and 4 are f2 and f1: present in seed 0.
    expect(Array.from(res.stab[1])).toEqual([1, 0, 0, 0, 1]);
  });

  it('throws ConfigError for < 2 seeds or a bad tau and ShapeError for mismatched d_in', () => {
    expect(() => seedStability([atoms[0]])).toThrow(ConfigError);
    expect(() => seedStability(atoms, { tau: 2 })).toThrow(ConfigError);
    expect(() => seedStability([atoms[0], { data: new Float32Array(6), rows: 2, cols: 3 }])).toThrow(ShapeError);
  });
});
