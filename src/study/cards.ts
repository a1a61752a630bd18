/**
 * Feature cards (issue 7, item 5): for chosen latents of an SAE, their top-activating rows of an
 * activation set, with what each row is — the image patch under a vision token (or the whole image
 * of a pooled row), the token in its text context, the (a, b) pair of a modular-arithmetic input —
 * in the style of the feature dashboards of Bricken et al. 2023 ("Towards Monosemanticity").
 *
 * One streaming pass: rows are read in order, `chunkRows` at a time (data/shards.ts readers),
 * encoded with the SAE's own inference rule (sae/checkpoint/encode.ts), and every latent keeps its
 * firing count, maximum and a bounded min-heap of its `examples` best rows — so memory is
 * chunkRows × d_sae floats plus d_sae × examples entries, whatever the row count. Order of examples:
 * activation descending, ties by the lower row; a latent "fires" on a row when its activation is > 0.
 * Which latents (when no explicit list): the `topLatents` most frequently firing live latents, ties
 * by the lower index — the ones a reader meets most often, where a card is most informative.
 * Text contexts carry the latent's activation on every neighbouring token (a second, small read of
 * just those rows), as dashboards shade them.
 *
 * Row metadata: a shard folder written by `husai extract` (models/extract-writer.ts: meta.json,
 * per-shard .rows.json, sidecars images.u8 + images.json for vision, tokens.json for text); a single
 * .npy/.safetensors file with a modular-arithmetic FILE.meta.json (models/modarith/extract.ts); or a
 * plain file (row indices only).
 *
 * Letters: N rows in a chunk, D d_in, M d_sae, K examples per latent, L latents carded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, DataError, HusaiError } from '../core/errors.js';
import { findShards, type RowReader, type ShardSet } from '../data/shards.js';
import { type Engine, getEngine } from '../engine/index.js';
import { pngDataUri } from '../formats/png.js';
import { ACTIVATIONS_FORMAT, type ExtractionMeta, readExtractionMeta, readShardRowColumns } from '../models/extract-writer.js';
import type { RowColumns } from '../models/extraction.js';
import { readActivationMeta } from '../models/modarith/extract.js';
import { encodeLatents } from '../sae/checkpoint/encode.js';
import { loadSae } from '../sae/checkpoint/index.js';
import type { AnalysisData } from './data.js';
import type { ResolvedRun } from './expand.js';
import type { StudyStore } from './store.js';

export const CARDS_FORMAT = 'husai-feature-cards/1';

export interface FeatureCardsOptions {
  /** Latents to card, in this order (default: chosen by `topLatents`). */
  latents?: number[];
  /** Card the N most frequently firing live latents (default 16); not with `latents`. */
  topLatents?: number;
  /** Top rows per latent (default 12). */
  examples?: number;
  /** Scan only the first N rows (default all). */
  maxRows?: number;
  /** Text: tokens shown on each side of the active token (default 8). */
  context?: number;
  /** Vision: feature-map cells shown on each side of a token's cell (default 1). */
  patchCells?: number;
  /** Rows encoded at once (default min(4096, 2²² / d_sae)); results do not depend on it. */
  chunkRows?: number;
  /** Default: the process engine. */
  engine?: Engine;
  onProgress?: (doneRows: number, totalRows: number) => void;
}

export type CardsKind = 'vision' | 'text' | 'modarith' | 'rows';

/** A vision example's picture: the window around the row's region, upscaled, the region outlined. */
export interface ImagePatch {
  /** data:image/png;base64 URI (RGB). */
  png: string;
  width: number;
  height: number;
  /** The window shown, in image pixels: [y0, x0, y1, x1). */
  window: [number, number, number, number];
  /** The region the token sits over, in image pixels [y0, x0, y1, x1), or null for a pooled row (the whole image). */
  region: [number, number, number, number] | null;
  className: string | null;
}

/** A text example's context: ±`context` tokens of its document around the active one. */
export interface TokenContext {
  doc: number;
  title: string;
  tokens: string[];
  ids: number[];
  /** Index of the example's token in `tokens`. */
  active: number;
  /** The latent's activation on each context token; null where that token has no scanned row. */
  acts: Array<number | null>;
}

export interface CardExample {
  row: number;
  activation: number;
  /** The row's provenance columns: image, label, y, x | doc, position, offset, token | a, b, position. */
  fields: Record<string, number>;
  image?: ImagePatch;
  context?: TokenContext;
}

