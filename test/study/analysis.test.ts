/**
 * The study analyses on constructed cases with values known independently: identical (or permuted)
 * SAEs across seeds give PW-MCC 1 and excess = 1 − null; random nulls match docs/SCIENCE.md §4's
 * published chance levels; frequency bins, sweeps, the matched-L0 grouping and the PCA map on
 * hand-made inputs.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { seedStability } from '../../src/metrics/seeds.js';
import { holm } from '../../src/metrics/stats.js';
import { type CellRun, analyseCell } from '../../src/study/analysis/cell.js';
import { atomMap, frequencyBins, histogram } from '../../src/study/analysis/features.js';
import type { NullSummary } from '../../src/metrics/nulls.js';
import { type MetricNulls, NullCache } from '../../src/study/analysis/nulls.js';
import { atomsFromWeights, type SaeUnitAtoms } from '../../src/study/analysis/pairs.js';
import { applyHolm, pairEstimate, stabilityStat } from '../../src/study/analysis/stats.js';
import { archComparison, sweepCurves } from '../../src/study/analysis/sweeps.js';
import { type ExpandContext, expandSpec } from '../../src/study/expand.js';
import type { CellResult, Estimate } from '../../src/study/results.js';
import { ANALYSES, parseSpec } from '../../src/study/spec.js';

const M = 12;
const D = 8;
const ctx: ExpandContext = {
  data: { kind: 'synthetic', generator: 'exact-k', config: {} },
  d: D,
  rows: 1024,
  features: M,
};
const runs = (() => {
  const { spec, source } = parseSpec(
    `name: t\nquestion: q\ndata: { kind: synthetic, generator: exact-k, options: { n: 1024, seed: 0 } }\ndefaults: { arch: topk, width: ${M}, k: 2, steps: 20, batch_size: 64 }\ngrid: { seed: [0, 1, 2, 3] }\ncheckpoints: [0, 10]\n`,
  );
  return expandSpec(spec, source, ctx);
})();

/** Random SAE weights: W_dec [M, D], W_enc = W_decᵀ [D, M]. */
function randomSae(seed: number): { wDec: Float32Array; wEnc: Float32Array } {
  const wDec = new Float32Array(M * D);
  Rng.from(seed, 'test-sae').fillNormal(wDec);
  const wEnc = new Float32Array(D * M);
  for (let i = 0; i < M; i++) for (let j = 0; j < D; j++) wEnc[j * M + i] = wDec[i * D + j];
  return { wDec, wEnc };
}

function permuteRows(w: { wDec: Float32Array; wEnc: Float32Array }, perm: Uint32Array): SaeUnitAtoms {
  const wDec = new Float32Array(M * D);
  const wEnc = new Float32Array(D * M);
  for (let i = 0; i < M; i++) {
    const src = perm[i];
    for (let j = 0; j < D; j++) {
      wDec[i * D + j] = w.wDec[src * D + j];
      wEnc[j * M + i] = w.wEnc[j * M + src];
    }
  }
  return atomsFromWeights(wDec, wEnc, M, D, `permuted ${perm[0]}`);
}

function cellRuns(atoms: SaeUnitAtoms[]): CellRun[] {
  return atoms.map((a, s) => ({
    run: runs[s],
    atoms: a,
    firing: Float32Array.from({ length: M }, (_, i) => (i === 0 ? 0 : 10 ** -(i % 4))),
    evalRows: 1000,
    final: {
      mse: 0.1,
      explained_variance: 0.9,
      l0: 2 + s * 0.01,
      n_dead: 0,
      dead_fraction: 0,
      dense_fraction: 0,
      steps: 20,
      tokens: 1280,
    },
  }));
}

const nulls = new NullCache(10, 0, 0.7);

