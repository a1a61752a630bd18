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
 *
 * This file owns the entry point (featureCards; a study's own cards are study/cards.ts) and the
 * streaming top-k of the pass; the FeatureCards contract is cards-types.ts. The activation set and its row provenance
 * are read by cards-rows.ts;
 * vision examples get their image patches in cards-vision.ts, text examples their token contexts in
 * cards-text.ts.
 */
import { ConfigError, DataError } from '../core/errors.js';
import { getEngine } from '../engine/index.js';
import { encodeLatents } from '../sae/checkpoint/encode.js';
import { loadSae } from '../sae/checkpoint/index.js';
import { RowStore } from './cards-rows.js';
import { decorateText } from './cards-text.js';
import { CARDS_FORMAT, type FeatureCard, type FeatureCards, type FeatureCardsOptions } from './cards-types.js';
import { decorateVision } from './cards-vision.js';

export {
  CARDS_FORMAT,
  type CardExample,
  type FeatureCard,
  type FeatureCards,
  type FeatureCardsOptions,
} from './cards-types.js';

/** Cards for latents of the SAE at `saeDir` on the activations at `actsPath` (see the file header). */
export function featureCards(saeDir: string, actsPath: string, opts: FeatureCardsOptions = {}): FeatureCards {
  const w = loadSae(saeDir);
  const M = w.dSae;
  const K = intOpt('examples', opts.examples, 12, 1);
  const ctx = intOpt('context', opts.context, 8, 0);
  const cells = intOpt('patchCells', opts.patchCells, 1, 0);
  if (opts.latents !== undefined && opts.topLatents !== undefined)
    throw new ConfigError('feature cards: give either latents (--latents) or topLatents (--top), not both');
  const top = intOpt('topLatents', opts.topLatents, 16, 1);
  for (const j of opts.latents ?? []) {
    if (!Number.isInteger(j) || j < 0 || j >= M)
      throw new ConfigError(
        `feature cards: latent ${j} does not exist: the SAE at ${saeDir} has latents 0..${M - 1} (d_sae = ${M})`,
      );
  }
  if (opts.latents !== undefined && opts.latents.length === 0)
    throw new ConfigError('feature cards: latents is empty: list at least one latent');
  const rows = new RowStore(actsPath);
  try {
    if (rows.set.d !== w.dIn) {
      throw new DataError(
        actsPath,
        'd (columns)',
        String(rows.set.d),
        `${w.dIn}, the d_in of the SAE at ${saeDir} (d_sae = ${M})`,
        'encode activations of the layer this SAE was trained on',
      );
    }
    const total =
      opts.maxRows === undefined ? rows.set.rows : Math.min(rows.set.rows, intOpt('maxRows', opts.maxRows, 0, 1));
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
      chosen = Array.from({ length: M }, (_, m) => m)
        .filter((m) => fires[m] > 0)
        .sort((a, b) => fires[b] - fires[a] || a - b)
        .slice(0, top);
      selection =
        `the ${chosen.length} most frequently firing live latents (of ${live} live; ${top} asked), ties by ` +
        `lower index`;
    }

    const cards: FeatureCard[] = chosen.map((m) => ({
      latent: m,
      fires: fires[m],
      firingRate: total > 0 ? fires[m] / total : 0,
      maxActivation: maxs[m],
      meanActivation: fires[m] > 0 ? sums[m] / fires[m] : 0,
      examples: heap.sorted(m).map(([activation, row]) => ({ row, activation, fields: rows.fields(row) })),
    }));
    const warnings = [...rows.set.warnings];
    if (rows.kind === 'vision') decorateVision(rows, cards, cells, warnings);
    if (rows.kind === 'text')
      decorateText(rows, cards, ctx, total, chunk, (x) => encodeLatents(w, x, e).data, M, warnings);
    return {
      format: CARDS_FORMAT,
      kind: rows.kind,
      sae: { path: saeDir, architecture: w.architecture, dIn: w.dIn, dSae: M, k: w.k ?? null },
      acts: { path: actsPath, rows: rows.set.rows, rowsScanned: total, d: rows.set.d, config: rows.config },
      selection,
      examplesPerLatent: K,
      context: ctx,
      patchCells: cells,
      live,
      cards,
      warnings,
    };
  } finally {
    rows.close();
  }
}

function intOpt(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min)
    throw new ConfigError(`feature cards: ${name} = ${v}: expected an integer ≥ ${min}`);
  return v;
}

/** Per latent, the K best (activation, row) seen so far: a min-heap whose root is the worst kept. */
class TopK {
  private readonly act: Float32Array;
  private readonly row: Int32Array;
  private readonly size: Int32Array;
  constructor(
    m: number,
    private readonly k: number,
  ) {
    this.act = new Float32Array(m * k);
    this.row = new Int32Array(m * k);
    this.size = new Int32Array(m);
  }
  /** a at slot i is worse than at slot j: lower activation, or equal and a later row. */
  private worse(i: number, j: number): boolean {
    return this.act[i] < this.act[j] || (this.act[i] === this.act[j] && this.row[i] > this.row[j]);
  }
  private swap(i: number, j: number): void {
    const a = this.act[i];
    this.act[i] = this.act[j];
    this.act[j] = a;
    const r = this.row[i];
    this.row[i] = this.row[j];
    this.row[j] = r;
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
    for (let i = 0; ;) {
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