export interface FeatureCard {
  latent: number;
  /** Rows where the latent is > 0, of those scanned. */
  fires: number;
  firingRate: number;
  /** 0 for a latent that never fires. */
  maxActivation: number;
  /** Mean activation over the rows where it fires (0 when it never does). */
  meanActivation: number;
  examples: CardExample[];
}

export interface FeatureCards {
  format: typeof CARDS_FORMAT;
  kind: CardsKind;
  sae: { path: string; architecture: string; dIn: number; dSae: number; k: number | null };
  acts: { path: string; rows: number; rowsScanned: number; d: number; config: Record<string, unknown> | null };
  /** How the latents were chosen, in words. */
  selection: string;
  examplesPerLatent: number;
  context: number;
  patchCells: number;
  /** Latents that fire at least once on the scanned rows. */
  live: number;
  cards: FeatureCard[];
  warnings: string[];
}

/** Cards for latents of the SAE at `saeDir` on the activations at `actsPath` (see the file header). */
export function featureCards(saeDir: string, actsPath: string, opts: FeatureCardsOptions = {}): FeatureCards {
  const w = loadSae(saeDir);
  const M = w.dSae;
  const K = intOpt('examples', opts.examples, 12, 1);
  const ctx = intOpt('context', opts.context, 8, 0);
  const cells = intOpt('patchCells', opts.patchCells, 1, 0);
  if (opts.latents !== undefined && opts.topLatents !== undefined) throw new ConfigError('feature cards: give either latents (--latents) or topLatents (--top), not both');
  const top = intOpt('topLatents', opts.topLatents, 16, 1);
  for (const j of opts.latents ?? []) {
    if (!Number.isInteger(j) || j < 0 || j >= M) throw new ConfigError(`feature cards: latent ${j} does not exist: the SAE at ${saeDir} has latents 0..${M - 1} (d_sae = ${M})`);
  }
  if (opts.latents !== undefined && opts.latents.length === 0) throw new ConfigError('feature cards: latents is empty: list at least one latent');
  const rows = new RowStore(actsPath);
  try {
    if (rows.set.d !== w.dIn) {
      throw new DataError(actsPath, 'd (columns)', String(rows.set.d), `${w.dIn}, the d_in of the SAE at ${saeDir} (d_sae = ${M})`, 'encode activations of the layer this SAE was trained on');
    }
    const total = opts.maxRows === undefined ? rows.set.rows : Math.min(rows.set.rows, intOpt('maxRows', opts.maxRows, 0, 1));
    const chunk = intOpt('chunkRows', opts.chunkRows, Math.max(1, Math.min(4096, Math.floor(4_194_304 / M))), 1);
    const e = opts.engine ?? getEngine();

    // The pass: firing counts, maxima, sums and a min-heap of K (activation, row) per latent.
    const fires = new Float64Array(M);
    const sums = new Float64Array(M);
    const maxs = new Float32Array(M);
    const heap = new TopK(M, K);
    const xND = new Float32Array(chunk * w.dIn);
    opts.onProgress?.(0, total);
    for (let start = 0; start < total; start += chunk) {
      const n = Math.min(chunk, total - start);
      rows.read(start, n, xND);
      const f = encodeLatents(w, { data: xND.subarray(0, n * w.dIn), rows: n, cols: w.dIn }, e).data;
      for (let i = 0; i < n; i++) {
        for (let m = 0, o = i * M; m < M; m++) {
          const v = f[o + m];
          if (!(v > 0)) continue;
          fires[m]++;
          sums[m] += v;
          if (v > maxs[m]) maxs[m] = v;
          heap.offer(m, v, start + i);
        }
      }
      opts.onProgress?.(start + n, total);
    }

    let live = 0;
    for (let m = 0; m < M; m++) if (fires[m] > 0) live++;
    let chosen: number[];
    let selection: string;
    if (opts.latents !== undefined) {
      chosen = [...new Set(opts.latents)];
      selection = `latents given: ${chosen.join(', ')}`;
    } else {
      chosen = Array.from({ length: M }, (_, m) => m).filter((m) => fires[m] > 0).sort((a, b) => fires[b] - fires[a] || a - b).slice(0, top);
      selection = `the ${chosen.length} most frequently firing live latents (of ${live} live; ${top} asked), ties by lower index`;
    }

    const cards: FeatureCard[] = chosen.map((m) => ({
      latent: m, fires: fires[m], firingRate: total > 0 ? fires[m] / total : 0, maxActivation: maxs[m],
      meanActivation: fires[m] > 0 ? sums[m] / fires[m] : 0,
      examples: heap.sorted(m).map(([activation, row]) => ({ row, activation, fields: rows.fields(row) })),
    }));
    const warnings = [...rows.set.warnings];
    if (rows.kind === 'vision') decorateVision(rows, cards, cells, warnings);
    if (rows.kind === 'text') decorateText(rows, cards, ctx, total, chunk, (x) => encodeLatents(w, x, e).data, M, warnings);
    return {
      format: CARDS_FORMAT, kind: rows.kind,
      sae: { path: saeDir, architecture: w.architecture, dIn: w.dIn, dSae: M, k: w.k ?? null },
      acts: { path: actsPath, rows: rows.set.rows, rowsScanned: total, d: rows.set.d, config: rows.config },
      selection, examplesPerLatent: K, context: ctx, patchCells: cells, live, cards, warnings,
    };
  } finally {
    rows.close();
  }
}

