/**
 * The report's figures as Vega-Lite specs, built from StudyResults only (docs/SCIENCE.md §3–§4: every
 * stability curve is drawn with its seed-bootstrap CI band and the random-dictionary null band).
 * One function per figure; each returns null when the study has nothing to show for it. The
 * heatmaps, the sweep panels and the checkpoint curve take their metrics from the metric table
 * (study/analysis/metric-table.ts).
 */
import {
  type MetricTable,
  STABILITY_METRICS,
  cellStat,
  metricField,
  primaryMetric,
  stepEstimate,
} from '../study/analysis/metric-table.js';
import type { Estimate, StudyResults } from '../study/results.js';

export interface Figure {
  /** File stem under figures/. */
  name: string;
  title: string;
  caption: string;
  spec: Record<string, unknown>;
}

type Row = Record<string, string | number | null>;

const NULL_BAND = 'chance (random dictionaries)';
const CONFIG = {
  font: 'DejaVu Sans',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, labelLimit: 280 },
};

function base(data: Row[], extra: Record<string, unknown>): Record<string, unknown> {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    config: CONFIG,
    data: { values: data },
    ...extra,
  };
}

/** One small panel per cell, in the study's cell order, up to four a row. */
function byCell(r: StudyResults, rows: Row[], panel: Record<string, unknown>): Record<string, unknown> {
  return base(rows, {
    facet: { field: 'cell', type: 'nominal', title: null, sort: r.cells.map((c) => c.label) },
    columns: Math.min(4, Math.max(1, r.cells.length)),
    spec: panel,
  });
}

/**
 * Seed × seed matrices of each headline metric of the metric table (the primary one as
 * seed-heatmaps, the others as seed-heatmaps-<key>), one panel per cell, values printed.
 */