describe('analyseCell(cell, ctx) on identical SAEs across seeds', () => {
  const w = randomSae(1);
  const same = [0, 1, 2, 3].map((s) => permuteRows(w, Rng.from(s, 'perm').permutation(M)));
  const gtMat = same[0].dec;
  const { cell, gt } = analyseCell(
    { id: 'c', label: 'topk m=12 k=2', params: { arch: 'topk', width: M }, runs: cellRuns(same) },
    {
      nulls,
      tau: 0.7,
      seed: 0,
      analyses: new Set(ANALYSES),
      gt: gtMat,
      checkpointAtoms: (run) => same[runs.indexOf(run)],
    },
  );

  it('PW-MCC = 1 for every pair (atoms permuted between seeds), excess = 1 − null, ratio = 1 / null', () => {
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) expect(cell.pwmcc.matrix[a][b]).toBeCloseTo(1, 6);
    expect(cell.pwmcc.estimate.mean).toBeCloseTo(1, 6);
    expect(cell.pwmcc.estimate.n).toBe(6);
    const nul = cell.pwmcc.nullRandom.mean as number;
    expect(nul).toBeGreaterThan(0.3);
    expect(cell.pwmcc.excess).toBeCloseTo(1 - nul, 6);
    expect(cell.pwmcc.ratio).toBeCloseTo(1 / nul, 5);
    expect(cell.pwmcc.p).toBeLessThan(0.01);
    expect(cell.pwmcc.cohensD).toBeGreaterThan(3);
  });

  it('shared fraction 1 (encoder = decoderᵀ, so both assignments agree) and MMCS 1 both ways', () => {
    expect(cell.sharedFraction.estimate.mean).toBeCloseTo(1, 6);
    expect(cell.mmcs.estimate.mean).toBeCloseTo(1, 6);
    expect(cell.mmcs.estimate.n).toBe(12);
    expect(cell.sharedFraction.nullRandom.mean).toBeLessThan(0.05);
  });

  it('every latent present in all seeds; one consensus feature per latent; nothing unique', () => {
    expect(cell.presentIn).toEqual([0, 0, 0, 1]);
    expect(cell.meanFeatureStability).toBe(1);
    expect(cell.consensus.count).toBe(M);
    expect(cell.consensus.clusterSizes).toEqual([0, 0, 0, 0, M]);
    expect(cell.uniqueCurve).toEqual({ seeds: [2, 3, 4], fractionUnique: [0, 0, 0] });
  });

  it('matched cosines all in the top bin; the null spread below', () => {
    const n = cell.matchedCosines.counts;
    expect(n[n.length - 1]).toBe(6 * M);
    expect(n.reduce((a, b) => a + b, 0)).toBe(6 * M);
    expect(cell.matchedCosines.nullCounts.reduce((a, b) => a + b, 0)).toBe(10 * M);
    expect(cell.matchedCosines.nullCounts[cell.matchedCosines.nullCounts.length - 1]).toBeLessThan(10 * M);
  });

  it('ground truth equal to the atoms: gt_mcc 1, all recovered', () => {
    expect(cell.groundTruth?.gtMcc.mean).toBeCloseTo(1, 6);
    expect(cell.groundTruth?.gtRecovered09.mean).toBe(1);
    expect([...gt.values()].every((g) => Math.abs(g.gt_mcc - 1) < 1e-6)).toBe(true);
    expect(cell.groundTruth?.nullGtMcc.draws).toBe(10);
  });

  it('stability against steps: checkpoints 0, 10 and the end (20), step 0 first', () => {
    expect(cell.steps.map((s) => s.step)).toEqual([0, 10, 20]);
    for (const s of cell.steps) expect(s.pwmcc.mean).toBeCloseTo(1, 6);
  });

  it('frequency bins: the never-firing latent in [0, 0], the rest by half-decade', () => {
    const bins = cell.frequencyBins;
    expect(bins[0]).toEqual({ lo: 0, hi: 0, latents: 4, stability: 1 });
    expect(bins.reduce((s, b) => s + b.latents, 0)).toBe(4 * M);
    expect(bins[bins.length - 1].hi).toBe(1);
  });

  it('atom map: one point per atom of every seed, cluster ids from the consensus', () => {
    expect(cell.atomMap?.x).toHaveLength(4 * M);
    expect(new Set(cell.atomMap?.seed)).toEqual(new Set([0, 1, 2, 3]));
    expect(cell.atomMap?.cluster.every((c) => c >= 0 && c < M)).toBe(true);
  });
});

describe('analyseCell(cell, ctx) on independent random SAEs', () => {
  it('sits at the random null: excess ≈ 0, no consensus', () => {
    const sets = [10, 11, 12, 13].map((s) => {
      const w = randomSae(s);
      return atomsFromWeights(w.wDec, w.wEnc, M, D, `random ${s}`);
    });
    const { cell } = analyseCell(
      { id: 'r', label: 'r', params: {}, runs: cellRuns(sets) },
      {
        nulls,
        tau: 0.7,
        seed: 0,
        analyses: new Set(['stability', 'features']),
        gt: null,
        checkpointAtoms: () => sets[0],
      },
    );
    expect(Math.abs(cell.pwmcc.excess as number)).toBeLessThan(0.08);
    expect(cell.pwmcc.p).toBeGreaterThan(0.01);
    expect(cell.groundTruth).toBeNull();
    expect(cell.steps).toEqual([]);
    expect(cell.pwmcc.nullUntrained).toBeNull();
  });
});