/**
 * Cards for a study report: when the study's data is a shard folder written by `husai extract`, the
 * default cards of the lowest-seed finished run of cell `cellId` (the first cell); else null. A data
 * problem (e.g. a sidecar removed since) also gives null, so it never costs the study its results.
 */
export function studyCards(store: StudyStore, data: AnalysisData, runs: readonly ResolvedRun[], cellId: string | undefined, opts: FeatureCardsOptions = {}): FeatureCards | null {
  const specDir = store.getMeta('spec_dir');
  const rel = data.config.path;
  if (data.kind !== 'file' || specDir === null || typeof rel !== 'string' || cellId === undefined) return null;
  const acts = path.resolve(specDir, rel);
  const metaPath = path.join(acts, 'meta.json');
  try {
    if (!fs.statSync(acts).isDirectory() || JSON.parse(fs.readFileSync(metaPath, 'utf8')).format !== ACTIVATIONS_FORMAT) return null;
  } catch {
    return null;
  }
  const rows = new Map(store.runs().map((r) => [r.id, r]));
  const first = runs.filter((r) => r.cellId === cellId && rows.get(r.id)?.status === 'done')
    .sort((a, b) => a.identity.seed - b.identity.seed || a.identity.dataSeed - b.identity.dataSeed)[0];
  if (first === undefined) return null;
  try {
    return featureCards(path.join(store.dir, rows.get(first.id)!.dir), acts, opts);
  } catch (e) {
    if (e instanceof HusaiError) return null;
    throw e;
  }
}

function intOpt(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min) throw new ConfigError(`feature cards: ${name} = ${v}: expected an integer ≥ ${min}`);
  return v;
}

/** Per latent, the K best (activation, row) seen so far: a min-heap whose root is the worst kept. */
class TopK {
  private readonly act: Float32Array;
  private readonly row: Int32Array;
  private readonly size: Int32Array;
  constructor(m: number, private readonly k: number) {
    this.act = new Float32Array(m * k);
    this.row = new Int32Array(m * k);
    this.size = new Int32Array(m);
  }
  /** a at slot i is worse than at slot j: lower activation, or equal and a later row. */
  private worse(i: number, j: number): boolean {
    return this.act[i] < this.act[j] || (this.act[i] === this.act[j] && this.row[i] > this.row[j]);
  }
  private swap(i: number, j: number): void {
    const a = this.act[i]; this.act[i] = this.act[j]; this.act[j] = a;
    const r = this.row[i]; this.row[i] = this.row[j]; this.row[j] = r;
  }
  /** Rows arrive in increasing order, so an equal activation never displaces a kept row. */
  offer(m: number, v: number, row: number): void {
    const base = m * this.k;
    const n = this.size[m];
    if (n < this.k) {
      let i = n;
      this.act[base + i] = v;
      this.row[base + i] = row;
      this.size[m] = n + 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.worse(base + i, base + p)) break;
        this.swap(base + i, base + p);
        i = p;
      }
      return;
    }
    if (!(v > this.act[base])) return;
    this.act[base] = v;
    this.row[base] = row;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const c = l + 1 < n && this.worse(base + l + 1, base + l) ? l + 1 : l;
      if (!this.worse(base + c, base + i)) break;
      this.swap(base + c, base + i);
      i = c;
    }
  }
  /** Latent m's kept rows, best first. */
  sorted(m: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < this.size[m]; i++) out.push([this.act[m * this.k + i], this.row[m * this.k + i]]);
    return out.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  }
}

