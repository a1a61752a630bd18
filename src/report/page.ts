/**
 * The report page: one self-contained HTML file (inline CSS and SVG, no script, no external URL)
 * with the study's question, setup, the headline table (every stability number beside its null,
 * CI and Holm-adjusted p, with a verdict), the figures, the per-run table, the methods and the
 * provenance. All user-provided text is escaped.
 */
import type { CellResult, StudyResults } from '../study/results.js';
import type { Figure } from './charts.js';
import { HTML_GENERATOR } from '../formats/owned.js';
import { cardsSection } from './cards.js';
import { esc, est, num, pval, verdict } from './format.js';

export interface RenderedFigure extends Figure {
  svg: string;
}

const CSS = `
body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.question{font-size:1.15rem;color:#333;margin:.6rem 0 1.2rem}
table{border-collapse:collapse;font-size:.82rem;margin:.6rem 0}th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:right;white-space:nowrap}
th{background:#f4f4f4}td.l,th.l{text-align:left}
.above{color:#0a6b2b;font-weight:bold}.chance{color:#a33}.na{color:#777}
figure{margin:1.4rem 0}figcaption{font-size:.85rem;color:#555;max-width:900px}
.fig svg{max-width:100%;height:auto}
div.wide{overflow-x:auto}
pre{background:#f7f7f7;padding:.8rem;overflow-x:auto;font-size:.8rem}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;font-size:.9rem}dt{color:#555}
`;