describe('NullCache', () => {
  const pw = (n: MetricNulls): NullSummary => n.byKey.get('pwmcc') as NullSummary;

  it('randomNulls(M, D).byKey pwmcc matches docs/SCIENCE.md §4: ≈ 0.46 at d = 16, n = 32; ≈ 0.33 at d = 64, n = 256', () => {
    expect(pw(nulls.randomNulls(32, 16)).mean).toBeCloseTo(0.46, 1);
    expect(Math.abs(pw(nulls.randomNulls(256, 64)).mean - 0.33)).toBeLessThan(0.02);
  });

  it('untrainedNulls(cfg) of a TopK config sits near the random null (independent Gaussian init)', () => {
    const u = nulls.untrainedNulls(runs[0].identity.sae);
    expect(pw(u).n).toBe(10);
    expect(Math.abs(pw(u).mean - pw(nulls.randomNulls(M, D)).mean)).toBeLessThan(0.05);
  });

  it('returns the same object for the same shape (computed once)', () => {
    expect(nulls.randomNulls(32, 16)).toBe(nulls.randomNulls(32, 16));
  });
});

describe('stats', () => {
  it('pairEstimate(m) is the mean of the upper triangle, with n pairs', () => {
    const m = [
      [null, 0.5, 0.7],
      [0.5, null, 0.9],
      [0.7, 0.9, null],
    ];
    const e = pairEstimate(m, 0);
    expect(e.mean).toBeCloseTo(0.7, 12);
    expect(e.n).toBe(3);
    expect(e.lo as number).toBeLessThanOrEqual(0.7);
    expect(e.hi as number).toBeGreaterThanOrEqual(0.7);
  });

  it('applyHolm(stats) equals metrics/stats holm() on the p-values', () => {
    const nul = { mean: 0.3, sd: 0.01, n: 10, values: Float64Array.from({ length: 10 }, (_, i) => 0.29 + 0.002 * i) };
    const stats = [
      [0.31, 0.32, 0.33],
      [0.5, 0.6, 0.55],
      [0.29, 0.3, 0.28],
    ].map(([a, b, c]) =>
      stabilityStat(
        [
          [null, a, b],
          [a, null, c],
          [b, c, null],
        ],
        nul,
        null,
        0,
      ),
    );
    applyHolm(stats);
    const want = holm(stats.map((s) => s.p as number));
    stats.forEach((s, i) => expect(s.pHolm).toBeCloseTo(want[i], 12));
  });
});

describe('features', () => {
  it('histogram(values) counts into equal bins of [−1, 1], clamping the ends', () => {
    const h = histogram([-1, -0.99, 0, 0.5, 1], 4);
    expect(h.edges).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(h.counts).toEqual([2, 0, 1, 2]);
  });

  it('frequencyBins(stab, firing, N) averages per-feature stability per bin', () => {
    // a = e1..e4, b = e1, e2, e3, e5 (d = 5): latent 3 has no partner at τ in the other seed.
    const unit = (rows: number[]): Float32Array =>
      Float32Array.from(rows.flatMap((r) => Array.from({ length: 5 }, (_, j) => (j === r ? 1 : 0))));
    const a = { data: unit([0, 1, 2, 3]), rows: 4, cols: 5 };
    const b = { data: unit([0, 1, 2, 4]), rows: 4, cols: 5 };
    const stab = seedStability([a, b], { tau: 0.9 });
    const bins = frequencyBins(
      stab,
      [Float32Array.from([0, 0.002, 0.5, 0.5]), Float32Array.from([0, 0.002, 0.5, 0.5])],
      1000,
    );
    expect(bins[0]).toMatchObject({ lo: 0, hi: 0, latents: 2 });
    const top = bins.find((x) => x.lo <= 0.5 && x.hi > 0.5);
    expect(top).toMatchObject({ latents: 4, stability: 0.5 });
  });

  it('atomMap(atoms) of atoms in a plane keeps their distances from the mean', () => {
    const pts = Array.from({ length: 30 }, (_, i) => [Math.cos(i), Math.sin(i)]);
    const data = new Float32Array(30 * 5);
    pts.forEach(([x, y], i) => {
      data[i * 5 + 1] = x;
      data[i * 5 + 3] = y;
    });
    const atoms = atomsFromWeights(data, new Float32Array(5 * 30), 30, 5, 'plane').dec;
    const map = atomMap([atoms], [7], null, 0, 'k');
    expect(map?.seed.every((s) => s === 7)).toBe(true);
    const mx = pts.reduce((s, p) => s + p[0], 0) / 30;
    const my = pts.reduce((s, p) => s + p[1], 0) / 30;
    pts.forEach(([x, y], i) => expect(Math.hypot(map!.x[i], map!.y[i])).toBeCloseTo(Math.hypot(x - mx, y - my), 4));
  });
});