/** The activation set: ordered row reads over its shards, and each row's provenance. */
class RowStore {
  readonly set: ShardSet;
  readonly kind: CardsKind;
  readonly dir: string | null;
  readonly meta: ExtractionMeta | null;
  readonly config: Record<string, unknown> | null;
  private readonly starts: number[] = [0];
  private readonly readers = new Map<number, RowReader>();
  private readonly columns = new Map<number, RowColumns>();
  private readonly modarith: { a: number[]; b: number[]; positions: number[] } | null = null;

  constructor(actsPath: string) {
    if (!fs.existsSync(actsPath)) throw new DataError(actsPath, 'path', 'nothing there', 'a shard folder written by husai extract, or a .npy / .safetensors file');
    if (fs.statSync(actsPath).isDirectory()) {
      const metaPath = path.join(actsPath, 'meta.json');
      if (!fs.existsSync(metaPath)) {
        throw new DataError(metaPath, 'meta.json', 'missing', `a folder written by husai extract (meta.json with format "${ACTIVATIONS_FORMAT}" and per-row provenance)`,
          'cards need to know what each row is; for row indices only, pass a single .npy or .safetensors file');
      }
      this.dir = actsPath;
      this.meta = readExtractionMeta(actsPath);
      this.config = this.meta.config;
      this.set = findShards(actsPath);
      if (this.set.rows !== this.meta.rows) throw new DataError(metaPath, 'rows', String(this.meta.rows), `${this.set.rows}, the rows of the listed shards`);
      for (const r of this.meta.rows_per_shard) this.starts.push(this.starts[this.starts.length - 1] + r);
      const cols = Object.keys(this.meta.row_columns);
      const side = new Set(this.meta.sidecars);
      this.kind = side.has('images.json') && cols.includes('image') ? 'vision'
        : side.has('tokens.json') && cols.includes('doc') && cols.includes('offset') ? 'text'
          : cols.includes('a') && cols.includes('b') ? 'modarith' : 'rows';
    } else {
      this.dir = null;
      this.meta = null;
      this.set = findShards(actsPath);
      this.starts.push(this.set.rows);
      const m = readActivationMeta(actsPath);
      if (m !== null && m.rows !== this.set.rows) throw new DataError(`${actsPath}.meta.json`, 'rows', String(m.rows), `${this.set.rows}, the rows of ${actsPath}`);
      this.modarith = m;
      this.config = m === null ? null : { format: m.format, hook: m.hook, layer: m.layer, position: m.position, p: m.p, task: m.task, model_sha256: m.model_sha256 };
      this.kind = m === null ? 'rows' : 'modarith';
    }
    // Row lookups need the shard boundaries as data/shards.ts found them.
    const fromShards = [0];
    for (const s of this.set.shards) fromShards.push(fromShards[fromShards.length - 1] + s.rows);
    if (fromShards.join() !== this.starts.join()) {
      throw new DataError(path.join(actsPath, 'meta.json'), 'rows_per_shard', JSON.stringify(this.meta?.rows_per_shard), `${JSON.stringify(this.set.shards.map((s) => s.rows))} (the shards' row counts)`);
    }
  }