function heatmaps(r: StudyResults, metrics: MetricTable = STABILITY_METRICS): Figure[] {
  const tau = r.cells[0]?.tau ?? 0.7;
  const out: Figure[] = [];
  for (const m of metrics.filter((x) => x.headline !== null)) {
    const rows: Row[] = [];
    for (const c of r.cells) {
      cellStat(c, m)?.matrix.forEach((line, i) =>
        line.forEach((v, j) => rows.push({ cell: c.label, a: `seed ${c.seeds[i]}`, b: `seed ${c.seeds[j]}`, v })),
      );
    }
    if (rows.length === 0) continue;
    out.push({
      name: m.headline === 'primary' ? 'seed-heatmaps' : `seed-heatmaps-${m.key}`,
      title: `Seed × seed ${m.label}`,
      caption:
        `${upperFirst(m.methods(tau))} between every pair of seeds of each cell (row seed → column seed); ` +
        `the diagonal is 1.`,
      spec: byCell(r, rows, {
        width: 150,
        height: 150,
        layer: [
          {
            mark: 'rect',
            encoding: {
              x: { field: 'a', type: 'ordinal', title: null },
              y: { field: 'b', type: 'ordinal', title: null },
              color: { field: 'v', type: 'quantitative', title: m.label, scale: { domain: [0, 1], scheme: 'viridis' } },
            },
          },
          {
            mark: { type: 'text', fontSize: 9 },
            encoding: {
              x: { field: 'a', type: 'ordinal' },
              y: { field: 'b', type: 'ordinal' },
              text: { field: 'v', type: 'quantitative', format: '.2f' },
              color: { condition: { test: 'datum.v > 0.6', value: 'black' }, value: 'white' },
            },
          },
        ],
      }),
    });
  }
  return out;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * Stability against each swept parameter, per architecture, with CI bands and the null band: one
 * panel per headline metric of the metric table, and gt_mcc when known.
 */
function sweeps(r: StudyResults, metrics: MetricTable = STABILITY_METRICS): Figure[] {
  const byId = new Map(r.cells.map((c) => [c.id, c]));
  const params = [...new Set(r.sweeps.map((s) => s.param))];
  const shown = metrics.filter((m) => m.headline !== null);
  return params.map((param) => {
    const rows: Row[] = [];
    for (const s of r.sweeps.filter((x) => x.param === param)) {
      for (const p of s.points) {
        const cell = byId.get(p.cell);
        const push = (
          metric: string,
          e: { mean: number | null; lo: number | null; hi: number | null } | null | undefined,
          nm: number | null,
          nsd: number | null,
        ) => {
          if (!e || e.mean === null) return;
          rows.push({
            x: p.x,
            arch: s.arch,
            metric,
            mean: e.mean,
            lo: e.lo ?? e.mean,
            hi: e.hi ?? e.mean,
            nullLo: nm === null ? null : nm - 2 * (nsd ?? 0),
            nullHi: nm === null ? null : nm + 2 * (nsd ?? 0),
            band: NULL_BAND,
          });
        };
        for (const m of shown) {
          const e = (p as unknown as Record<string, Estimate | undefined>)[metricField(m.key)];
          const nul = cell ? cellStat(cell, m)?.nullRandom : undefined;
          push(
            m.label,
            e,
            m.headline === 'primary' ? p.nullMean : (nul?.mean ?? null),
            m.headline === 'primary' ? p.nullSd : (nul?.sd ?? null),
          );
        }
        if (p.gtMcc)
          push('gt_mcc', p.gtMcc, cell?.groundTruth?.nullGtMcc.mean ?? null, cell?.groundTruth?.nullGtMcc.sd ?? null);
      }
    }
    const xs = [...new Set(rows.map((row) => row.x as number))].sort((a, b) => a - b);
    const x = {
      field: 'x',
      type: 'quantitative',
      title: param,
      scale: param === 'width' ? { type: 'log', base: 2 } : { zero: false },
      axis: { values: xs },
    };
    return {
      name: `stability-vs-${param}`,
      title: `Stability vs ${param}`,
      caption: `Mean over seed pairs with 95% seed-bootstrap band, per architecture; grey: ${NULL_BAND}, mean ± 2 sd.`,
      spec: base(rows, {
        facet: {
          column: { field: 'metric', type: 'nominal', title: null, sort: [...shown.map((m) => m.label), 'gt_mcc'] },
        },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 230,
          height: 190,
          layer: [
            {
              mark: { type: 'area', opacity: 0.25, color: '#888' },
              encoding: {
                x,
                y: { field: 'nullLo', type: 'quantitative', title: null },
                y2: { field: 'nullHi' },
                fill: { field: 'band', type: 'nominal', title: null, scale: { range: ['#999'] } },
                detail: { field: 'arch' },
              },
            },
            {
              mark: { type: 'area', opacity: 0.25 },
              encoding: {
                x,
                y: { field: 'lo', type: 'quantitative' },
                y2: { field: 'hi' },
                color: { field: 'arch', type: 'nominal' },
              },
            },
            {
              mark: { type: 'line', point: true },
              encoding: {
                x,
                y: { field: 'mean', type: 'quantitative', title: 'value' },
                color: { field: 'arch', type: 'nominal', title: 'architecture' },
              },
            },
          ],
        },
      }),
    };
  });
}

