/**
 * A study's analyses (docs/SCIENCE.md §3–§4) from its store into one results.ts StudyResults: reads the
 * finished runs' SAE directories (so a merged or copied study analyses the same way as one just
 * trained), groups runs into cells (everything but the seeds), analyses each cell (cell.ts), adjusts
 * p-values across cells (Holm, per metric of the metric table, metric-table.ts), and adds the sweep curves, the
 * matched-L0 architecture
 * comparison and the methods text. Random nulls are computed once per shape (nulls.ts).
 */
import path from 'node:path';
import { HUSAI_VERSION } from '../../core/version.js';
import { type SaeWeights, loadSae } from '../../sae/checkpoint/index.js';
import { studyCards } from '../cards.js';
import type { FinalMetrics } from '../../sae/train.js';
import type { AnalysisData } from '../data.js';
import type { FourierContext } from '../../inspect/fourier-context.js';
import type { ResolvedRun } from '../expand.js';
import type { ParamValue } from '../params.js';
import type { CellResult, RunRecord, StabilityStat, StudyResults } from '../results.js';
import { provenanceGroups, runProvenance, sameNumerics } from '../provenance.js';
import { checkpointRel } from '../saedir.js';
import type { StudySpec } from '../spec.js';
import { RUNS_DIR, type RunRow, type StudyStore } from '../store.js';
import { getEngine } from '../../engine/index.js';
import { randomProbeFraction } from '../../inspect/fourier-context.js';
import { type CellInput, type CellRun, analyseCell } from './cell.js';
import { type MetricTable, STABILITY_METRICS, cellStat, checkMetricTable } from './metric-table.js';
import { methodsText } from './methods.js';
import { NullCache } from './nulls.js';
import { type SaeUnitAtoms, atomsFromWeights } from './pairs.js';
import { applyHolm, fin } from './stats.js';
import { archComparison, sweepCurves, varyingParams } from './sweeps.js';

interface AnalyseInput {
  store: StudyStore;
  spec: StudySpec;
  specText: string;
  data: AnalysisData;
  /** Every run of the spec (expandSpec order). */
  runs: readonly ResolvedRun[];
  engine: { name: string; blasCore: string; threads: number; node: string };
  /** Called after each cell (for progress). */
  onCell?: (done: number, total: number) => void;
  /** The stability metrics (default: metric-table.ts STABILITY_METRICS). */
  metrics?: MetricTable;
}

/** Loads the unit atoms of the SAE directory `dir`. */
export function loadAtoms(dir: string, name: string): SaeUnitAtoms {
  return atomsOf(loadSae(dir), name);
}

function atomsOf(w: SaeWeights, name: string): SaeUnitAtoms {
  return atomsFromWeights(w.tensors.W_dec.data, w.tensors.W_enc.data, w.dSae, w.dIn, name);
}

/** Zipped parameters (and width ↔ width_ratio) vary together: for each parameter, its partners. */
function coupledParams(spec: StudySpec): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const group of spec.zip) {
    const names = Object.keys(group).filter((n) => (group as Record<string, unknown>)[n] !== undefined);
    for (const n of names) out.set(n, new Set([...(out.get(n) ?? []), ...names.filter((m) => m !== n)]));
  }
  for (const [a, b] of [
    ['width', 'width_ratio'],
    ['width_ratio', 'width'],
  ]) {
    const s = out.get(b);
    if (s) out.set(a, new Set([...(out.get(a) ?? []), ...s]));
  }
  return out;
}

/** A label such as "topk m=128 k=3" plus the other parameters that vary across cells. */
function cellLabel(params: Record<string, ParamValue>, varying: readonly string[]): string {
  const parts = [String(params.arch), `m=${params.width}`];
  if (params.k !== undefined) parts.push(`k=${params.k}`);
  if (params.l1 !== undefined) parts.push(`l1=${params.l1}`);
  for (const n of varying) {
    if (['arch', 'width', 'width_ratio', 'k', 'l1'].includes(n) || params[n] === undefined) continue;
    parts.push(`${n}=${Array.isArray(params[n]) ? JSON.stringify(params[n]) : String(params[n])}`);
  }
  return parts.join(' ');
}

