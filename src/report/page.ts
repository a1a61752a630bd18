/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no script, no external URL)
 * with the study's question, setup, the headline table (every stability number beside its null,
 * CI and Holm-adjusted p, with a verdict; its columns come from the metric table,
 * study/analysis/metric-table.ts), one section per stability metric, the figures, the per-run table,
 * the methods and the provenance, in the shared page shell (shell.ts). All user-provided text is
 * escaped.
 */
import type { CellResult, StudyResults } from '../study/results.js';
import type { Figure } from './charts.js';
import { cardsSection } from './cards.js';
import { type MetricTable, STABILITY_METRICS, cellStat, primaryMetric } from '../study/analysis/metric-table.js';
import { esc, est, num, pval, verdict } from './format.js';
import { htmlPage } from './shell.js';

export interface RenderedFigure extends Figure {
  svg: string;
}

const CSS =
  `
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.question{font-size:1.15rem;color:#333;margin:.6rem 0 1.2rem}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0}` +
  `th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.above{color:#0a6b2b;font-weight:bold}.chance{color:#a33}.na{color:#777}
figure{margin:1.4rem 0}figcaption{font-size:.85rem;color:#555;max-width:900px}
.fig svg{max-width:100%;height:auto}
div.wide{overflow-x:auto}
pre{background:#f7f7f7;padding:.8rem;overflow-x:auto;font-size:.8rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;font-size:.9rem}dt{color:#555}
`;

/** A table's header cells; those for which LEFT holds get class="l". */
function headCells(head: string[], left: (h: string, i: number) => boolean = () => false): string {
  return head.map((h, i) => `<th${left(h, i) ? ' class="l"' : ''}>${esc(h)}</th>`).join('');
}

/** A wide (horizontally scrolling) table from its header cells and body rows. */
function wideTable(headHtml: string, rows: string[]): string {
  return `<div class="wide"><table><thead><tr>${headHtml}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

/**
 * The headline table: the primary metric of the metric table with its nulls, excess, ratio, Holm p
 * and verdict; each secondary metric as value [CI] beside its random null; gt_mcc when known.
 */
function headline(r: StudyResults, metrics: MetricTable): string {
  const gt = r.data.groundTruth;
  const tau = r.cells[0]?.tau ?? 0.7;
  const primary = primaryMetric(metrics);
  const secondary = metrics.filter((m) => m.headline === 'secondary');
  const head = [
    'cell',
    'S',
    'L0',
    'EV',
    `${primary.column(tau)} [95% CI]`,
    'random null (mean ± sd)',
    'untrained null',
    'excess',
    'ratio',
    'p (Holm)',
    'verdict',
    ...secondary.flatMap((m) => [`${m.column(tau)} [CI]`, `${m.column(tau)} null`]),
    ...(gt ? ['gt_mcc [CI]', 'gt null'] : []),
  ];
  const rows = r.cells.map((c: CellResult) => {
    const p = cellStat(c, primary);
    const v = p ? verdict(p) : 'not enough seeds';
    const cls = v === 'above chance' ? 'above' : v === 'not enough seeds' ? 'na' : 'chance';
    const d = primary.digits;
    const cols = [
      `<td class="l">${esc(c.label)}</td>`,
      `<td>${c.seeds.length}</td>`,
      `<td>${num(c.l0.mean, 2)}</td>`,
      `<td>${num(c.explainedVariance.mean)}</td>`,
      `<td>${est(p?.estimate, d)}</td>`,
      `<td>${num(p?.nullRandom.mean, d)} ± ${num(p?.nullRandom.sd, d)}</td>`,
      `<td>${num(p?.nullUntrained?.mean ?? null, d)}</td>`,
      `<td>${num(p?.excess, d)}</td>`,
      `<td>${ratio(p?.ratio ?? null)}</td>`,
      `<td>${pval(p?.pHolm ?? null)}</td>`,
      `<td class="l ${cls}">${esc(v)}</td>`,
      ...secondary.flatMap((m) => {
        const s = cellStat(c, m);
        return [`<td>${est(s?.estimate, m.digits)}</td>`, `<td>${num(s?.nullRandom.mean, m.digits)}</td>`];
      }),
      ...(gt
        ? [`<td>${est(c.groundTruth?.gtMcc)}</td>`, `<td>${num(c.groundTruth?.nullGtMcc.mean ?? null)}</td>`]
        : []),
    ];
    return `<tr>${cols.join('')}</tr>`;
  });
  const table = wideTable(
    headCells(head, (h, i) => i === 0 || h === 'verdict'),
    rows,
  );
  return (
    `${table}
<p>Verdict: <em>above chance</em> only when the lower end of the seed-bootstrap CI exceeds the random null's ` +
    `mean + 2 sd and the
one-sided Mann–Whitney test of seed-pair values against null draws, Holm-adjusted across cells, ` +
    `gives p &lt; 0.05.</p>`
  );
}