  private shardOf(row: number): number {
    let lo = 0;
    for (let hi = this.set.shards.length - 1; lo < hi; ) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Rows [start, start + n) in order, across shard boundaries, into out. */
  read(start: number, n: number, out: Float32Array): void {
    const d = this.set.d;
    for (let at = start; at < start + n; ) {
      const s = this.shardOf(at);
      const count = Math.min(start + n, this.starts[s + 1]) - at;
      let r = this.readers.get(s);
      if (r === undefined) {
        r = this.set.shards[s].open();
        this.readers.set(s, r);
      }
      r.readRows(at - this.starts[s], count, out.subarray((at - start) * d, (at - start + count) * d));
      at += count;
      for (const [k, old] of this.readers) if (k < s) { old.close(); this.readers.delete(k); } // streaming: earlier shards are done
    }
  }

  /** Row `row`'s provenance columns. */
  fields(row: number): Record<string, number> {
    if (this.modarith !== null) return { a: this.modarith.a[row], b: this.modarith.b[row], position: this.modarith.positions[row] };
    if (this.meta === null || this.dir === null) return {};
    const s = this.shardOf(row);
    let cols = this.columns.get(s);
    if (cols === undefined) {
      const shard = this.meta.shards[s];
      cols = readShardRowColumns(this.dir, shard);
      for (const name of Object.keys(this.meta.row_columns)) {
        const c = cols[name];
        if (c === undefined || c.length !== this.meta.rows_per_shard[s]) {
          throw new DataError(path.join(this.dir, shard.replace(/\.npy$/, '.rows.json')), `columns.${name}`, c === undefined ? 'missing' : `${c.length} values`, `${this.meta.rows_per_shard[s]} values`);
        }
      }
      this.columns.set(s, cols);
    }
    const out: Record<string, number> = {};
    for (const name of Object.keys(this.meta.row_columns)) out[name] = cols[name][row - this.starts[s]];
    return out;
  }

  close(): void {
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
  }
}

/** The `images.json` sidecar of models/vision/source.ts (format husai-images). */
interface ImagesInfo {
  shape: [number, number, number, number];
  classes?: string[];
  layer_grid?: [number, number];
  file: string;
}

function readImagesInfo(dir: string): ImagesInfo {
  const file = path.join(dir, 'images.json');
  let v: Partial<ImagesInfo> & { format?: unknown };
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(file, 'json', (e as Error).message, 'the images sidecar husai extract writes');
  }
  if (v.format !== 'husai-images') throw new DataError(file, 'format', JSON.stringify(v.format ?? null), '"husai-images"');
  const s = v.shape;
  if (!Array.isArray(s) || s.length !== 4 || !s.every((x) => Number.isInteger(x) && x > 0)) throw new DataError(file, 'shape', JSON.stringify(s), '[N, H, W, C], positive integers');
  const bin = path.join(dir, typeof v.file === 'string' ? v.file : 'images.u8');
  const bytes = fs.existsSync(bin) ? fs.statSync(bin).size : -1;
  if (bytes !== s[0] * s[1] * s[2] * s[3]) throw new DataError(bin, 'size', bytes < 0 ? 'missing' : `${bytes} bytes`, `${s[0] * s[1] * s[2] * s[3]} bytes (uint8 ${JSON.stringify(s)} in images.json)`);
  return { shape: s, classes: v.classes, layer_grid: v.layer_grid, file: bin };
}

/** [y0, x0, y1, x1) in image pixels. */
type Box = [number, number, number, number];

/** Longest side of a patch's PNG: small windows are upscaled (nearest) up to it, large ones shrunk. */
const PATCH_PX = 96;
const OUTLINE: [number, number, number] = [255, 48, 48];

