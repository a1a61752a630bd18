/**
 * The universality report (issue 7 item 4: "the report shows the matrix of similarities with
 * nulls"): a self-contained HTML page from the JSON of `husai universality` (inspect/universality.ts
 * UniversalityMatrix) — one Vega-Lite heatmap per measure (rendered to inline SVG by index.ts
 * `figureSvg`) and a table per measure whose cells give the value, its null(s) and p (Holm-adjusted
 * across the matrix, docs/SCIENCE.md §4). Reads only the JSON; all user text is escaped. Writes only over
 * universality.json / .html that husai wrote (formats/owned.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../formats/io.js';
import { checkOwnedFiles, husaiHtml, jsonWith } from '../formats/owned.js';
import type { UniversalityMatrix } from '../inspect/universality-matrix.js';
import type { Figure } from './charts.js';
import { esc, num, pval } from './format.js';
import { figureSvg } from './index.js';
import { htmlPage } from './shell.js';

const UNIVERSALITY_HTML = 'universality.html';
const UNIVERSALITY_JSON = 'universality.json';

type Grid = Array<Array<number | null>>;

interface Measure {
  key: 'mean_corr' | 'svcca' | 'rsa';
  title: string;
  caption: string;
  /** Each null: its label, mean grid, p grid and Holm-adjusted p grid. */
  nulls: Array<{ label: string; mean: Grid; p: Grid; holm: Grid }>;
}

function measures(m: UniversalityMatrix): Measure[] {
  return [
    {
      key: 'mean_corr',
      title: 'Activation correlation (row SAE → column SAE)',
      caption:
        `Mean over the row SAE's live latents of the largest Pearson correlation with a live latent of the ` +
        `column SAE, over the same ${m.rows} inputs (Bricken et al. 2023; Lan et al. 2024). Null: the same with the ` +
        `column SAE's inputs in a random order (${m.corr_draws} draws).`,
      nulls: [{ label: 'shuffled inputs', mean: m.corr_null_mean, p: m.corr_p, holm: m.corr_p_holm }],
    },
    {
      key: 'svcca',
      title: 'SVCCA of activation-paired decoder atoms',
      caption:
        `Each latent of the lower-index SAE paired with its max-correlation latent of the other (kept if ρ > ` +
        `${m.min_corr}); SVCCA (PCA to 99% of the variance, mean canonical correlation) between the two sets of ` +
        `decoder rows (Lan et al. 2024). Nulls: the pairs shuffled (${m.draws} draws, Lan et al.'s null), and the ` +
        `whole pipeline rerun on shuffled inputs (${m.corr_draws} draws). Prefer the second where it has draws: the ` +
        `shuffled-pairs null ignores how the pairs were made, and chance pairings of unrelated data can beat it ` +
        `(latents of A with correlated activations tend to share one chance partner). With no shuffled-inputs value, ` +
        `no shuffled pass kept 3 pairs above the threshold.`,
      nulls: [
        { label: 'shuffled pairs', mean: m.svcca_null_mean, p: m.svcca_p, holm: m.svcca_p_holm },
        { label: 'shuffled inputs', mean: m.svcca_inputs_null_mean, p: m.svcca_inputs_p, holm: m.svcca_inputs_p_holm },
      ],
    },
    {
      key: 'rsa',
      title: 'RSA of activation-paired decoder atoms',
      caption:
        "Spearman correlation between the upper triangles of the paired atoms' cosine matrices (Lan et al. 2024), " +
        'same pairs and nulls as SVCCA.',
      nulls: [
        { label: 'shuffled pairs', mean: m.rsa_null_mean, p: m.rsa_p, holm: m.rsa_p_holm },
        { label: 'shuffled inputs', mean: m.rsa_inputs_null_mean, p: m.rsa_inputs_p, holm: m.rsa_inputs_p_holm },
      ],
    },
  ];
}

/** One heatmap per measure: colour = value, text = value and each null's mean and p. */
function universalityFigures(m: UniversalityMatrix): Figure[] {
  return measures(m).map((x) => {
    const rows: Array<Record<string, string | number | null>> = [];
    m.names.forEach((a, i) =>
      m.names.forEach((b, j) => {
        const v = m[x.key][i][j];
        if (i === j || v === null) return;
        const nulls = x.nulls.map(
          (n) => `${n.label.replace('shuffled ', '')} ${num(n.mean[i][j], 2)}, p ${pval(n.p[i][j])}`,
        );
        rows.push({ row: a, col: b, v, label: [num(v, 2), ...nulls].join('\n') });
      }),
    );
    const px = Math.max(90, Math.min(130, 700 / m.names.length));
    const enc = {
      y: { field: 'row', type: 'nominal', sort: m.names, title: null },
      x: { field: 'col', type: 'nominal', sort: m.names, title: null, axis: { labelAngle: -30 } },
    };
    return {
      name: `universality-${x.key}`,
      title: x.title,
      caption: x.caption,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        background: 'white',
        config: { font: 'DejaVu Sans', view: { stroke: '#ddd' }, axis: { labelFontSize: 11, labelLimit: 220 } },
        data: { values: rows },
        width: px * m.names.length,
        height: px * m.names.length,
        layer: [
          {
            mark: 'rect',
            encoding: {
              ...enc,
              color: {
                field: 'v',
                type: 'quantitative',
                title: x.key,
                scale: { domain: [x.key === 'rsa' ? -0.2 : 0, 1], scheme: 'viridis', clamp: true },
              },
            },
          },
          {
            mark: { type: 'text', fontSize: 10, lineBreak: '\n' },
            encoding: {
              ...enc,
              text: { field: 'label' },
              color: { condition: { test: 'datum.v > 0.6', value: 'black' }, value: 'white' },
            },
          },
        ],
      },
    };
  });
}