function headline(r: StudyResults): string {
  const gt = r.data.groundTruth;
  const head = ['cell', 'S', 'L0', 'EV', 'PW-MCC [95% CI]', 'random null (mean ± sd)', 'untrained null', 'excess', 'ratio', 'p (Holm)', 'verdict',
    'shared τ [CI]', 'shared null', ...(gt ? ['gt_mcc [CI]', 'gt null'] : [])];
  const rows = r.cells.map((c: CellResult) => {
    const v = verdict(c.pwmcc);
    const cls = v === 'above chance' ? 'above' : v === 'not enough seeds' ? 'na' : 'chance';
    const n = c.pwmcc.nullRandom;
    const cols = [
      `<td class="l">${esc(c.label)}</td>`, `<td>${c.seeds.length}</td>`, `<td>${num(c.l0.mean, 2)}</td>`, `<td>${num(c.explainedVariance.mean)}</td>`,
      `<td>${est(c.pwmcc.estimate)}</td>`, `<td>${num(n.mean)} ± ${num(n.sd)}</td>`, `<td>${num(c.pwmcc.nullUntrained?.mean ?? null)}</td>`,
      `<td>${num(c.pwmcc.excess)}</td>`, `<td>${c.pwmcc.ratio === null ? '—' : `${c.pwmcc.ratio.toFixed(2)}×`}</td>`, `<td>${pval(c.pwmcc.pHolm)}</td>`,
      `<td class="l ${cls}">${esc(v)}</td>`, `<td>${est(c.sharedFraction.estimate, 2)}</td>`, `<td>${num(c.sharedFraction.nullRandom.mean, 2)}</td>`,
      ...(gt ? [`<td>${est(c.groundTruth?.gtMcc)}</td>`, `<td>${num(c.groundTruth?.nullGtMcc.mean ?? null)}</td>`] : []),
    ];
    return `<tr>${cols.join('')}</tr>`;
  });
  return `<div class="wide"><table><thead><tr>${head.map((h, i) => `<th${i === 0 || h === 'verdict' ? ' class="l"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>
<p>Verdict: <em>above chance</em> only when the lower end of the seed-bootstrap CI exceeds the random null's mean + 2 sd and the
one-sided Mann–Whitney test of seed-pair values against null draws, Holm-adjusted across cells, gives p &lt; 0.05.</p>`;
}

function runsTable(r: StudyResults): string {
  const gt = r.data.groundTruth;
  const head = ['run', 'cell', 'seed', 'data seed', 'status', 'seconds', 'steps', 'L0', 'EV', 'MSE', 'dead', ...(gt ? ['gt_mcc', 'gt ≥ 0.9'] : [])];
  const label = new Map(r.cells.map((c) => [c.id, c.label]));
  const rows = r.runs.map((x) => {
    const f = x.final;
    const cols = [esc(x.id), esc(label.get(x.cell) ?? `${x.arch} m=${x.width}`), String(x.seed), String(x.dataSeed),
      x.status === 'done' ? 'done' : `failed: ${esc(x.error ?? '')}`, num(x.seconds, 1), String(x.steps), num(f?.l0 ?? null, 2), num(f?.explained_variance ?? null),
      num(f?.mse ?? null), f ? String(f.n_dead) : '—', ...(gt ? [num(x.gt?.gt_mcc ?? null), num(x.gt?.gt_recovered_09 ?? null)] : [])];
    return `<tr>${cols.map((c, i) => `<td${i < 2 ? ' class="l"' : ''}>${c}</td>`).join('')}</tr>`;
  });
  return `<div class="wide"><table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

function setup(r: StudyResults): string {
  const archs = [...new Set(r.cells.map((c) => c.arch))].join(', ');
  const widths = [...new Set(r.cells.map((c) => c.width))].sort((a, b) => a - b).join(', ');
  const seeds = [...new Set(r.runs.map((x) => x.seed))].sort((a, b) => a - b).join(', ');
  const items: Array<[string, string]> = [
    ['data', `${r.data.name} (${r.data.rows ?? '?'} rows, d = ${r.data.d}${r.data.groundTruth ? ', ground truth known' : ''})`],
    ['architectures', archs], ['widths', widths], ['seeds', seeds], ['runs', `${r.runs.length} (${r.runs.filter((x) => x.status !== 'done').length} failed)`],
    ['engine', `${r.study.engine}, BLAS core ${r.study.blasCore || '—'}, ${r.study.threads} threads`],
    ['time', `training ${num(r.study.trainSeconds, 1)} s, analyses ${num(r.study.analysisSeconds, 1)} s`],
    ['husai', `${r.study.husaiVersion}, ${r.study.created}`],
  ];
  return `<dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

/** Data facts (modular arithmetic: the model's accuracy, key frequencies, effective rank). */
function dataSummary(r: StudyResults): string {
  const sm = r.data.summary;
  if (!sm) return '';
  const fmt = (v: unknown): string => (typeof v === 'number' ? num(v, Number.isInteger(v) ? 0 : 3) : Array.isArray(v) ? v.join(', ') : String(v));
  const items = Object.entries(sm).filter(([, v]) => v !== null && v !== undefined);
  const width = r.cells.length > 0 && typeof sm.effective_rank === 'number'
    ? `<p>Widths relative to the effective rank ${num(sm.effective_rank as number, 1)} of the activations: ${[...new Set(r.cells.map((c) => c.width))].sort((a, b) => a - b).map((w) => `${w} (${(w / (sm.effective_rank as number)).toFixed(1)}×)`).join(', ')}.</p>`
    : '';
  return `<h2>Data</h2><dl>${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(fmt(v))}</dd>`).join('')}</dl>${width}`;
}

/** Per-cell Fourier analysis of the latents (modular-arithmetic data). */
function fourierTable(r: StudyResults): string {
  const cells = r.cells.filter((c) => c.fourier);
  if (cells.length === 0) return '';
  const f0 = cells[0].fourier!;
  const head = ['cell', 'Fourier features [95% CI]', 'random probes', 'mean key share [CI]', 'matched: same frequency [CI]', 'shuffled null', 'p (max over pairs)', 'Fourier pairs / seed pair', 'features per key frequency'];
  const rows = cells.map((c) => {
    const f = c.fourier!;
    return `<tr><td class="l">${esc(c.label)}</td><td>${est(f.fraction)}</td><td>${num(f.chanceFraction)}</td><td>${est(f.meanKeyShare)}</td><td>${est(f.agreement)}</td><td>${num(f.agreementNull)}</td><td>${pval(f.agreementP)}</td><td>${num(f.fourierPairsPerSeedPair, 1)}</td><td class="l">${esc(f.featuresPerKey.map((e) => `k=${e.k}: ${e.count}`).join(', '))}</td></tr>`;
  });
  return `<h2>Fourier features</h2><p>Latents evaluated on ${esc(f0.grid)} over all p² inputs; key frequencies of the model's embedding: ${esc(f0.keys.join(', '))}. A latent is a Fourier feature when at least ${num(f0.threshold, 1)} of its variance over the (a, b) grid lies in components built from key frequencies. Chance: the same fraction for as many random-direction ReLU probes of the activations. Matched latents (decoder assignment between seeds) that are both Fourier features share their dominant frequency at the rate shown, against a shuffled pairing.</p>
<div class="wide"><table><thead><tr>${head.map((h, i) => `<th${i === 0 || i === head.length - 1 ? ' class="l"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

function archComparison(r: StudyResults): string {
  if (r.archComparison.length === 0) return '';
  const label = new Map(r.cells.map((c) => [c.id, c]));
  const rows = r.archComparison.map((g) => `<tr><td>${num(g.l0, 2)}</td><td class="l">${g.cells.map((id) => {
    const c = label.get(id);
    return c ? `${esc(c.label)}: ${est(c.pwmcc.estimate)}` : esc(id);
  }).join('<br>')}</td></tr>`);
  return `<h2>Architectures at matched L0</h2><table><thead><tr><th>L0</th><th class="l">cells: PW-MCC [95% CI]</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The whole page. */
export function renderPage(r: StudyResults, figures: RenderedFigure[]): string {
  const figs = figures.map((f) => `<figure id="${esc(f.name)}"><h3>${esc(f.title)}</h3><div class="fig">${f.svg}</div><figcaption>${esc(f.caption)} <span class="na">(figures/${esc(f.name)}.svg, .png)</span></figcaption></figure>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${HTML_GENERATOR}
<title>${esc(r.study.name)} — husai study report</title><style>${CSS}</style></head>
<body>
<h1>${esc(r.study.name)}</h1>
<p class="question">${esc(r.study.question)}</p>
<h2>Setup</h2>${setup(r)}
${dataSummary(r)}
<h2>Headline: seed stability against chance</h2>${headline(r)}
${fourierTable(r)}
${archComparison(r)}
<h2>Figures</h2>${figs}
${r.cards ? cardsSection(r.cards) : ''}
<h2>Runs</h2>${runsTable(r)}
<h2>Methods</h2>${r.methods.map((m) => `<p>${esc(m)}</p>`).join('\n')}
<h2>Provenance</h2><p>The study spec as given (its hash and every run's config hash are in manifest.json):</p><pre>${esc(r.study.specText)}</pre>
</body></html>
`;
}
