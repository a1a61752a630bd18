import { describe, expect, it } from 'vitest';
import { crossSize } from '../../src/metrics/crosssize.js';
import { ActivationSimilarityAccumulator } from '../../src/metrics/activations.js';
import { pwmcc } from '../../src/metrics/pairwise.js';
import { ConfigError, ShapeError } from '../../src/core/errors.js';
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';

const D = 64;

function unit(v: Float64Array): Float64Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
function randUnit(rng: Rng): Float64Array {
  const v = new Float64Array(D);
  rng.fillNormal(v);
  return unit(v);
}
/** normalize(p + a·q) with q a unit vector orthogonal to p: cos with p is exactly 1/√(1 + a²). */
function tilt(p: Float64Array, a: number, rng: Rng): Float64Array {
  const q = randUnit(rng);
  const dot = q.reduce((s, x, k) => s + x * p[k], 0);
  const qo = unit(q.map((x, k) => x - dot * p[k]));
  return unit(p.map((x, k) => x + a * qo[k]));
}
function toMat(rows: Float64Array[]): Mat {
  const data = new Float32Array(rows.length * D);
  rows.forEach((r, i) => data.set(r, i * D));
  return { data, rows: rows.length, cols: D };
}

/**
 * Small SAE: 6 parents. Large SAE (11 atoms, shuffled by `perm`): parents 0, 1, 2 split into two
 * children each at cos 1/√1.36 ≈ 0.857; parent 3 has one near copy (cos ≈ 0.995); parent 4 has a
 * child whose direction moved (cos 1/√10 ≈ 0.32) but which fires exactly with it (masked ρ ≈ 1);
 * parent 5 has none; three large atoms are unrelated.
 */
function constructed(): {
  small: Mat;
  large: Mat;
  acc: ActivationSimilarityAccumulator;
  kids: number[][];
  actKid: number;
} {
  const rng = Rng.from(77, 'crosssize');
  const parents = Array.from({ length: 6 }, () => randUnit(rng));
  const logical: Float64Array[] = [
    tilt(parents[0], 0.6, rng),
    tilt(parents[0], 0.6, rng),
    tilt(parents[1], 0.6, rng),
    tilt(parents[1], 0.6, rng),
    tilt(parents[2], 0.6, rng),
    tilt(parents[2], 0.6, rng),
    tilt(parents[3], 0.1, rng),
    tilt(parents[4], 3, rng),
    randUnit(rng),
    randUnit(rng),
    randUnit(rng),
  ];
  const perm = [4, 9, 0, 7, 2, 10, 5, 1, 8, 3, 6]; // large index of logical atom t
  const largeRows: Float64Array[] = new Array(11);
  logical.forEach((v, t) => (largeRows[perm[t]] = v));
  const kids = [[0, 1], [2, 3], [4, 5], [6], [], []].map((ts) => ts.map((t) => perm[t]).sort((a, b) => a - b));
  const actKid = perm[7];

  // Activations on T tokens: parents fire with p = 0.1; split children take disjoint halves of
  // their parent's tokens; the near copy and the moved child follow their parent's value.
  const T = 400;
  const aS = new Float32Array(T * 6);
  const aL = new Float32Array(T * 11);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < 6; i++) if (rng.uniform() < 0.1) aS[t * 6 + i] = 0.5 + 1.5 * rng.uniform();
    for (let p = 0; p < 3; p++) {
      const v = aS[t * 6 + p];
      if (v !== 0) aL[t * 11 + perm[2 * p + (rng.uniform() < 0.5 ? 0 : 1)]] = v;
    }
    if (aS[t * 6 + 3] !== 0) aL[t * 11 + perm[6]] = 0.9 * aS[t * 6 + 3];
    if (aS[t * 6 + 4] !== 0) aL[t * 11 + perm[7]] = 0.8 * aS[t * 6 + 4] + 0.01 * rng.uniform();
    for (let u = 8; u < 11; u++) if (rng.uniform() < 0.1) aL[t * 11 + perm[u]] = 0.5 + 1.5 * rng.uniform();
  }
  const acc = new ActivationSimilarityAccumulator(6, 11, { within: false });
  for (let t0 = 0; t0 < T; t0 += 64) {
    const t1 = Math.min(T, t0 + 64);
    acc.update(
      { data: aS.subarray(t0 * 6, t1 * 6), rows: t1 - t0, cols: 6 },
      { data: aL.subarray(t0 * 11, t1 * 11), rows: t1 - t0, cols: 11 },
    );
  }
  return { small: toMat(parents), large: toMat(largeRows), acc, kids, actKid };
}

describe('crossSize(small, large, opts)', () => {
  const { small, large, acc, kids, actKid } = constructed();

  it('crossSize(small, large) recovers the constructed parent → children splits by cosine', () => {
    const r = crossSize(small, large, { tau: 0.7 });
    expect(r.children.map((c) => Array.from(c.idx).sort((a, b) => a - b))).toEqual(kids);
    expect(r.splits).toBe(3);
    expect(r.withChildren).toBe(4);
    expect(r.meanChildren).toBeCloseTo(7 / 6, 12);
    expect(r.orphans).toBe(4);
    for (const c of r.children.slice(0, 3)) for (const x of c.cos) expect(x).toBeCloseTo(1 / Math.sqrt(1.36), 5);
    expect(r.children[0].masked).toBeNull();
  });

  it('fracAbove (Sharkey, max cos > 0.9) = 1/6 and pwmcc equals pairwise.pwmcc', () => {
    const r = crossSize(small, large);
    expect(r.fracAbove).toBeCloseTo(1 / 6, 12);
    expect(r.maxCos[3]).toBeGreaterThan(0.99);
    expect(r.pwmcc).toBeCloseTo(pwmcc(small, large).value, 6);
  });

  it('with activations, the moved child of parent 4 joins through masked correlation ≥ τ', () => {
    const r = crossSize(small, large, { tau: 0.7, activations: acc });
    const want = kids.map((k, i) => (i === 4 ? [actKid] : k));
    expect(r.children.map((c) => Array.from(c.idx).sort((a, b) => a - b))).toEqual(want);
    expect(r.children[4].cos[0]).toBeCloseTo(1 / Math.sqrt(10), 5);
    expect(r.children[4].masked![0]).toBeGreaterThan(0.99);
    expect(r.orphans).toBe(3);
    expect(r.withChildren).toBe(5);
  });

  it('children are ordered by decreasing cosine', () => {
    const r = crossSize(small, large, { tau: 0.05 });
    for (const c of r.children)
      for (let t = 1; t < c.cos.length; t++) expect(c.cos[t]).toBeLessThanOrEqual(c.cos[t - 1]);
  });

  it('throws ConfigError for a bad tau and ShapeError for activations of the wrong widths', () => {
    expect(() => crossSize(small, large, { tau: 1.5 })).toThrow(ConfigError);
    expect(() => crossSize(small, large, { activations: new ActivationSimilarityAccumulator(3, 11) })).toThrow(
      ShapeError,
    );
    expect(() => crossSize(small, { data: new Float32Array(10), rows: 2, cols: 5 })).toThrow(ShapeError);
  });
});