function table(m: UniversalityMatrix, x: Measure): string {
  const head = `<tr><th></th>${m.names.map((n) => `<th>${esc(n)}</th>`).join('')}</tr>`;
  const body = m.names
    .map(
      (a, i) =>
        `<tr><th class="l">${esc(a)}</th>${m.names
          .map((_, j) => {
            if (i === j) return '<td class="na">—</td>';
            const nulls = x.nulls
              .map((n) => {
                const stats = `${num(n.mean[i][j])}, p ${pval(n.p[i][j])} (Holm ${pval(n.holm[i][j])})`;
                return `<br><span class="nul">${esc(n.label)}: ${stats}</span>`;
              })
              .join('');
            const pairs = x.key === 'mean_corr' ? '' : `<br><span class="nul">${num(m.n_pairs[i][j], 0)} pairs</span>`;
            return `<td><b>${num(m[x.key][i][j])}</b>${nulls}${pairs}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  return `<div class="wide"><table><thead>${head}</thead><tbody>${body}</tbody></table></div>`;
}

const CSS = [
  '\n',
  'h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}\n',
  'table{border-collapse:collapse;font-size:.8rem;margin:.6rem 0}',
  'th,td{border:1px solid #ddd;padding:.3rem .45rem;text-align:right;vertical-align:top}\n',
  'th{background:#f4f4f4}th.l{text-align:left}.na{color:#777}.nul{color:#555;font-size:.72rem}\n',
  'figure{margin:1rem 0}figcaption{font-size:.85rem;color:#555;max-width:900px}',
  '.fig svg{max-width:100%;height:auto}div.wide{overflow-x:auto}\n',
].join('');

/** The page section (no <html> wrapper): SAEs, then per measure its heatmap and its table. */
async function universalitySection(m: UniversalityMatrix): Promise<string> {
  const figs = universalityFigures(m);
  const svgs = await Promise.all(figs.map((f) => figureSvg(f)));
  const saes = m.names
    .map(
      (n, i) =>
        `<tr><td class="l">${esc(n)}</td><td class="l">${esc(m.saes[i])}</td><td class="l">${esc(m.acts[i])}</td></tr>`,
    )
    .join('');
  const warn = [...new Set(m.pairs.flatMap((p) => p.result.warnings.map((w) => `${p.a} vs ${p.b}: ${w}`)))];
  const sections = measures(m).map(
    (x, k) =>
      `<h3>${esc(x.title)}</h3><figure><div class="fig">${svgs[k]}</div>` +
      `<figcaption>${esc(x.caption)}</figcaption></figure>${table(m, x)}`,
  );
  return (
    `<section id="universality">
<h2>Feature universality across SAEs</h2>
<p>${m.names.length} SAEs encoded on the same ${m.rows} inputs; ` +
    `entry (row, column) compares the row SAE (A) with the column SAE (B). Seed ${m.seed}.</p>
<table><thead><tr><th class="l">name</th><th class="l">SAE</th><th class="l">activations</th></tr></thead>` +
    `<tbody>${saes}</tbody></table>
${sections.join('\n')}
${warn.length > 0 ? `<h3>Warnings</h3><ul>${warn.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</section>`
  );
}

/** A whole self-contained page around {@link universalitySection}. */
export async function renderUniversality(m: UniversalityMatrix): Promise<string> {
  return htmlPage({
    title: `husai universality: ${m.names.join(', ')}`,
    css: CSS,
    sections: [await universalitySection(m)],
  });
}

/** Refuses (ForeignOutputError) a DIR whose universality.json or .html husai did not write; writes nothing. */
export function checkUniversalityTarget(dir: string): void {
  const json = jsonWith('format', (v) => typeof v === 'string' && v.startsWith('husai-universality/'));
  checkOwnedFiles(dir, { [UNIVERSALITY_JSON]: json, [UNIVERSALITY_HTML]: husaiHtml }, '`husai universality`');
}

/** Writes DIR/universality.json and DIR/universality.html (replacing only husai's own); returns their paths. */
export async function writeUniversalityReport(
  dir: string,
  m: UniversalityMatrix,
): Promise<{ html: string; json: string }> {
  checkUniversalityTarget(dir);
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, UNIVERSALITY_JSON);
  const html = path.join(dir, UNIVERSALITY_HTML);
  writeFileAtomic(json, [Buffer.from(`${JSON.stringify(m, null, 2)}\n`, 'utf8')]);
  writeFileAtomic(html, [Buffer.from(await renderUniversality(m), 'utf8')]);
  return { html, json };
}
