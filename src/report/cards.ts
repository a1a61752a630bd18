/**
 * Feature cards as HTML (inspect/cards.ts): one card per latent — firing rate, maximum and mean
 * activation — with its top examples: image patches (inline PNG data URIs, the token's region
 * outlined), token contexts (each token shaded by the latent's activation on it, the example's
 * token boxed), (a, b) pairs, or the rows' provenance columns. Self-contained (inline CSS and
 * images, no script, no external URL); every piece of text from the data is escaped. Writes only
 * over cards.json / cards.html that husai wrote (formats/owned.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../formats/io.js';
import { checkOwnedFiles, husaiHtml, jsonWith } from '../formats/owned.js';
import { CARDS_FORMAT, type CardExample, type FeatureCard, type FeatureCards } from '../inspect/cards.js';
import { esc, num } from './format.js';
import { htmlPage } from './shell.js';

const CARDS_HTML = 'cards.html';
const CARDS_JSON = 'cards.json';

const CSS =
  `
section.cards h3{margin:.2rem 0;font-size:1.05rem}
article.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;margin:.9rem 0}
article.card p.stats{margin:.1rem 0 .5rem;color:#555;font-size:.85rem}
div.ex{display:flex;flex-wrap:wrap;gap:.5rem}div.ex figure{margin:0;font-size:.72rem;color:#444;width:100px}
div.ex img{image-rendering:pixelated;border:1px solid #ccc;display:block}
ol.ctx{margin:.2rem 0;padding-left:1.6rem;font-size:.82rem}ol.ctx li{margin:.15rem 0}
span.a{display:inline-block;min-width:3.6rem;color:#555;font-variant-numeric:tabular-nums}
span.src{color:#888;font-size:.72rem;margin-left:.5rem}
span.tk{white-space:pre-wrap;font-family:'DejaVu Sans Mono',monospace;border-radius:2px}
span.tk.on{outline:2px solid #c22;font-weight:bold}
table.rows{border-collapse:collapse;font-size:.8rem}` +
  `table.rows td,table.rows th{border:1px solid #ddd;padding:.15rem .4rem;text-align:right}
p.na{color:#777}
`;

/** Token text made visible: newlines and tabs as symbols (the rest of the whitespace is kept, pre-wrap). */
function tokenText(s: string): string {
  return s.replace(/\r?\n/g, '↵').replace(/\t/g, '⇥');
}

const POSITION_NAMES = ['a', 'b', '='];

function exampleList(c: FeatureCard, kind: FeatureCards['kind']): string {
  if (c.examples.length === 0) return '<p class="na">never fires on the rows scanned</p>';
  if (kind === 'vision' && c.examples.some((e) => e.image)) {
    return `<div class="ex">${c.examples
      .map((e) => {
        const f = e.fields;
        const where = f.y !== undefined && f.x !== undefined ? ` · y ${f.y}, x ${f.x}` : ' · whole image';
        const cls = e.image?.className;
        const label =
          f.label === undefined
            ? ''
            : cls && cls !== String(f.label)
              ? ` · ${cls} (${f.label})`
              : ` · label ${f.label}`;
        const cap = `${num(e.activation)} · image ${f.image}${label}${where}`;
        const alt = esc(`image ${f.image}${where}`);
        const img = e.image
          ? `<img src="${esc(e.image.png)}" width="${e.image.width}" height="${e.image.height}" alt="${alt}">`
          : '';
        return `<figure title="row ${e.row}">${img}<figcaption>${esc(cap)}</figcaption></figure>`;
      })
      .join('')}</div>`;
  }
  if (kind === 'text' && c.examples.some((e) => e.context)) {
    const items = c.examples.map(
      (e) => `<li><span class="a">${num(e.activation)}</span>${context(e, c.maxActivation)}</li>`,
    );
    return `<ol class="ctx">${items.join('')}</ol>`;
  }
  const names = [...new Set(c.examples.flatMap((e) => Object.keys(e.fields)))];
  const cell = (e: CardExample, n: string): string => {
    const v = e.fields[n];
    if (v === undefined) return '—';
    return kind === 'modarith' && n === 'position' ? `${v} (${POSITION_NAMES[v] ?? '?'})` : String(v);
  };
  const headCells = names.map((n) => `<th>${esc(n)}</th>`).join('');
  const bodyRows = c.examples.map((e) => {
    const cells = names.map((n) => `<td>${esc(cell(e, n))}</td>`).join('');
    return `<tr><td>${num(e.activation)}</td><td>${e.row}</td>${cells}</tr>`;
  });
  return (
    `<table class="rows"><thead><tr><th>activation</th><th>row</th>${headCells}</tr></thead>` +
    `<tbody>${bodyRows.join('')}</tbody></table>`
  );
}