/** One table per metric of the metric table: every cell's value against both nulls, with p, Holm p and Cohen's d. */
function metricSections(r: StudyResults, metrics: MetricTable): string {
  const tau = r.cells[0]?.tau ?? 0.7;
  const head = [
    'cell',
    'value [95% CI]',
    'random null (mean ± sd)',
    'untrained null',
    'excess',
    'ratio',
    'p',
    'p (Holm)',
    "Cohen's d",
    'verdict',
  ];
  return metrics
    .map((m) => {
      const rows = r.cells.map((c) => {
        const s = cellStat(c, m);
        if (!s) return `<tr><td class="l">${esc(c.label)}</td>${'<td>—</td>'.repeat(head.length - 1)}</tr>`;
        const d = m.digits;
        const cols = [
          `<td class="l">${esc(c.label)}</td>`,
          `<td>${est(s.estimate, d)}</td>`,
          `<td>${num(s.nullRandom.mean, d)} ± ${num(s.nullRandom.sd, d)}</td>`,
          `<td>${num(s.nullUntrained?.mean ?? null, d)}</td>`,
          `<td>${num(s.excess, d)}</td>`,
          `<td>${ratio(s.ratio)}</td>`,
          `<td>${pval(s.p)}</td>`,
          `<td>${pval(s.pHolm)}</td>`,
          `<td>${num(s.cohensD, 2)}</td>`,
          `<td class="l">${esc(verdict(s))}</td>`,
        ];
        return `<tr>${cols.join('')}</tr>`;
      });
      const table = wideTable(
        headCells(head, (_, i) => i === 0 || i === head.length - 1),
        rows,
      );
      return `<h3 id="metric-${esc(m.key)}">${esc(m.label)}</h3><p>${esc(m.methods(tau))}.</p>
${table}`;
    })
    .join('\n');
}

function ratio(x: number | null): string {
  return x === null ? '—' : `${x.toFixed(2)}×`;
}

function runsTable(r: StudyResults): string {
  const gt = r.data.groundTruth;
  const mixed = r.study.mixed === true;
  const head = [
    'run',
    'cell',
    'seed',
    'data seed',
    'status',
    'seconds',
    'steps',
    'L0',
    'EV',
    'MSE',
    'dead',
    ...(gt ? ['gt_mcc', 'gt ≥ 0.9'] : []),
    ...(mixed ? ['trained by'] : []),
  ];
  const label = new Map(r.cells.map((c) => [c.id, c.label]));
  const rows = r.runs.map((x) => {
    const f = x.final;
    const cols = [
      esc(x.id),
      esc(label.get(x.cell) ?? `${x.arch} m=${x.width}`),
      String(x.seed),
      String(x.dataSeed),
      x.status === 'done' ? 'done' : `failed: ${esc(x.error ?? '')}`,
      num(x.seconds, 1),
      String(x.steps),
      num(f?.l0 ?? null, 2),
      num(f?.explained_variance ?? null),
      num(f?.mse ?? null),
      f ? String(f.n_dead) : '—',
      ...(gt ? [num(x.gt?.gt_mcc ?? null), num(x.gt?.gt_recovered_09 ?? null)] : []),
      ...(mixed ? [esc(x.provenance ?? '—')] : []),
    ];
    return `<tr>${cols.map((c, i) => `<td${i < 2 ? ' class="l"' : ''}>${c}</td>`).join('')}</tr>`;
  });
  return wideTable(headCells(head), rows);
}

/** Who trained the runs, when results.json says (several lines when the runs are mixed: --allow-mixed). */
function trainedBy(r: StudyResults): Array<[string, string]> {
  const groups = r.study.trainedBy ?? [];
  if (groups.length === 0) return [];
  const text = groups.map((g) => `${g.label}: ${g.runs} run(s)`).join('; ');
  if (!r.study.mixed) return [['trained by', text]];
  return [
    ['trained by (mixed)', `${text} — runs of different numerics are mixed in this study; the runs table says which`],
  ];
}