describe('atomMap(atoms, …) above 4000 points', () => {
  it('keeps a seeded subsample of exactly 4000 points, the same on every call', () => {
    const atoms = [0, 1, 2, 3, 4].map((s) => {
      const w = new Float32Array(1000 * 4);
      Rng.from(s, 'map').fillNormal(w);
      return atomsFromWeights(w, new Float32Array(4 * 1000), 1000, 4, `s${s}`).dec;
    });
    const a = atomMap(atoms, [0, 1, 2, 3, 4], null, 0, 'cell');
    const b = atomMap(atoms, [0, 1, 2, 3, 4], null, 0, 'cell');
    expect(a?.x).toHaveLength(4000);
    expect(a).toEqual(b);
    expect(new Set(a?.seed).size).toBe(5);
    expect(atomMap(atoms, [0, 1, 2, 3, 4], null, 1, 'cell')?.x).not.toEqual(a?.x);
  });
});

describe('sweepCurves(cells) and archComparison(cells)', () => {
  const est = (mean: number): Estimate => ({ mean, lo: mean, hi: mean, n: 10 });
  const cell = (
    id: string,
    arch: string,
    width: number,
    l0: number,
    extra: Record<string, number> = {},
  ): CellResult => ({
    id,
    label: id,
    params: { arch, width, ...extra },
    arch,
    width,
    k: null,
    l1: null,
    seeds: [0, 1, 2],
    runIds: [],
    pwmcc: {
      matrix: [],
      estimate: est(width / 1000),
      nullRandom: { kind: 'random', mean: 0.3, sd: 0.01, draws: 10 },
      nullUntrained: null,
      excess: null,
      ratio: null,
      p: null,
      pHolm: null,
      cohensD: null,
    },
    sharedFraction: {
      matrix: [],
      estimate: est(0.5),
      nullRandom: { kind: 'random', mean: 0, sd: 0, draws: 10 },
      nullUntrained: null,
      excess: null,
      ratio: null,
      p: null,
      pHolm: null,
      cohensD: null,
    },
    mmcs: {
      matrix: [],
      estimate: est(0.5),
      nullRandom: { kind: 'random', mean: 0, sd: 0, draws: 10 },
      nullUntrained: null,
      excess: null,
      ratio: null,
      p: null,
      pHolm: null,
      cohensD: null,
    },
    tau: 0.7,
    l0: est(l0),
    explainedVariance: est(0.9),
    deadFraction: est(0),
    groundTruth: null,
    presentIn: [],
    uniqueCurve: { seeds: [], fractionUnique: [] },
    meanFeatureStability: null,
    matchedCosines: { edges: [], counts: [], nullCounts: [] },
    frequencyBins: [],
    consensus: { count: 0, clusterSizes: [] },
    atomMap: null,
    steps: [],
  });

  it('one width curve per architecture, points sorted by width', () => {
    const cells = [
      cell('a', 'topk', 64, 3),
      cell('b', 'topk', 32, 3),
      cell('c', 'relu', 32, 3),
      cell('d', 'relu', 64, 5),
    ];
    const curves = sweepCurves(cells, new Map());
    expect(curves.map((c) => `${c.param}:${c.arch}:${c.points.map((p) => p.x).join(',')}`).sort()).toEqual([
      'width:relu:32,64',
      'width:topk:32,64',
    ]);
  });

  it('a zip of width and k gives one curve over width (k is not held fixed)', () => {
    const cells = [cell('a', 'topk', 32, 2, { k: 2 }), cell('b', 'topk', 64, 4, { k: 4 })];
    expect(sweepCurves(cells, new Map()).filter((c) => c.param === 'width')).toHaveLength(0);
    const coupled = new Map([
      ['width', new Set(['k'])],
      ['k', new Set(['width'])],
    ]);
    expect(
      sweepCurves(cells, coupled)
        .map((c) => c.param)
        .sort(),
    ).toEqual(['k', 'width']);
  });

  it('groups architectures whose mean L0 agree within 25%', () => {
    const cells = [
      cell('t', 'topk', 64, 4),
      cell('r', 'relu', 64, 4.8),
      cell('g', 'gated', 64, 9),
      cell('j', 'jumprelu', 64, 10),
    ];
    const groups = archComparison(cells);
    expect(groups.map((g) => g.cells.sort())).toEqual([
      ['r', 't'],
      ['g', 'j'],
    ]);
    expect(groups[0].l0).toBeCloseTo(4.4, 12);
  });
});
