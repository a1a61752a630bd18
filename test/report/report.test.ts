/**
 * The study report: written from a real (tiny) study, opened in Debian's Chromium through
 * playwright-core (issue 5: no console errors, every figure shown), plus escaping, the verdict
 * rule and results.json validation.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { allFigures } from '../../src/report/charts.js';
import { verdict } from '../../src/report/format.js';
import { readResults, writeReport } from '../../src/report/index.js';
import { renderPage } from '../../src/report/page.js';
import type { StabilityStat, StudyResults } from '../../src/study/results.js';
import { runStudy } from '../../src/study/study.js';
import { tinySpecText, tmpDir, writeSpec } from '../study/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
let dir: string;
let results: StudyResults;
let reportPath: string;

beforeAll(async () => {
  dir = tmpDir('husai-report-');
  const spec = writeSpec(dir, tinySpecText());
  const out = await runStudy(spec, { out: path.join(dir, 'study'), report: writeReport });
  results = out.results!;
  reportPath = out.reportPath!;
}, 120_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('writeReport(studyDir, results)', () => {
  it('writes report.html with the question, every cell with its null, and each figure as inline SVG, SVG file and PNG file', () => {
    const html = fs.readFileSync(reportPath, 'utf8');
    expect(html).toContain(results.study.question);
    for (const c of results.cells) {
      expect(html).toContain(c.label);
      expect(html).toContain(`${c.pwmcc.nullRandom.mean!.toFixed(3)} ± `);
    }
    const figs = allFigures(results);
    expect(figs.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'seed-heatmaps',
        'stability-vs-width',
        'stability-vs-steps',
        'matched-cosines',
        'present-in-seeds',
        'atom-maps',
        'frontier',
      ]),
    );
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(figs.length);
    for (const f of figs) {
      expect(fs.readFileSync(path.join(path.dirname(reportPath), 'figures', `${f.name}.svg`), 'utf8')).toMatch(/^<svg/);
      const png = fs.readFileSync(path.join(path.dirname(reportPath), 'figures', `${f.name}.png`));
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    }
  });

  it('references no external resource (works offline)', () => {
    const html = fs.readFileSync(reportPath, 'utf8');
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<script/i);
  });

  it('opens in headless Chromium with no console errors and every figure visible', async () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} (Debian package chromium; .ci/run installs it)`).toBe(true);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      await page.goto(`file://${reportPath}`);
      expect(errors).toEqual([]);
      const figs = await page.$$eval('figure .fig svg', (els) =>
        els.map((e) => {
          const b = e.getBoundingClientRect();
          return { w: b.width, h: b.height, marks: e.querySelectorAll('path, rect, text').length };
        }),
      );
      expect(figs.length).toBe(allFigures(results).length);
      for (const f of figs) {
        expect(f.w).toBeGreaterThan(100);
        expect(f.h).toBeGreaterThan(50);
        expect(f.marks).toBeGreaterThan(5);
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe('renderPage(results, figures)', () => {
  it('escapes a study name and question that contain HTML', () => {
    const evil = {
      ...results,
      study: { ...results.study, name: '<script>alert(1)</script>', question: '"><img src=x onerror=alert(1)>' },
    };
    const html = renderPage(evil, []);
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('verdict(stat)', () => {
  const stat = (lo: number, nullMean: number, nullSd: number, pHolm: number): StabilityStat => ({
    matrix: [],
    estimate: { mean: lo + 0.05, lo, hi: lo + 0.1, n: 10 },
    nullRandom: { kind: 'random', mean: nullMean, sd: nullSd, draws: 10 },
    nullUntrained: null,
    excess: null,
    ratio: null,
    p: pHolm,
    pHolm,
    cohensD: null,
  });
  it('is "above chance" only when the CI clears null + 2 sd and Holm p < 0.05', () => {
    expect(verdict(stat(0.5, 0.3, 0.01, 0.001))).toBe('above chance');
    expect(verdict(stat(0.31, 0.3, 0.01, 0.001))).toBe('indistinguishable from chance'); // inside 2 sd
    expect(verdict(stat(0.5, 0.3, 0.01, 0.2))).toBe('indistinguishable from chance'); // test does not reject
    expect(verdict({ ...stat(0.5, 0.3, 0.01, 0.001), pHolm: null })).toBe('not enough seeds');
    expect(
      verdict({ ...stat(0.5, 0.3, 0.01, 0.001), nullRandom: { kind: 'random', mean: 0.3, sd: null, draws: 1 } }),
    ).toBe('not enough seeds');
  });
});

describe('readResults(dir)', () => {
  it('rejects a results.json of another format, naming the file and the field', () => {
    const bad = tmpDir('husai-report-bad-');
    try {
      fs.writeFileSync(path.join(bad, 'results.json'), JSON.stringify({ format: 'something-else/2' }));
      expect(() => readResults(bad)).toThrow(DataError);
      expect(() => readResults(bad)).toThrow(
        /results\.json: format: found "something-else\/2", expected "husai-study-results\/1"/,
      );
      fs.writeFileSync(path.join(bad, 'results.json'), '{"format": ');
      expect(() => readResults(bad)).toThrow(/results\.json: content: found invalid JSON/);
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});