function setup(r: StudyResults): string {
  const archs = [...new Set(r.cells.map((c) => c.arch))].join(', ');
  const widths = [...new Set(r.cells.map((c) => c.width))].sort((a, b) => a - b).join(', ');
  const seeds = [...new Set(r.runs.map((x) => x.seed))].sort((a, b) => a - b).join(', ');
  const items: Array<[string, string]> = [
    [
      'data',
      `${r.data.name} (${r.data.rows ?? '?'} rows, d = ${r.data.d}${r.data.groundTruth ? ', ground truth known' : ''})`,
    ],
    ['architectures', archs],
    ['widths', widths],
    ['seeds', seeds],
    ['runs', `${r.runs.length} (${r.runs.filter((x) => x.status !== 'done').length} failed)`],
    ['engine', `${r.study.engine}, BLAS core ${r.study.blasCore || '—'}, ${r.study.threads} threads`],
    ['time', `training ${num(r.study.trainSeconds, 1)} s, analyses ${num(r.study.analysisSeconds, 1)} s`],
    ['husai', `${r.study.husaiVersion}, ${r.study.created}`],
    ...trainedBy(r),
  ];
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

/** Data facts (modular arithmetic: the model's accuracy, key frequencies, effective rank). */
function dataSummary(r: StudyResults): string {
  const sm = r.data.summary;
  if (!sm) return '';
  const fmt = (v: unknown): string =>
    typeof v === 'number' ? num(v, Number.isInteger(v) ? 0 : 3) : Array.isArray(v) ? v.join(', ') : String(v);
  const items = Object.entries(sm).filter(([, v]) => v !== null && v !== undefined);
  const width =
    r.cells.length > 0 && typeof sm.effective_rank === 'number'
      ? `<p>Widths relative to the effective rank ${num(sm.effective_rank as number, 1)} of the activations: ${[
          ...new Set(r.cells.map((c) => c.width)),
        ]
          .sort((a, b) => a - b)
          .map((w) => `${w} (${(w / (sm.effective_rank as number)).toFixed(1)}×)`)
          .join(', ')}.</p>`
      : '';
  return `<h2>Data</h2><dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(fmt(v))}</dd>`).join('')}</dl>${width}`;
}

/** Per-cell Fourier analysis of the latents (modular-arithmetic data). */
function fourierTable(r: StudyResults): string {
  const cells = r.cells.filter((c) => c.fourier);
  if (cells.length === 0) return '';
  const f0 = cells[0].fourier!;
  const head = [
    'cell',
    'Fourier features [95% CI]',
    'random probes',
    'mean key share [CI]',
    'matched: same frequency [CI]',
    'shuffled null',
    'p (max over pairs)',
    'Fourier pairs / seed pair',
    'features per key frequency',
  ];
  const rows = cells.map((c) => {
    const f = c.fourier!;
    const perKey = f.featuresPerKey.map((e) => `k=${e.k}: ${e.count}`).join(', ');
    const cols = [
      `<td class="l">${esc(c.label)}</td>`,
      `<td>${est(f.fraction)}</td>`,
      `<td>${num(f.chanceFraction)}</td>`,
      `<td>${est(f.meanKeyShare)}</td>`,
      `<td>${est(f.agreement)}</td>`,
      `<td>${num(f.agreementNull)}</td>`,
      `<td>${pval(f.agreementP)}</td>`,
      `<td>${num(f.fourierPairsPerSeedPair, 1)}</td>`,
      `<td class="l">${esc(perKey)}</td>`,
    ];
    return `<tr>${cols.join('')}</tr>`;
  });
  const intro = [
    `<h2>Fourier features</h2><p>Latents evaluated on ${esc(f0.grid)} over all p² inputs; `,
    `key frequencies of the model's embedding: ${esc(f0.keys.join(', '))}. `,
    `A latent is a Fourier feature when at least ${num(f0.threshold, 1)} of its variance over the (a, b) grid `,
    'lies in components built from key frequencies. ',
    'Chance: the same fraction for as many random-direction ReLU probes of the activations. ',
    'Matched latents (decoder assignment between seeds) that are both Fourier features ',
    'share their dominant frequency at the rate shown, against a shuffled pairing.</p>',
  ].join('');
  const table = wideTable(
    headCells(head, (_, i) => i === 0 || i === head.length - 1),
    rows,
  );
  return `${intro}
${table}`;
}

function archComparison(r: StudyResults): string {
  if (r.archComparison.length === 0) return '';
  const label = new Map(r.cells.map((c) => [c.id, c]));
  const rows = r.archComparison.map(
    (g) =>
      `<tr><td>${num(g.l0, 2)}</td><td class="l">${g.cells
        .map((id) => {
          const c = label.get(id);
          return c ? `${esc(c.label)}: ${est(c.pwmcc.estimate)}` : esc(id);
        })
        .join('<br>')}</td></tr>`,
  );
  return (
    `<h2>Architectures at matched L0</h2><table><thead><tr><th>L0</th><th class="l">cells: PW-MCC [95% ` +
    `CI]</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

/** The whole page. */
export function renderPage(
  r: StudyResults,
  figures: RenderedFigure[],
  metrics: MetricTable = STABILITY_METRICS,
): string {
  const figs = figures
    .map(
      (f) =>
        `<figure id="${esc(f.name)}"><h3>${esc(f.title)}</h3><div ` +
        `class="fig">${f.svg}</div><figcaption>${esc(f.caption)} <span class="na">(figures/${esc(f.name)}.svg, ` +
        `.png)</span></figcaption></figure>`,
    )
    .join('\n');
  return htmlPage({
    title: `${r.study.name} — husai study report`,
    css: CSS,
    sections: [
      `
<h1>${esc(r.study.name)}</h1>
<p class="question">${esc(r.study.question)}</p>
<h2>Setup</h2>${setup(r)}
${dataSummary(r)}
<h2>Headline: seed stability against chance</h2>${headline(r, metrics)}
${fourierTable(r)}
${archComparison(r)}
<h2>Stability metrics</h2>${metricSections(r, metrics)}
<h2>Figures</h2>${figs}
${r.cards ? cardsSection(r.cards) : ''}
<h2>Runs</h2>${runsTable(r)}
<h2>Methods</h2>${r.methods.map((m) => `<p>${esc(m)}</p>`).join('\n')}
<h2>Provenance</h2><p>The study spec as given (its hash and every run's config hash are in manifest.json):</p>` +
        `<pre>${esc(r.study.specText)}</pre>`,
    ],
  });
}
