import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerCards } from '../../src/cli/cards.js';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { createEngine } from '../../src/engine/index.js';
import { writeNpy } from '../../src/formats/npy.js';
import type { ExtractedRows, ExtractionSource } from '../../src/models/extraction.js';
import { runExtraction } from '../../src/models/extract-writer.js';
import { renderCards, writeCardsReport } from '../../src/report/cards.js';
import { renderPage } from '../../src/report/page.js';
import { writeSaeLens } from '../../src/sae/checkpoint/index.js';
import { type FeatureCards, type FeatureCardsOptions, featureCards } from '../../src/inspect/cards.js';
import { runStudy } from '../../src/study/study.js';
import { readResults } from '../study/helpers.js';

/**
 * Fixtures: a ReLU SAE whose latent j reads one input coordinate (latent 0 = x0, 1 = x1, 2 = x2,
 * 3 = −x0), so every latent's activations, and hence its top rows, are known exactly; a vision-like
 * extraction (3 images 8×8 grey, a 4×4 feature grid: 48 token rows), a text-like one (two documents,
 * 17 token rows) and a modular-arithmetic file (p = 5, 25 rows), all with small exact values.
 */
const engine = createEngine('reference');
let dir: string;
let sae3: string;
let sae2: string;
let vision: string;
let text: string;
let modarith: string;

const IMG = { n: 3, h: 8, w: 8, grid: 4 };
const VISION_ROWS = IMG.n * IMG.grid * IMG.grid;
/** Vision row r: x0 = (7r mod 5) − 1, x1 = r / 4, x2 = 2.5 on row 5 only. */
function visionRow(r: number): number[] {
  return [((7 * r) % 5) - 1, r / 4, r === 5 ? 2.5 : 0];
}
const pixel = (i: number, y: number, x: number): number => (i * 64 + y * 8 + x) % 251;

/** Text: doc 0 has 10 tokens, doc 1 has 7; rows in document order. x0 peaks at doc 0 offset 5 and doc 1 offset 0. */
const DOCS = [
  { title: 'first <doc>', pieces: ['The', ' cat', ' sat', ' on', ' the', ' <b>&', ' mat', '.', '\n', ' It'] },
  { title: 'second', pieces: ['Dogs', ' bark', ' at', ' night', ' and', ' day', '.'] },
];
const X0_TEXT = [0, 0.5, 0, 1, 0, 4, 2, 0, 0, 1.5, 3.5, 0.25, 0, 3, 0, 0, 0];