export function analyseStudy(input: AnalyseInput): StudyResults {
  const { store, spec, data, runs } = input;
  const metrics = input.metrics ?? STABILITY_METRICS;
  checkMetricTable(metrics);
  const rows = new Map<string, RunRow>(store.runs().map((r) => [r.id, r]));
  const varying = varyingParams(runs.map((r) => r.params as CellResult['params']));

  // Cells in expansion order; runs in a cell by (seed, data seed).
  const cellRuns = new Map<string, ResolvedRun[]>();
  for (const r of runs) cellRuns.set(r.cellId, [...(cellRuns.get(r.cellId) ?? []), r]);
  const nulls = new NullCache(spec.null_draws, spec.analysis_seed, spec.tau);
  const analyses = new Set(spec.analyses);
  // The Fourier chance value depends on the width only: once per width, not per cell.
  const chanceByWidth = new Map<number, number>();
  const chanceFor = (fctx: FourierContext, M: number): number => {
    if (!chanceByWidth.has(M)) chanceByWidth.set(M, randomProbeFraction(fctx, M, spec.analysis_seed, getEngine()));
    return chanceByWidth.get(M) as number;
  };
  const cells: CellResult[] = [];
  const gtByRun = new Map<string, NonNullable<RunRecord['gt']>>();
  let k = 0;
  for (const [cellId, members] of cellRuns) {
    const finished: CellRun[] = [];
    for (const r of [...members].sort(
      (a, b) => a.identity.seed - b.identity.seed || a.identity.dataSeed - b.identity.dataSeed,
    )) {
      const row = rows.get(r.id);
      if (!row || row.status !== 'done' || !row.final) continue;
      const weights = loadSae(path.join(store.dir, row.dir));
      finished.push({
        run: r,
        weights,
        final: JSON.parse(row.final) as FinalMetrics,
        atoms: atomsOf(weights, `run ${r.id} (seed ${r.identity.seed})`),
        firing: row.firing,
        evalRows: row.evalRows,
      });
    }
    k++;
    if (finished.length === 0) {
      input.onCell?.(k, cellRuns.size);
      continue;
    }
    const params = cellParams(members[0].params, varying);
    const cellInput: CellInput = { id: cellId, label: cellLabel(members[0].params, varying), params, runs: finished };
    const out = analyseCell(cellInput, {
      nulls,
      tau: spec.tau,
      seed: spec.analysis_seed,
      analyses,
      gt: data.gt,
      checkpointAtoms: (run, step) =>
        loadAtoms(path.join(store.dir, RUNS_DIR, run.id, checkpointRel(step)), `run ${run.id} step ${step}`),
      fourier: data.fourier
        ? { fctx: data.fourier, engine: getEngine(), chance: (M) => chanceFor(data.fourier!, M) }
        : null,
      metrics,
    });
    cells.push(out.cell);
    for (const [id, g] of out.gt) gtByRun.set(id, g);
    input.onCell?.(k, cellRuns.size);
  }
  for (const m of metrics) applyHolm(cells.map((c) => cellStat(c, m)).filter((s): s is StabilityStat => s !== null));

  const records: RunRecord[] = [];
  let trainSeconds = 0;
  for (const r of runs) {
    const row = rows.get(r.id);
    if (!row) continue;
    trainSeconds += row.seconds;
    const f = row.final ? (JSON.parse(row.final) as FinalMetrics) : null;
    records.push({
      id: r.id,
      cell: r.cellId,
      arch: r.identity.sae.arch,
      width: r.identity.sae.dSae,
      k: r.identity.sae.k,
      l1: r.identity.sae.sparsityCoeff,
      seed: r.identity.seed,
      dataSeed: r.identity.dataSeed,
      steps: r.identity.steps,
      batchSize: r.identity.batchSize,
      dir: row.dir,
      status: row.status,
      error: row.error,
      seconds: row.seconds,
      final: f
        ? {
            mse: fin(f.mse) ?? NaN,
            explained_variance: fin(f.explained_variance) ?? NaN,
            l0: f.l0,
            n_dead: f.n_dead,
            dead_fraction: f.dead_fraction,
          }
        : null,
      gt: gtByRun.get(r.id) ?? null,
      provenance: provenanceGroups([row])[0].label,
    });
  }
  const done = records.filter((r) => r.status === 'done').length;
  const failed = records.filter((r) => r.status === 'failed').length;
  const evalRows = Math.max(0, ...[...rows.values()].map((r) => r.evalRows ?? 0));
  const planned = new Set(runs.map((r) => r.id));
  const used = [...rows.values()].filter((r) => planned.has(r.id));
  const groups = provenanceGroups(used);
  return {
    format: 'husai-study-results/1',
    study: {
      name: spec.name,
      question: spec.question,
      created: store.getMeta('created_at') ?? new Date().toISOString(),
      husaiVersion: HUSAI_VERSION,
      engine: input.engine.name,
      blasCore: input.engine.blasCore,
      threads: input.engine.threads,
      specText: input.specText,
      trainSeconds: Number(store.getMeta('train_wall_seconds') ?? 0) || trainSeconds,
      analysisSeconds: 0,
      trainedBy: groups.map((g) => ({ label: g.label, runs: g.runs.length })),
      mixed: used.some((r) => !sameNumerics(runProvenance(r), runProvenance(used[0]))),
    },
    data: {
      name: data.name,
      kind: data.kind,
      rows: data.rows,
      d: data.d,
      groundTruth: data.gt !== null,
      config: data.config,
      summary: data.summary,
    },
    runs: records,
    cells,
    sweeps: analyses.has('sweeps') ? sweepCurves(cells, coupledParams(spec), metrics) : [],
    archComparison: analyses.has('arch_comparison') ? archComparison(cells) : [],
    methods: methodsText({
      spec,
      data,
      runs,
      done,
      failed,
      missing: runs.length - records.length,
      cells: cells.length,
      engine: { ...input.engine, husaiVersion: HUSAI_VERSION },
      evalRows,
      metrics,
    }).concat(groups.length > 1 ? [trainedByText(groups)] : []),
    cards: studyCards(store, data, runs, cells[0]?.id),
  };
}

/** "The runs were trained by …" for the methods, when several provenances trained them. */
function trainedByText(groups: ReadonlyArray<{ label: string; runs: string[] }>): string {
  return (
    `The runs were trained by ${groups.map((g) => `${g.label} (${g.runs.length} run(s))`).join(', ')}; see each ` +
    `run's provenance.`
  );
}

/** The cell's defining values: architecture, width, and every parameter that varies across cells. */
function cellParams(params: Record<string, ParamValue>, varying: readonly string[]): CellResult['params'] {
  const out: CellResult['params'] = { arch: params.arch as string, width: params.width as number };
  for (const n of varying) {
    if (n === 'seed' || n === 'data_seed') continue;
    const v = params[n];
    out[n] = v === undefined ? null : Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}
