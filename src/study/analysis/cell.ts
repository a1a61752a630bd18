/**
 * The analyses of one cell — one configuration trained with S seeds (docs/SCIENCE.md §3–§4) — into a
 * results.ts CellResult: every stability metric of the metric table (metric-table.ts; by default
 * PW-MCC, shared fraction and MMCS) over all seed pairs against its random and untrained nulls,
 * each under its results field; final-metric estimates; ground-truth recovery with its null; per-feature
 * stability, presence histogram, uniqueness curve and consensus (metrics/seeds.ts, fed the decoder
 * matches already computed, so each pair is matched once); stability by firing frequency; the
 * matched-cosine histogram; the PCA atom map; and stability against training steps from the
 * checkpoints, step 0 (the initialisation) first. Which of these run is the spec's `analyses`.
 */
import { HusaiError } from '../../core/errors.js';
import type { Mat } from '../../core/mat.js';
import type { UnitAtoms } from '../../metrics/cosine.js';
import { gtMetrics } from '../../metrics/pairwise.js';
import { type SeedStability, seedStability } from '../../metrics/seeds.js';
import type { FinalMetrics } from '../../sae/train.js';
import type { ResolvedRun } from '../expand.js';
import type { NullSummary } from '../../metrics/nulls.js';
import type { CellResult, Estimate, RunRecord, StabilityStat, StepPoint } from '../results.js';
import type { AnalysisName } from '../spec.js';
import type { Engine } from '../../engine/types.js';
import type { SaeWeights } from '../../sae/checkpoint/index.js';
import type { FourierContext } from '../../inspect/fourier-context.js';
import { atomMap, frequencyBins, matchedCosines } from './features.js';
import { fourierCell } from './fourier.js';
import type { NullCache } from './nulls.js';
import { type MetricTable, STABILITY_METRICS, metricField } from './metric-table.js';
import { type PairMatrix, type SaeUnitAtoms, allPairs } from './pairs.js';
import { fin, nullBand, pairEstimate, seedEstimate, stabilityStat } from './stats.js';

export interface CellRun {
  run: ResolvedRun;
  final: FinalMetrics;
  atoms: SaeUnitAtoms;
  /** The SAE as loaded (the Fourier analysis encodes with it); absent when only atoms are known. */
  weights?: SaeWeights;
  firing: Float32Array | null;
  evalRows: number | null;
}

export interface CellInput {
  id: string;
  label: string;
  params: CellResult['params'];
  /** Finished runs of the cell, ordered by (seed, data seed). */
  runs: CellRun[];
}

interface CellContext {
  nulls: NullCache;
  tau: number;
  seed: number;
  analyses: ReadonlySet<AnalysisName>;
  /** Ground-truth directions [F, D], or null. */
  gt: Mat | null;
  /** Atoms of a run's checkpoint at `step` (step < steps). */
  checkpointAtoms: (run: ResolvedRun, step: number) => SaeUnitAtoms;
  /** Modular-arithmetic data: the grid context, each run's weights, and the chance fraction for M latents. */
  fourier?: { fctx: FourierContext; chance: (M: number) => number; engine: Engine } | null;
  /** The stability metrics to compute (default: metric-table.ts STABILITY_METRICS). */
  metrics?: MetricTable;
}

interface CellOutput {
  cell: CellResult;
  /** Ground-truth metrics per run id. */
  gt: Map<string, NonNullable<RunRecord['gt']>>;
}