function decorateVision(rows: RowStore, cards: FeatureCard[], cells: number, warnings: string[]): void {
  const info = readImagesInfo(rows.dir as string);
  const [N, H, W, C] = info.shape;
  const [Hf, Wf] = info.layer_grid ?? [1, 1];
  const fd = fs.openSync(info.file, 'r');
  try {
    const px = new Uint8Array(H * W * C);
    for (const ex of cards.flatMap((c) => c.examples)) {
      const { image, label, y, x } = ex.fields;
      if (!(image >= 0 && image < N)) {
        warnings.push(`row ${ex.row}: image ${image} is outside the ${N} images of images.json; no patch`);
        continue;
      }
      fs.readSync(fd, px, 0, px.length, image * px.length);
      const tok = y !== undefined && x !== undefined;
      // Feature-map cell i of f covers image pixels [i·n/f, (i+1)·n/f) along a side of n pixels.
      const lo = (i: number, n: number, f: number): number => Math.max(0, Math.floor((i * n) / f));
      const hi = (i: number, n: number, f: number): number => Math.min(n, Math.ceil(((i + 1) * n) / f));
      const region: Box | null = tok ? [lo(y, H, Hf), lo(x, W, Wf), hi(y, H, Hf), hi(x, W, Wf)] : null;
      const win: Box = tok ? [lo(y - cells, H, Hf), lo(x - cells, W, Wf), hi(y + cells, H, Hf), hi(x + cells, W, Wf)] : [0, 0, H, W];
      ex.image = { ...renderPatch(px, W, C, win, region), className: info.classes?.[label] ?? null };
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** RGB PNG of window [y0, x0, y1, x1) of an image, resized to about PATCH_PX, the region outlined. */
function renderPatch(px: Uint8Array, W: number, C: number, win: Box, region: Box | null): Omit<ImagePatch, 'className'> {
  const [y0, x0, y1, x1] = win;
  const h = y1 - y0;
  const w = x1 - x0;
  const side = Math.max(h, w);
  const scale = side < PATCH_PX ? Math.max(1, Math.floor(PATCH_PX / side)) : PATCH_PX / side;
  const oh = Math.max(1, Math.round(h * scale));
  const ow = Math.max(1, Math.round(w * scale));
  const out = new Uint8Array(oh * ow * 3);
  for (let oy = 0; oy < oh; oy++) {
    const sy = y0 + Math.min(h - 1, Math.floor(oy / scale));
    for (let ox = 0; ox < ow; ox++) {
      const sx = x0 + Math.min(w - 1, Math.floor(ox / scale));
      const p = (sy * W + sx) * C;
      for (let c = 0; c < 3; c++) out[(oy * ow + ox) * 3 + c] = px[p + (C >= 3 ? c : 0)];
    }
  }
  if (region !== null) {
    const [ry0, rx0, ry1, rx1] = region;
    const t = scale >= 3 ? 2 : 1;
    const top = Math.round((ry0 - y0) * scale);
    const bottom = Math.round((ry1 - y0) * scale) - 1;
    const left = Math.round((rx0 - x0) * scale);
    const right = Math.round((rx1 - x0) * scale) - 1;
    for (let oy = top; oy <= bottom; oy++) {
      for (let ox = left; ox <= right; ox++) {
        if (oy - top < t || bottom - oy < t || ox - left < t || right - ox < t) out.set(OUTLINE, (oy * ow + ox) * 3);
      }
    }
  }
  return { png: pngDataUri(out, ow, oh, 3), width: ow, height: oh, window: win, region };
}

/** The `tokens.json` sidecar of models/onnx/source.ts (format husai-tokens/1). */
interface TokensInfo {
  docs: Array<{ title: string; ids: number[]; pieces: string[] }>;
}

function readTokens(dir: string): TokensInfo {
  const file = path.join(dir, 'tokens.json');
  let v: { format?: unknown; docs?: unknown };
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(file, 'json', (e as Error).message, 'the token sidecar husai extract writes');
  }
  if (v.format !== 'husai-tokens/1' || !Array.isArray(v.docs)) throw new DataError(file, 'format', JSON.stringify(v.format ?? null), '"husai-tokens/1" with a docs array');
  return v as TokensInfo;
}

function decorateText(rows: RowStore, cards: FeatureCard[], ctx: number, total: number, chunk: number,
  encode: (x: { data: Float32Array; rows: number; cols: number }) => Float32Array, M: number, warnings: string[]): void {
  const tokens = readTokens(rows.dir as string);
  // Context token i of an example sits at row + (i − active) when that row is the same document and offset.
  const needed = new Set<number>();
  const plans: Array<{ ex: CardExample; card: FeatureCard; rowOf: Array<number | null> }> = [];
  for (const card of cards) {
    for (const ex of card.examples) {
      const { doc, offset } = ex.fields;
      const d = tokens.docs[doc];
      if (d === undefined || !(offset >= 0 && offset < d.ids.length)) {
        warnings.push(`row ${ex.row}: doc ${doc} offset ${offset} is not in tokens.json; no context`);
        continue;
      }
      const from = Math.max(0, offset - ctx);
      const to = Math.min(d.ids.length, offset + ctx + 1);
      const rowOf: Array<number | null> = [];
      for (let o = from; o < to; o++) {
        const r = ex.row + (o - offset);
        const f = r >= 0 && r < total ? rows.fields(r) : null;
        const ok = f !== null && f.doc === doc && f.offset === o;
        rowOf.push(ok ? r : null);
        if (ok) needed.add(r);
      }
      ex.context = { doc, title: d.title, tokens: d.pieces.slice(from, to), ids: d.ids.slice(from, to), active: offset - from, acts: [] };
      plans.push({ ex, card, rowOf });
    }
  }
  // Encode just the needed rows, contiguous runs at a time.
  const list = [...needed].sort((a, b) => a - b);
  const index = new Map(list.map((r, i) => [r, i]));
  const latents = cards.map((c) => c.latent);
  const valsRL = new Float32Array(list.length * latents.length);
  const d = rows.set.d;
  const x = new Float32Array(chunk * d);
  for (let i = 0; i < list.length; ) {
    let n = 1;
    while (i + n < list.length && n < chunk && list[i + n] === list[i] + n) n++;
    rows.read(list[i], n, x);
    const f = encode({ data: x.subarray(0, n * d), rows: n, cols: d });
    for (let k = 0; k < n; k++) latents.forEach((m, l) => (valsRL[(i + k) * latents.length + l] = f[k * M + m]));
    i += n;
  }
  for (const { ex, card, rowOf } of plans) {
    const l = cards.indexOf(card);
    (ex.context as TokenContext).acts = rowOf.map((r) => (r === null ? null : valsRL[(index.get(r) as number) * latents.length + l]));
  }
}
