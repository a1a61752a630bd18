/**
 * writeReport: StudyResults → DIR/report.html plus DIR/figures/<name>.svg and .png. Figures are
 * Vega-Lite specs (charts.ts) rendered headless by Vega to SVG, then to PNG by resvg; the SVG is
 * also inlined in the page so report.html works offline on its own. Reads only results.json (and
 * the metric table, study/analysis/metric-table.ts, that says which metrics it holds).
 * Replaces only husai's own files: report.html with husai's generator tag, SVGs with its comment,
 * PNGs with its `Software: husai` text chunk (formats/owned.ts); any other file of the same name is
 * refused, before anything is written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { DataError, HusaiError } from '../core/errors.js';
import { readRegularFile, writeFileAtomic } from '../formats/io.js';
import { type MetricTable, STABILITY_METRICS } from '../study/analysis/metric-table.js';
import { checkOwnedFiles, husaiHtml, husaiPng, husaiSvg, markPng, markSvg } from '../formats/owned.js';
import { crc32 } from '../formats/png.js';
import type { StudyResults } from '../study/results.js';
import { type Figure, allFigures } from './charts.js';
import { type RenderedFigure, renderPage } from './page.js';

const REPORT_FILE = 'report.html';
const FIGURES_DIR = 'figures';

/** Renders one Vega-Lite figure to SVG text. */
export async function figureSvg(f: Figure): Promise<string> {
  const compiled = vegaLite.compile(f.spec as unknown as vegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Reads DIR/results.json, checking its format tag. */
export function readResults(studyDir: string): StudyResults {
  const file = path.join(studyDir, 'results.json');
  if (!fs.existsSync(file))
    throw new DataError(
      file,
      'file',
      'missing',
      'results.json written by `husai study`',
      'run the study (or `husai study merge`) first',
    );
  let r: StudyResults;
  try {
    r = JSON.parse(readRegularFile(file, 'utf8')) as StudyResults;
  } catch (err) {
    if (err instanceof HusaiError) throw err;
    throw new DataError(
      file,
      'content',
      `invalid JSON (${(err as Error).message})`,
      'the JSON written by `husai study`',
    );
  }
  if (r.format !== 'husai-study-results/1')
    throw new DataError(file, 'format', JSON.stringify(r.format), '"husai-study-results/1"');
  return r;
}

/** Writes the report of the study in `studyDir`; returns the path of report.html. */
export async function writeReport(
  studyDir: string,
  results?: StudyResults,
  metrics: MetricTable = STABILITY_METRICS,
): Promise<string> {
  const r = results ?? readResults(studyDir);
  const figDir = path.join(studyDir, FIGURES_DIR);
  const figures = allFigures(r, metrics);
  checkOwnedFiles(studyDir, { [REPORT_FILE]: husaiHtml }, '`husai report`');
  const figFiles = figures.flatMap(
    (f) =>
      [
        [`${f.name}.svg`, husaiSvg],
        [`${f.name}.png`, husaiPng],
      ] as const,
  );
  checkOwnedFiles(figDir, Object.fromEntries(figFiles), '`husai report`');
  fs.mkdirSync(figDir, { recursive: true });
  const rendered: RenderedFigure[] = [];
  for (const f of figures) {
    const svg = await figureSvg(f);
    const png = new Resvg(svg, {
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
      background: 'white',
    })
      .render()
      .asPng();
    writeFileAtomic(path.join(figDir, `${f.name}.svg`), [Buffer.from(markSvg(svg), 'utf8')]);
    writeFileAtomic(path.join(figDir, `${f.name}.png`), [markPng(png, crc32)]);
    rendered.push({ ...f, svg });
  }
  const out = path.join(studyDir, REPORT_FILE);
  writeFileAtomic(out, [Buffer.from(renderPage(r, rendered, metrics), 'utf8')]);
  return out;
}