function fakeSource(kind: 'vision' | 'text'): ExtractionSource {
  const units = kind === 'vision' ? IMG.n : X0_TEXT.length;
  const perUnit = kind === 'vision' ? IMG.grid * IMG.grid : 1;
  return {
    config: { source: `fake-${kind}` },
    d: kind === 'vision' ? 3 : 2,
    units,
    chunkUnits: kind === 'vision' ? 1 : 3,
    async extract(start: number, end: number): Promise<ExtractedRows> {
      const n = (end - start) * perUnit;
      if (kind === 'vision') {
        const data = new Float32Array(n * 3);
        const cols = { image: new Int32Array(n), label: new Int32Array(n), y: new Int32Array(n), x: new Int32Array(n) };
        for (let i = 0; i < n; i++) {
          const r = start * perUnit + i;
          data.set(visionRow(r), i * 3);
          const p = r % perUnit;
          cols.image[i] = Math.floor(r / perUnit);
          cols.label[i] = cols.image[i] % 2;
          cols.y[i] = Math.floor(p / IMG.grid);
          cols.x[i] = p % IMG.grid;
        }
        return { xND: { data, rows: n, cols: 3 }, rows: cols };
      }
      const data = new Float32Array(n * 2);
      const cols = {
        doc: new Int32Array(n),
        position: new Int32Array(n),
        offset: new Int32Array(n),
        token: new Int32Array(n),
      };
      for (let i = 0; i < n; i++) {
        const r = start + i;
        data[i * 2] = X0_TEXT[r];
        data[i * 2 + 1] = r % 3 === 0 ? 1 : 0;
        const doc = r < 10 ? 0 : 1;
        cols.doc[i] = doc;
        cols.offset[i] = doc === 0 ? r : r - 10;
        cols.position[i] = cols.offset[i] + 1;
        cols.token[i] = 100 + r;
      }
      return { xND: { data, rows: n, cols: 2 }, rows: cols };
    },
    async sidecars(): Promise<Record<string, Uint8Array>> {
      if (kind === 'vision') {
        const px = new Uint8Array(IMG.n * IMG.h * IMG.w);
        for (let i = 0; i < IMG.n; i++)
          for (let y = 0; y < IMG.h; y++)
            for (let x = 0; x < IMG.w; x++) px[(i * IMG.h + y) * IMG.w + x] = pixel(i, y, x);
        const info = {
          format: 'husai-images',
          version: 1,
          file: 'images.u8',
          dtype: 'uint8',
          shape: [IMG.n, IMG.h, IMG.w, 1],
          classes: ['zero', 'one'],
          labels: [0, 1, 0],
          layer_grid: [IMG.grid, IMG.grid],
        };
        return { 'images.u8': px, 'images.json': new TextEncoder().encode(JSON.stringify(info)) };
      }
      let id = 100;
      const docs = DOCS.map((d, doc) => ({ doc, title: d.title, ids: d.pieces.map(() => id++), pieces: d.pieces }));
      return {
        'tokens.json': new TextEncoder().encode(
          JSON.stringify({ format: 'husai-tokens/1', tokenizer: 'fake', text: 'fake', bos: true, bos_id: 0, docs }),
        ),
      };
    },
    async close() {},
  };
}

/** ReLU SAE, d_sae = 4: latent j < d reads x_j, latent 3 reads −x0 (needs d ≥ 1). */
function writeSae(out: string, d: number): void {
  const M = 4;
  const wEnc = new Float32Array(d * M);
  for (let j = 0; j < Math.min(d, 3); j++) wEnc[j * M + j] = 1;
  wEnc[0 * M + 3] = -1;
  const wDec = new Float32Array(M * d);
  for (let j = 0; j < Math.min(d, 3); j++) wDec[j * d + j] = 1;
  writeSaeLens(out, {
    architecture: 'standard',
    dIn: d,
    dSae: M,
    tensors: {
      W_enc: { shape: [d, M], data: wEnc },
      W_dec: { shape: [M, d], data: wDec },
      b_enc: { shape: [M], data: new Float32Array(M) },
      b_dec: { shape: [d], data: new Float32Array(d) },
    },
  });
}

/** Latent j's activation on a row x under the fixture SAE. */
const act = (x: number[], j: number): number => Math.max(0, j === 3 ? -x[0] : (x[j] ?? 0));

