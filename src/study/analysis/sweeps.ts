/**
 * Across cells (docs/SCIENCE.md §6: stability against width, k, L1 coefficient, training length, and
 * architectures at matched L0):
 * - sweep curves: for each swept numeric parameter p (width, k, l1, steps, lr, …) and each
 *   architecture, the cells that agree on every other varying parameter form one curve of each
 *   headline metric of the metric table (metric-table.ts: PW-MCC with its random null, shared
 *   fraction) and gt_mcc against p. Parameters zipped with p vary
 *   with it and so are not held fixed (a zip of width and k gives one curve over width);
 * - architecture comparison: cells that agree on everything but the architecture and its own
 *   sparsity settings (k, l1, …) are grouped when their mean L0 agree within 25% (greedy, by
 *   increasing L0); groups holding at least two architectures are reported.
 */
import { stableJson } from '../../sae/checkpoint/saelens.js';
import { PARAMS, type ParamDef } from '../params.js';
import type { CellResult, StudyResults, SweepCurve } from '../results.js';
import { type MetricTable, STABILITY_METRICS, cellStat, metricField } from './metric-table.js';
import { EMPTY_ESTIMATE } from './stats.js';

type SweepPoint = SweepCurve['points'][number];

type Params = CellResult['params'];

/** Parameters whose values differ across cells (seeds excluded). */
export function varyingParams(all: readonly Params[]): string[] {
  const names = new Set<string>();
  for (const p of all) for (const k of Object.keys(p)) names.add(k);
  return [...names].filter(
    (n) => n !== 'seed' && n !== 'data_seed' && new Set(all.map((p) => JSON.stringify(p[n] ?? null))).size > 1,
  );
}

export function sweepCurves(
  cells: readonly CellResult[],
  coupled: ReadonlyMap<string, ReadonlySet<string>>,
  metrics: MetricTable = STABILITY_METRICS,
): SweepCurve[] {
  const varying = varyingParams(cells.map((c) => c.params));
  const swept = varying.filter(
    (n) =>
      n !== 'arch' &&
      n !== 'width_ratio' &&
      cells.every((c) => c.params[n] === undefined || typeof c.params[n] === 'number' || c.params[n] === null),
  );
  const curves: SweepCurve[] = [];
  for (const p of swept) {
    const tied = new Set([p, ...(coupled.get(p) ?? []), ...(p === 'width' ? ['width_ratio'] : [])]);
    const groups = new Map<string, CellResult[]>();
    for (const c of cells) {
      if (typeof c.params[p] !== 'number') continue;
      const fixed = Object.fromEntries(varying.filter((n) => !tied.has(n)).map((n) => [n, c.params[n] ?? null]));
      const key = stableJson(fixed);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    for (const group of groups.values()) {
      const xs = new Set(group.map((c) => c.params[p]));
      if (xs.size < 2) continue;
      const sorted = [...group].sort((a, b) => (a.params[p] as number) - (b.params[p] as number));
      const fixed = Object.fromEntries(
        varying.filter((n) => !tied.has(n) && n !== 'arch').map((n) => [n, sorted[0].params[n] ?? null]),
      );
      curves.push({
        param: p,
        arch: sorted[0].arch,
        fixed,
        points: sorted.map((c) => sweepPoint(c, c.params[p] as number, metrics)),
      });
    }
  }
  return curves;
}

/**
 * One point of a curve: the estimate of every headline metric of the table under its results
 * field, the primary metric's random null (nullMean, nullSd) right after it, then gt_mcc.
 */
function sweepPoint(c: CellResult, x: number, metrics: MetricTable): SweepPoint {
  const out: Record<string, unknown> = { x, cell: c.id };
  for (const m of metrics.filter((row) => row.headline !== null)) {
    const s = cellStat(c, m);
    out[metricField(m.key)] = s?.estimate ?? EMPTY_ESTIMATE;
    if (m.headline === 'primary') {
      out.nullMean = s?.nullRandom.mean ?? null;
      out.nullSd = s?.nullRandom.sd ?? null;
    }
  }
  out.gtMcc = c.groundTruth?.gtMcc ?? null;
  return out as unknown as SweepPoint;
}

/** Parameters that belong to one architecture's sparsity mechanism (ignored when matching architectures). */
function archSpecific(name: string): boolean {
  if (name === 'arch') return true;
  const def = (PARAMS as Record<string, ParamDef>)[name];
  return def?.archs !== undefined;
}

export function archComparison(cells: readonly CellResult[]): StudyResults['archComparison'] {
  if (new Set(cells.map((c) => c.arch)).size < 2) return [];
  const varying = varyingParams(cells.map((c) => c.params));
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    if (c.l0.mean === null) continue;
    const key = stableJson(
      Object.fromEntries(varying.filter((n) => !archSpecific(n)).map((n) => [n, c.params[n] ?? null])),
    );
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const out: StudyResults['archComparison'] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => (a.l0.mean as number) - (b.l0.mean as number));
    let i = 0;
    while (i < sorted.length) {
      const lo = sorted[i].l0.mean as number;
      let j = i + 1;
      while (j < sorted.length && (sorted[j].l0.mean as number) <= 1.25 * lo) j++;
      const members = sorted.slice(i, j);
      if (new Set(members.map((c) => c.arch)).size >= 2) {
        out.push({
          l0: members.reduce((s, c) => s + (c.l0.mean as number), 0) / members.length,
          cells: members.map((c) => c.id),
        });
        i = j;
      } else {
        i++;
      }
    }
  }
  return out;
}