/** Stability (the primary metric) through training (checkpoints); step 0 shows whether the seeds start apart. */
function steps(r: StudyResults, metrics: MetricTable = STABILITY_METRICS): Figure | null {
  const m = primaryMetric(metrics);
  const rows: Row[] = [];
  for (const c of r.cells) {
    for (const s of c.steps) {
      const e = stepEstimate(s, m);
      if (e && e.mean !== null)
        rows.push({ cell: c.label, step: s.step, mean: e.mean, lo: e.lo ?? e.mean, hi: e.hi ?? e.mean });
    }
  }
  if (new Set(rows.map((x) => x.step)).size < 2) return null;
  const x = { field: 'step', type: 'quantitative', title: 'training step' };
  return {
    name: 'stability-vs-steps',
    title: 'Stability vs training steps',
    caption:
      `${m.label} between seeds at each checkpoint with its 95% seed-bootstrap band. Step 0 compares the ` +
      `initialisations (init hygiene): it should sit at chance.`,
    spec: base(rows, {
      width: 480,
      height: 260,
      layer: [
        {
          mark: { type: 'area', opacity: 0.15 },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative' },
            y2: { field: 'hi' },
            color: { field: 'cell', type: 'nominal' },
          },
        },
        {
          mark: { type: 'line', point: true },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: m.label },
            color: { field: 'cell', type: 'nominal', title: 'cell' },
          },
        },
      ],
    }),
  };
}

/** Matched-cosine distributions, trained pairs against the null, each normalised to fractions. */
function matchedCosines(r: StudyResults): Figure | null {
  const rows: Row[] = [];
  for (const c of r.cells) {
    const { edges, counts, nullCounts } = c.matchedCosines;
    const tot = counts.reduce((a, b) => a + b, 0) || 1;
    const totN = nullCounts.reduce((a, b) => a + b, 0) || 1;
    for (let i = 0; i < counts.length; i++) {
      const x = (edges[i] + edges[i + 1]) / 2;
      rows.push({ cell: c.label, x, frac: counts[i] / tot, kind: 'trained seed pairs' });
      rows.push({ cell: c.label, x, frac: nullCounts[i] / totN, kind: NULL_BAND });
    }
  }
  if (rows.length === 0) return null;
  return {
    name: 'matched-cosines',
    title: 'Matched cosines',
    caption:
      'Distribution of the cosines of matched atom pairs, pooled over seed pairs, against random dictionaries of the ' +
      'same shapes.',
    spec: byCell(r, rows, {
      width: 170,
      height: 110,
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'cosine' },
        y: { field: 'frac', type: 'quantitative', title: 'fraction' },
        color: {
          field: 'kind',
          type: 'nominal',
          title: null,
          scale: { domain: ['trained seed pairs', NULL_BAND], range: ['#1f77b4', '#999'] },
        },
      },
    }),
  };
}

/** "Present in m of S seeds" histograms of per-feature stability. */
function presence(r: StudyResults): Figure | null {
  const rows: Row[] = [];
  for (const c of r.cells) c.presentIn.forEach((f, m) => rows.push({ cell: c.label, m: m + 1, frac: f }));
  if (rows.length === 0) return null;
  return {
    name: 'present-in-seeds',
    title: 'Per-feature stability',
    caption:
      'Fraction of latents (all seeds pooled) whose matched partner reaches cos ≥ τ in m of the S seeds, itself ' +
      'included: m = 1 means unique to one seed.',
    spec: byCell(r, rows, {
      width: 150,
      height: 110,
      mark: 'bar',
      encoding: {
        x: { field: 'm', type: 'ordinal', title: 'present in m seeds' },
        y: { field: 'frac', type: 'quantitative', title: 'fraction of latents' },
      },
    }),
  };
}