/** A token context, each token shaded by the latent's activation on it relative to the latent's max. */
function context(e: CardExample, max: number): string {
  const x = e.context;
  if (!x) return `<span class="src">row ${e.row}: no context</span>`;
  const toks = x.tokens.map((t, i) => {
    const a = x.acts[i];
    const alpha = a !== null && a > 0 && max > 0 ? Math.min(1, a / max) * 0.8 : 0;
    const style = alpha > 0 ? ` style="background:rgba(255,140,0,${alpha.toFixed(3)})"` : '';
    const title = `token ${x.ids[i]} · activation ${a === null ? 'not scanned' : num(a)}`;
    return `<span class="tk${i === x.active ? ' on' : ''}"${style} title="${esc(title)}">${esc(tokenText(t))}</span>`;
  });
  const src = `${x.title || `doc ${x.doc}`} · token ${e.fields.offset} · row ${e.row}`;
  return `${toks.join('')}<span class="src">${esc(src)}</span>`;
}

function card(c: FeatureCard, kind: FeatureCards['kind'], rows: number): string {
  const stats =
    `fires on ${(100 * c.firingRate).toFixed(c.firingRate < 0.001 && c.firingRate > 0 ? 4 : 2)}% of ` +
    `${rows} rows (${c.fires}) · max ${num(c.maxActivation)} · mean when firing ${num(c.meanActivation)}`;
  return (
    `<article class="card" id="latent-${c.latent}"><h3>Latent ${c.latent}</h3><p ` +
    `class="stats">${esc(stats)}</p>${exampleList(c, kind)}</article>`
  );
}

/** The cards as a page section (with its own styles, so it drops into any page). */
export function cardsSection(fc: FeatureCards): string {
  const what = {
    vision: 'image patches (the region under the token outlined)',
    text: "token contexts (shading: the latent's activation on each token; box: the example)",
    modarith: '(a, b) inputs',
    rows: 'rows',
  }[fc.kind];
  return (
    `<section class="cards" id="feature-cards"><style>${CSS}</style>
<h2>Feature cards</h2>
<p>SAE ${esc(fc.sae.path)} (${esc(fc.sae.architecture)}, ${fc.sae.dSae} latents, ${fc.live} live) ` +
    `on ${esc(fc.acts.path)} (${fc.acts.rowsScanned} of ${fc.acts.rows} rows scanned).
Latents: ${esc(fc.selection)}. Each card shows the ${fc.examplesPerLatent} rows with the highest activation ` +
    `(ties: lower row first) as ${esc(what)}.</p>
${fc.cards.map((c) => card(c, fc.kind, fc.acts.rowsScanned)).join('\n')}
${fc.warnings.length > 0 ? `<h3>Warnings</h3><ul>${fc.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
</section>`
  );
}

/** A whole self-contained page around {@link cardsSection}. */
export function renderCards(fc: FeatureCards): string {
  return htmlPage({ title: `husai feature cards: ${path.basename(fc.sae.path)}`, sections: [cardsSection(fc)] });
}

/** Refuses (ForeignOutputError) a DIR whose cards.json or cards.html husai did not write; writes nothing. */
export function checkCardsTarget(dir: string): void {
  const json = jsonWith('format', (v) => v === CARDS_FORMAT);
  checkOwnedFiles(dir, { [CARDS_JSON]: json, [CARDS_HTML]: husaiHtml }, '`husai cards`');
}

/** Writes DIR/cards.json and DIR/cards.html (replacing only husai's own); returns their paths. */
export function writeCardsReport(dir: string, fc: FeatureCards): { html: string; json: string } {
  checkCardsTarget(dir);
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, CARDS_JSON);
  const html = path.join(dir, CARDS_HTML);
  writeFileAtomic(json, [Buffer.from(`${JSON.stringify(fc, null, 1)}\n`, 'utf8')]);
  writeFileAtomic(html, [Buffer.from(renderCards(fc), 'utf8')]);
  return { html, json };
}