/** The slow twin: every (activation, row) of latent j, sorted as cards sort them. */
function bruteTop(rowsX: number[][], j: number, k: number): Array<{ row: number; activation: number }> {
  return rowsX
    .map((x, row) => ({ row, activation: act(x, j) }))
    .filter((e) => e.activation > 0)
    .sort((a, b) => b.activation - a.activation || a.row - b.row)
    .slice(0, k);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-cards-'));
  sae3 = path.join(dir, 'sae3');
  sae2 = path.join(dir, 'sae2');
  writeSae(sae3, 3);
  writeSae(sae2, 2);
  vision = path.join(dir, 'vision');
  text = path.join(dir, 'text');
  await runExtraction(fakeSource('vision'), vision, { shardUnits: 2 }); // shards of 32 and 16 rows
  await runExtraction(fakeSource('text'), text, { shardUnits: 6 }); // shards of 6, 6, 5 rows
  modarith = path.join(dir, 'modarith.npy');
  const data = new Float32Array(25 * 2);
  for (let i = 0; i < 25; i++) {
    data[i * 2] = (Math.floor(i / 5) + (i % 5)) % 5;
    data[i * 2 + 1] = i === 7 ? 1 : 0;
  }
  writeNpy(modarith, { data, rows: 25, cols: 2 });
  fs.writeFileSync(
    `${modarith}.meta.json`,
    JSON.stringify({
      format: 'husai-modarith-activations',
      hook: 'resid_post',
      layer: 0,
      position: '=',
      p: 5,
      task: 'add',
      model_dir: '/m',
      model_sha256: 'x',
      rows: 25,
      d: 2,
      a: Array.from({ length: 25 }, (_, i) => Math.floor(i / 5)),
      b: Array.from({ length: 25 }, (_, i) => i % 5),
      positions: new Array(25).fill(2),
    }),
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const cards = (sae: string, acts: string, o: FeatureCardsOptions = {}): FeatureCards =>
  featureCards(sae, acts, { engine, ...o });

/** Decodes an RGB PNG data URI written by formats/png.ts (filter 0 only). */
function decodePng(uri: string): { width: number; height: number; rgb: Uint8Array } {
  const buf = Buffer.from(uri.replace(/^data:image\/png;base64,/, ''), 'base64');
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  expect(buf[25]).toBe(2); // RGB
  const idatLen = buf.readUInt32BE(33);
  expect(buf.toString('latin1', 37, 41)).toBe('IDAT');
  const raw = zlib.inflateSync(buf.subarray(41, 41 + idatLen));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    rgb.set(raw.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  return { width, height, rgb };
}

describe('featureCards(saeDir, shardFolder) on a vision extraction', () => {
  const rowsX = Array.from({ length: VISION_ROWS }, (_, r) => visionRow(r));

  it('cards the most frequently firing live latents by default, with exact rates, maxima and top rows', () => {
    const fc = cards(sae3, vision);
    expect(fc.format).toBe('husai-feature-cards/1');
    expect(fc.kind).toBe('vision');
    expect(fc.acts).toMatchObject({ rows: 48, rowsScanned: 48, d: 3 });
    // fires: latent 1 on rows 1..47 (47), latent 0 where 7r mod 5 ∈ {2,3,4} (29), latent 3 where it is 0 (10), latent 2 once.
    expect(fc.cards.map((c) => [c.latent, c.fires])).toEqual([
      [1, 47],
      [0, 29],
      [3, 10],
      [2, 1],
    ]);
    expect(fc.live).toBe(4);
    for (const c of fc.cards) {
      const all = rowsX.map((x) => act(x, c.latent)).filter((v) => v > 0);
      expect(c.firingRate).toBeCloseTo(all.length / 48, 12);
      expect(c.maxActivation).toBe(Math.max(...all));
      expect(c.meanActivation).toBeCloseTo(all.reduce((a, b) => a + b, 0) / all.length, 6);
      expect(c.examples.map((e) => ({ row: e.row, activation: e.activation }))).toEqual(bruteTop(rowsX, c.latent, 12));
    }
  });

  it('orders ties by the lower row: latent 0 top 6 = rows 2, 7, 12, 17, 22, 27 (all 3)', () => {
    const c = cards(sae3, vision, { latents: [0], examples: 6 }).cards[0];
    expect(c.examples.map((e) => [e.row, e.activation])).toEqual([
      [2, 3],
      [7, 3],
      [12, 3],
      [17, 3],
      [22, 3],
      [27, 3],
    ]);
  });

  it('attaches the row columns and an image patch: the window ±1 cell around (y, x), upscaled, the region outlined', () => {
    // Latent 2 fires only on row 5: image 0, position 5 → y 1, x 1 → region rows/cols [2, 4), window [0, 6).
    const fc = cards(sae3, vision, { latents: [2] });
    const [ex] = fc.cards[0].examples;
    expect(ex).toMatchObject({ row: 5, activation: 2.5, fields: { image: 0, label: 0, y: 1, x: 1 } });
    const im = ex.image!;
    expect(im).toMatchObject({ window: [0, 0, 6, 6], region: [2, 2, 4, 4], width: 96, height: 96, className: 'zero' });
    const png = decodePng(im.png);
    expect([png.width, png.height]).toEqual([96, 96]);
    const at = (y: number, x: number): number[] => [...png.rgb.subarray((y * 96 + x) * 3, (y * 96 + x) * 3 + 3)];
    // scale 16: image pixel (py, px) fills output [16py, 16py+16); the region [2, 4) is output [32, 64).
    expect(at(0, 0)).toEqual([pixel(0, 0, 0), pixel(0, 0, 0), pixel(0, 0, 0)]);
    expect(at(95, 80)).toEqual(new Array(3).fill(pixel(0, 5, 5)));
    expect(at(40, 40)).toEqual(new Array(3).fill(pixel(0, 2, 2))); // inside the outline
    for (const [y, x] of [
      [32, 40],
      [33, 40],
      [63, 40],
      [40, 32],
      [40, 63],
    ])
      expect(at(y, x)).toEqual([255, 48, 48]);
    expect(at(34, 40)).toEqual(new Array(3).fill(pixel(0, 2, 2)));
    expect(at(31, 40)).toEqual(new Array(3).fill(pixel(0, 1, 2))); // just outside
  });

  it('clips the window at the image border: a corner token shows [0, 4) × [0, 4)', () => {
    // Latent 3 (−x0) fires with 1 on rows where 7r mod 5 = 0: row 0 is image 0, y 0, x 0.
    const ex = cards(sae3, vision, { latents: [3], examples: 1 }).cards[0].examples[0];
    expect(ex.row).toBe(0);
    expect(ex.image).toMatchObject({ window: [0, 0, 4, 4], region: [0, 0, 2, 2], width: 96, height: 96 });
    expect(decodePng(ex.image!.png).width).toBe(96);
  });

  it('gives the same cards whatever chunkRows (1, 5, 7, 1000) and reads across shard boundaries', () => {
    const ref = JSON.stringify(cards(sae3, vision, { chunkRows: 1000 }));
    for (const chunkRows of [1, 5, 7]) expect(JSON.stringify(cards(sae3, vision, { chunkRows }))).toBe(ref);
  });

  it('maxRows scans only the first rows', () => {
    const fc = cards(sae3, vision, { maxRows: 20, latents: [1], examples: 3 });
    expect(fc.acts.rowsScanned).toBe(20);
    expect(fc.cards[0]).toMatchObject({ fires: 19, firingRate: 19 / 20, maxActivation: 19 / 4 });
    expect(fc.cards[0].examples.map((e) => e.row)).toEqual([19, 18, 17]);
  });

  it('topLatents caps the number of cards; a dead latent asked for by name gets an empty card', () => {
    expect(cards(sae3, vision, { topLatents: 2 }).cards.map((c) => c.latent)).toEqual([1, 0]);
    const fc = cards(sae3, vision, { latents: [2, 3], maxRows: 5 });
    expect(fc.cards.map((c) => [c.latent, c.fires, c.maxActivation, c.examples.length])).toEqual([
      [2, 0, 0, 0],
      [3, 1, 1, 1],
    ]);
    expect(fc.live).toBe(3); // latents 0, 1 and 3 fire on rows 0..4
  });
});

describe('featureCards(saeDir, shardFolder) on a text extraction', () => {
  it("gives each example its token in a ±context window of its own document, with the latent's activation per token", () => {
    const fc = cards(sae2, text, { latents: [0], context: 3, examples: 3 });
    expect(fc.kind).toBe('text');
    const [a, b, c] = fc.cards[0].examples;
    expect([a.row, a.activation, b.row, b.activation, c.row, c.activation]).toEqual([5, 4, 10, 3.5, 13, 3]);
    expect(a.fields).toEqual({ doc: 0, position: 6, offset: 5, token: 105 });
    expect(a.context).toEqual({
      doc: 0,
      title: 'first <doc>',
      tokens: [' sat', ' on', ' the', ' <b>&', ' mat', '.', '\n'],
      ids: [102, 103, 104, 105, 106, 107, 108],
      active: 3,
      acts: [0, 1, 0, 4, 2, 0, 0],
    });
    // Row 10 opens doc 1: the context stops at the document start (row 9 is doc 0's last token).
    expect(b.context).toMatchObject({
      doc: 1,
      tokens: ['Dogs', ' bark', ' at', ' night'],
      active: 0,
      acts: [3.5, 0.25, 0, 3],
    });
  });

  it('marks context tokens beyond maxRows as not scanned (null)', () => {
    const fc = cards(sae2, text, { latents: [0], context: 3, examples: 2, maxRows: 12 });
    expect(fc.cards[0].examples.map((e) => e.row)).toEqual([5, 10]);
    expect(fc.cards[0].examples[1].context!.acts).toEqual([3.5, 0.25, null, null]);
  });

  it('gives the same text cards whatever chunkRows (1, 4, 100)', () => {
    const ref = JSON.stringify(cards(sae2, text, { chunkRows: 100 }));
    for (const chunkRows of [1, 4]) expect(JSON.stringify(cards(sae2, text, { chunkRows }))).toBe(ref);
  });
});

describe('featureCards(saeDir, file.npy) with a modular-arithmetic FILE.meta.json', () => {
  it('gives each example its (a, b) pair', () => {
    const fc = cards(sae2, modarith, { latents: [0], examples: 5 });
    expect(fc.kind).toBe('modarith');
    expect(fc.acts.config).toMatchObject({ hook: 'resid_post', p: 5 });
    expect(fc.cards[0].examples.map((e) => [e.row, e.activation, e.fields.a, e.fields.b])).toEqual([
      [4, 4, 0, 4],
      [8, 4, 1, 3],
      [12, 4, 2, 2],
      [16, 4, 3, 1],
      [20, 4, 4, 0],
    ]);
    expect(fc.cards[0].fires).toBe(20);
  });

  it('gives row indices only for a plain .npy without a sidecar', () => {
    const plain = path.join(dir, 'plain.npy');
    fs.copyFileSync(modarith, plain);
    const fc = cards(sae2, plain, { latents: [1] });
    expect(fc.kind).toBe('rows');
    expect(fc.cards[0].examples).toEqual([{ row: 7, activation: 1, fields: {} }]);
  });
});

describe('featureCards errors', () => {
  it('refuses a folder without meta.json, naming it', () => {
    const bare = path.join(dir, 'bare');
    fs.mkdirSync(bare, { recursive: true });
    writeNpy(path.join(bare, 'shard_00000.npy'), { data: new Float32Array(6), rows: 2, cols: 3 });
    expect(() => cards(sae3, bare)).toThrow(DataError);
    expect(() => cards(sae3, bare)).toThrow(`${path.join(bare, 'meta.json')}: meta.json: found missing`);
  });

  it("refuses an SAE whose d_in is not the activations' width, naming both", () => {
    const err = (() => {
      try {
        cards(sae2, vision);
      } catch (e) {
        return e as DataError;
      }
      throw new Error('no error');
    })();
    expect(err).toBeInstanceOf(DataError);
    expect(err.file).toBe(vision);
    expect(err.found).toBe('3');
    expect(err.expected).toContain(`2, the d_in of the SAE at ${sae2}`);
  });

  it('refuses latents outside [0, d_sae), both latents and topLatents, and bad counts', () => {
    expect(() => cards(sae3, vision, { latents: [4] })).toThrow(ConfigError);
    expect(() => cards(sae3, vision, { latents: [4] })).toThrow(/latent 4 does not exist.*latents 0..3 \(d_sae = 4\)/);
    expect(() => cards(sae3, vision, { latents: [0], topLatents: 2 })).toThrow(/not both/);
    expect(() => cards(sae3, vision, { examples: 0 })).toThrow(/examples = 0: expected an integer ≥ 1/);
    expect(() => cards(sae3, path.join(dir, 'nothing'))).toThrow(/nothing there/);
  });
});

describe('renderCards(featureCards) and husai cards', () => {
  it('renders one card per latent, inline PNGs, escaped text and no script', () => {
    const html = renderCards(cards(sae3, vision, { examples: 2 }));
    expect(html.match(/<article class="card"/g)).toHaveLength(4);
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(7); // latent 2 has one example
    expect(html).not.toMatch(/<script|https?:\/\//);
    const t = renderCards(cards(sae2, text, { latents: [0], context: 2 }));
    expect(t).toContain('&lt;b&gt;&amp;');
    expect(t).toContain('first &lt;doc&gt;');
    expect(t).not.toContain('<b>&');
    expect(t).toMatch(/<span class="tk on" style="background:rgba\(255,140,0,0\.800\)"[^>]*> &lt;b&gt;&amp;<\/span>/);
    expect(renderCards(cards(sae2, modarith, { latents: [0], examples: 1 }))).toContain('<td>2 (=)</td>');
  });

  it('writeCardsReport writes cards.json that parses back to the same cards', () => {
    const fc = cards(sae2, text, { topLatents: 1 });
    const out = writeCardsReport(path.join(dir, 'report'), fc);
    expect(JSON.parse(fs.readFileSync(out.json, 'utf8'))).toEqual(fc);
    expect(fs.readFileSync(out.html, 'utf8')).toContain('id="latent-0"');
  });

  it('husai cards --sae --acts --latents --out writes both files and prints a line per latent', async () => {
    const program = new Command().exitOverride();
    registerCards(program);
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void lines.push(s));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await program.parseAsync(
        [
          'cards',
          '--sae',
          sae3,
          '--acts',
          vision,
          '--latents',
          '2,0',
          '--examples',
          '3',
          '--out',
          path.join(dir, 'cli'),
        ],
        { from: 'user' },
      );
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(fs.existsSync(path.join(dir, 'cli', 'cards.html'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'cli', 'cards.json'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('latent '))).toEqual([
      `latent     2  fires   2.08% (1)  max 2.500  top: 2.50 img 0 (zero) y1 x1`,
      `latent     0  fires  60.42% (29)  max 3.000  top: 3.00 img 0 (zero) y0 x2; 3.00 img 0 (zero) y1 x3; 3.00 img 0 (zero) y3 x0`,
    ]);
  });
});

describe('a study on a husai extract folder', () => {
  it("attaches the first cell's seed-0 cards to results.json and the report page", async () => {
    const spec = path.join(dir, 'study.yaml');
    fs.writeFileSync(
      spec,
      `name: cards
question: do studies on extraction folders carry feature cards?
data: { kind: file, path: vision }
defaults: { arch: relu, l1: 0.01, steps: 20, batch_size: 16 }
grid: { width: [4], seed: [0, 1] }
analyses: [stability]
null_draws: 10
eval_rows: 48
`,
    );
    const out = path.join(dir, 'study');
    await runStudy(spec, { out, report: null });
    const r = readResults(out);
    expect(r.cards).toMatchObject({ kind: 'vision', acts: { path: vision, rowsScanned: 48 } });
    expect(r.cards!.sae.path).toBe(path.join(out, r.runs.find((x) => x.seed === 0)!.dir));
    expect(renderPage(r, [])).toContain('<section class="cards" id="feature-cards">');
  });
});