/** 2-D PCA maps of decoder atoms for up to four cells, coloured by seed, consensus marked. */
function atomMaps(r: StudyResults): Figure | null {
  const cells = pickSpread(
    r.cells.filter((c) => c.atomMap !== null),
    4,
  );
  const rows: Row[] = [];
  for (const c of cells) {
    const m = c.atomMap!;
    for (let i = 0; i < m.x.length; i++)
      rows.push({
        cell: c.label,
        x: m.x[i],
        y: m.y[i],
        seed: `seed ${m.seed[i]}`,
        kind: m.cluster[i] >= 0 ? 'in a consensus feature' : 'seed-specific',
      });
  }
  if (rows.length === 0) return null;
  return {
    name: 'atom-maps',
    title: 'Decoder atoms, all seeds (PCA)',
    caption:
      'Unit decoder atoms of every seed projected on their top two principal components; filled circles belong to ' +
      'consensus features (mutually matched across seeds), crosses are seed-specific.',
    spec: base(rows, {
      facet: { field: 'cell', type: 'nominal', title: null },
      columns: Math.min(2, cells.length),
      spec: {
        width: 260,
        height: 220,
        mark: { type: 'point', size: 28, filled: true, opacity: 0.75 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'PC 1' },
          y: { field: 'y', type: 'quantitative', title: 'PC 2' },
          color: { field: 'seed', type: 'nominal', title: 'seed' },
          shape: { field: 'kind', type: 'nominal', title: null, scale: { range: ['circle', 'cross'] } },
        },
      },
    }),
  };
}

/** Reconstruction–sparsity frontier: mean L0 against explained variance per cell. */
function frontier(r: StudyResults): Figure | null {
  const rows: Row[] = r.cells
    .filter((c) => c.l0.mean !== null && c.explainedVariance.mean !== null)
    .map((c) => ({ cell: c.label, arch: c.arch, l0: c.l0.mean, ev: c.explainedVariance.mean, width: c.width }));
  if (rows.length === 0) return null;
  return {
    name: 'frontier',
    title: 'Reconstruction–sparsity frontier',
    caption:
      'Mean L0 against mean explained variance (EV = 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖², ' +
      'docs/SCIENCE.md §1) over seeds, one point per cell.',
    spec: base(rows, {
      width: 420,
      height: 260,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: { field: 'l0', type: 'quantitative', title: 'L0 (active latents per token)', scale: { zero: false } },
            y: { field: 'ev', type: 'quantitative', title: 'explained variance', scale: { zero: false } },
            color: { field: 'arch', type: 'nominal', title: 'architecture' },
            size: { field: 'width', type: 'quantitative', title: 'width' },
          },
        },
        {
          mark: { type: 'text', dx: 6, align: 'left', fontSize: 9 },
          encoding: {
            x: { field: 'l0', type: 'quantitative' },
            y: { field: 'ev', type: 'quantitative' },
            text: { field: 'cell' },
          },
        },
      ],
    }),
  };
}

/** Stability per firing-frequency bin (docs/SCIENCE.md §4, "Frequency"). */
function frequency(r: StudyResults): Figure | null {
  const rows: Row[] = [];
  for (const c of r.cells)
    for (const b of c.frequencyBins)
      if (b.stability !== null && b.latents > 0 && b.hi > 0)
        rows.push({
          cell: c.label,
          f: Math.sqrt(Math.max(b.lo, b.hi / 10) * b.hi),
          stability: b.stability,
          latents: b.latents,
        });
  if (rows.length === 0) return null;
  return {
    name: 'stability-vs-frequency',
    title: 'Stability by firing frequency',
    caption:
      'Fraction of latents whose matched partners in the other seeds reach cos ≥ τ, per firing-frequency bin ' +
      '(log-spaced).',
    spec: base(rows, {
      width: 480,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'f', type: 'quantitative', title: 'firing frequency', scale: { type: 'log' } },
        y: { field: 'stability', type: 'quantitative', title: 'stable fraction', scale: { domain: [0, 1] } },
        color: { field: 'cell', type: 'nominal', title: 'cell' },
      },
    }),
  };
}

/** Every figure of the report, in reading order. */
export function allFigures(r: StudyResults, metrics: MetricTable = STABILITY_METRICS): Figure[] {
  return [
    ...heatmaps(r, metrics),
    ...sweeps(r, metrics),
    steps(r, metrics),
    matchedCosines(r),
    presence(r),
    atomMaps(r),
    frontier(r),
    frequency(r),
  ].filter((f): f is Figure => f !== null);
}

/** Up to n items spread over the list (first, last and evenly between). */
function pickSpread<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]);
}
