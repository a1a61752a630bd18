/**
 * The page shell (report/shell.ts) and golden pages: the study report, feature cards and
 * universality pages rendered from small fixed inputs must equal the files in __golden__/ byte for
 * byte (a change to any page shows up as a diff there; `npx vitest run -u test/report/pages.test.ts`
 * rewrites them after a deliberate change — review the diff). Inputs: the husai 0.1.0 study's
 * results.json (test/fixtures/study-v0.1.0, fixed timestamps and versions), hand-made feature cards
 * and a two-SAE universality result. Every input carries a `<script>` in text that reaches the page,
 * which must come out escaped.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FeatureCards } from '../../src/inspect/cards-types.js';
import { matrixOfPair } from '../../src/inspect/universality-matrix.js';
import type { PairedSimilarity, UniversalityResult } from '../../src/inspect/universality-types.js';
import { renderCards } from '../../src/report/cards.js';
import { renderPage } from '../../src/report/page.js';
import { BASE_CSS, htmlPage } from '../../src/report/shell.js';
import { renderUniversality } from '../../src/report/universality.js';
import type { StudyResults } from '../../src/study/results.js';

const EVIL = `<script>alert("x")</script>`;
const FIXTURE = new URL('../fixtures/study-v0.1.0/study/results.json', import.meta.url);
const golden = (name: string): string => new URL(`./__golden__/${name}`, import.meta.url).pathname;

/** The markup a page must never contain: an unescaped script tag. */
function expectEscaped(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
}

function cardsInput(): FeatureCards {
  return {
    format: 'husai-feature-cards/1',
    kind: 'text',
    sae: { path: `/runs/sae ${EVIL}`, architecture: 'topk', dIn: 4, dSae: 8, k: 2 },
    acts: { path: '/acts', rows: 10, rowsScanned: 10, d: 4, config: null },
    selection: 'the 2 most frequently firing live latents',
    examplesPerLatent: 2,
    context: 1,
    patchCells: 1,
    live: 5,
    cards: [
      {
        latent: 3,
        fires: 4,
        firingRate: 0.4,
        maxActivation: 2.5,
        meanActivation: 1.25,
        examples: [
          {
            row: 7,
            activation: 2.5,
            fields: { doc: 0, offset: 1 },
            context: {
              doc: 0,
              title: `doc ${EVIL}`,
              tokens: ['a', EVIL, '\n'],
              ids: [1, 2, 3],
              active: 1,
              acts: [0, 2.5, null],
            },
          },
          { row: 2, activation: 0.75, fields: { doc: 1, offset: 0 } },
        ],
      },
      { latent: 5, fires: 0, firingRate: 0, maxActivation: 0, meanActivation: 0, examples: [] },
    ],
    warnings: [],
  };
}

function paired(scale: number): PairedSimilarity {
  return {
    n_pairs: 6,
    n_unique_b: 5,
    mean_corr_paired: 0.8 * scale,
    svcca: 0.7 * scale,
    svcca_dims_a: 3,
    svcca_dims_b: 3,
    svcca_null_mean: 0.2,
    svcca_null_sd: 0.05,
    svcca_p: 0.001,
    svcca_inputs_null_mean: 0.25,
    svcca_inputs_null_sd: 0.04,
    svcca_inputs_p: 0.002,
    rsa: 0.6 * scale,
    rsa_pairs: 15,
    rsa_null_mean: 0.01,
    rsa_null_sd: 0.1,
    rsa_p: 0.003,
    rsa_inputs_null_mean: 0.02,
    rsa_inputs_null_sd: 0.08,
    rsa_inputs_p: 0.004,
    inputs_null_draws: 5,
    n_pairs_inputs_null_mean: 2.5,
  };
}

function universalityInput(): UniversalityResult {
  return {
    a_sae: '/saes/a',
    a_acts: '/acts/a',
    b_sae: `/saes/${EVIL}`,
    b_acts: '/acts/b',
    rows: 100,
    d_a: 4,
    d_b: 4,
    m_a: 8,
    m_b: 8,
    dead_a: 1,
    dead_b: 0,
    min_corr: 0.3,
    draws: 20,
    corr_draws: 5,
    seed: 1,
    mean_corr: 0.75,
    mean_corr_ba: 0.7,
    corr_null_mean: 0.1,
    corr_null_sd: 0.02,
    corr_z: 30,
    corr_p: 0.0005,
    corr_ba_null_mean: 0.12,
    corr_ba_p: 0.0006,
    paired: paired(1),
    mean_corr_1to1: 0.6,
    corr_1to1_null_mean: 0.1,
    corr_1to1_null_sd: 0.02,
    corr_1to1_p: 0.001,
    paired_1to1: null,
    seconds: 1.5,
    warnings: [`pair warning ${EVIL}`],
  };
}

describe('htmlPage({title, css, sections})', () => {
  it('htmlPage({title: "<script>…", css, sections}) escapes the title, inlines BASE_CSS then css, and joins the non-empty sections', () => {
    const html = htmlPage({
      title: `t ${EVIL}`,
      css: '\np{color:red}',
      sections: ['<p>one</p>', '  ', '\n<p>two</p>\n'],
    });
    expectEscaped(html);
    expect(html).toContain(`<title>t &lt;script&gt;`);
    expect(html).toContain(`<style>\n${BASE_CSS}\np{color:red}</style>`);
    expect(html).toMatch(/^<!doctype html>\n<html lang="en"><head><meta charset="utf-8">/);
    expect(html).toContain('<body>\n<p>one</p>\n<p>two</p>\n</body></html>\n');
  });
});

describe('golden pages', () => {
  it('renderPage(results of study-v0.1.0, one figure) equals __golden__/report.html', async () => {
    const r = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as StudyResults;
    r.study.name = `${r.study.name} ${EVIL}`;
    r.study.question = `${r.study.question} ${EVIL}`;
    r.cards = cardsInput();
    const fig = {
      name: 'fig',
      title: `figure ${EVIL}`,
      caption: 'a caption',
      spec: {},
      svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="5" height="5"/></svg>',
    };
    const html = renderPage(r, [fig]);
    expectEscaped(html);
    await expect(html).toMatchFileSnapshot(golden('report.html'));
  });

  it('renderCards(text cards) equals __golden__/cards.html', async () => {
    const html = renderCards(cardsInput());
    expectEscaped(html);
    await expect(html).toMatchFileSnapshot(golden('cards.html'));
  });

  it('renderUniversality(matrixOfPair(a, b, result)) equals __golden__/universality.html', async () => {
    const html = await renderUniversality(matrixOfPair('a', `b ${EVIL}`, universalityInput()));
    expectEscaped(html);
    await expect(html).toMatchFileSnapshot(golden('universality.html'));
  }, 60_000);
});