export function analyseCell(input: CellInput, ctx: CellContext): CellOutput {
  const { runs } = input;
  const first = runs[0].run.identity;
  const M = first.sae.dSae;
  const D = first.sae.dIn;
  const S = runs.length;
  const on = (a: AnalysisName): boolean => ctx.analyses.has(a);
  const sets = runs.map((r) => r.atoms);
  const metrics = ctx.metrics ?? STABILITY_METRICS;
  const pairs = allPairs(sets, ctx.tau, metrics);
  const random = ctx.nulls.randomNulls(M, D, metrics);
  const untrained = on('untrained_null') ? ctx.nulls.untrainedNulls(first.sae, metrics) : null;
  const stability: Record<string, StabilityStat> = {};
  for (const m of metrics) {
    stability[metricField(m.key)] = stabilityStat(
      pairs.values.get(m.key) as PairMatrix,
      random.byKey.get(m.key) as NullSummary,
      untrained?.byKey.get(m.key) ?? null,
      ctx.seed,
      !pairs.directed.has(m.key),
    );
  }

  let stab: SeedStability | null = null;
  if (S >= 2 && (on('features') || on('frequency') || on('atom_map'))) {
    const index = new Map<UnitAtoms, number>(sets.map((s, i) => [s.dec, i]));
    stab = seedStability(
      sets.map((s) => s.dec),
      {
        tau: ctx.tau,
        seed: ctx.seed,
        match: (a, b) =>
          pairs.match[index.get(a) as number][index.get(b) as number] as NonNullable<(typeof pairs.match)[0][0]>,
      },
    );
  }

  const gtOut = new Map<string, NonNullable<RunRecord['gt']>>();
  let groundTruth: CellResult['groundTruth'] = null;
  if (ctx.gt && on('ground_truth')) {
    const per = runs.map((r) => {
      const g = gtMetrics(ctx.gt as Mat, r.atoms.dec, {
        taus: [0.9, 0.7],
        nameG: 'ground truth',
        nameA: r.atoms.dec.name,
      });
      const v = {
        gt_mcc: g.gt_mcc,
        gt_mmcs: g.gt_mmcs,
        gt_recovered_09: g.gt_recovered[0].fraction,
        gt_recovered_07: g.gt_recovered[1].fraction,
      };
      gtOut.set(r.run.id, v);
      return v;
    });
    groundTruth = {
      gtMcc: seedEstimate(
        per.map((v) => v.gt_mcc),
        ctx.seed,
      ),
      gtRecovered09: seedEstimate(
        per.map((v) => v.gt_recovered_09),
        ctx.seed,
      ),
      nullGtMcc: nullBand('random', ctx.nulls.groundTruthNull(ctx.gt.rows, M, D)),
    };
  }

  const presentIn =
    stab && on('features')
      ? Array.from(
          stab.histogram.subarray(1),
          (c) =>
            c /
            Math.max(
              1,
              stab!.histogram.reduce((x, y) => x + y, 0),
            ),
        )
      : [];
  const cell = {
    id: input.id,
    label: input.label,
    params: input.params,
    arch: first.sae.arch,
    width: M,
    k: first.sae.k,
    l1: first.sae.sparsityCoeff,
    seeds: runs.map((r) => r.run.identity.seed),
    runIds: runs.map((r) => r.run.id),
    ...stability,
    tau: ctx.tau,
    l0: seedEstimate(
      runs.map((r) => r.final.l0),
      ctx.seed,
    ),
    explainedVariance: seedEstimate(
      runs.map((r) => r.final.explained_variance),
      ctx.seed,
    ),
    deadFraction: seedEstimate(
      runs.map((r) => r.final.dead_fraction),
      ctx.seed,
    ),
    groundTruth,
    presentIn,
    uniqueCurve:
      stab && on('features')
        ? { seeds: stab.uniqueCurve.seeds, fractionUnique: stab.uniqueCurve.fractionUnique.map((x) => fin(x) ?? 0) }
        : { seeds: [], fractionUnique: [] },
    meanFeatureStability: stab && on('features') ? fin(stab.meanStability) : null,
    matchedCosines: on('cosine_histogram')
      ? matchedCosines(pairs.matchedCos, random.matchedCos)
      : { edges: [], counts: [], nullCounts: [] },
    frequencyBins:
      stab && on('frequency')
        ? frequencyBins(
            stab,
            runs.map((r) => r.firing),
            Math.max(...runs.map((r) => r.evalRows ?? 1)),
          )
        : [],
    consensus:
      stab && on('features')
        ? { count: stab.consensus.length, clusterSizes: Array.from(stab.clusterSizes) }
        : { count: 0, clusterSizes: [] },
    atomMap: on('atom_map')
      ? atomMap(
          sets.map((s) => s.dec),
          runs.map((r) => r.run.identity.seed),
          stab,
          ctx.seed,
          input.id,
        )
      : null,
    steps:
      on('steps') && S >= 2
        ? stepCurve(
            runs,
            ctx,
            metrics.filter((m) => m.steps),
          )
        : [],
    fourier:
      ctx.fourier && on('fourier')
        ? fourierCell(
            runs.map((r) => requireWeights(r)),
            pairs.match,
            ctx.fourier.fctx,
            ctx.fourier.chance(M),
            ctx.seed,
            ctx.fourier.engine,
          )
        : null,
  } as CellResult;
  return { cell, gt: gtOut };
}

function requireWeights(r: CellRun): SaeWeights {
  if (!r.weights)
    throw new HusaiError(`run ${r.run.id}: the Fourier analysis needs the SAE's weights, not only its atoms`);
  return r.weights;
}

/** Stability at each checkpoint step and at the end (docs/SCIENCE.md §4 "Init hygiene"). */
function stepCurve(runs: CellRun[], ctx: CellContext, metrics: MetricTable): StepPoint[] {
  const id = runs[0].run.identity;
  const steps = [...id.checkpoints, id.steps];
  return steps.map((step) => {
    const sets = step === id.steps ? runs.map((r) => r.atoms) : runs.map((r) => ctx.checkpointAtoms(r.run, step));
    const p = allPairs(sets, ctx.tau, metrics);
    const point: Record<string, number | Estimate> = { step };
    for (const m of metrics)
      point[metricField(m.key)] = pairEstimate(p.values.get(m.key) as PairMatrix, ctx.seed, !p.directed.has(m.key));
    return point as unknown as StepPoint;
  });
}
