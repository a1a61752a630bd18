/**
 * Token contexts for the examples of text feature cards (cards.ts): the `tokens.json` sidecar written
 * by `husai extract` (models/onnx/source.ts) read and checked, ±`context` tokens of the example's
 * document around the active one, and the latent's activation on each of those tokens, from a
 * second, small encode of just the rows they sit on (contiguous runs at a time), as dashboards shade
 * them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import type { RowStore } from './cards-rows.js';
import type { CardExample, FeatureCard, TokenContext } from './cards-types.js';

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
  if (v.format !== 'husai-tokens/1' || !Array.isArray(v.docs))
    throw new DataError(file, 'format', JSON.stringify(v.format ?? null), '"husai-tokens/1" with a docs array');
  return v as TokensInfo;
}

/** Sets `context` on every example of `cards` (a text activation set; `ctx` tokens each side). */
export function decorateText(
  rows: RowStore,
  cards: FeatureCard[],
  ctx: number,
  total: number,
  chunk: number,
  encode: (x: { data: Float32Array; rows: number; cols: number }) => Float32Array,
  M: number,
  warnings: string[],
): void {
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
      ex.context = {
        doc,
        title: d.title,
        tokens: d.pieces.slice(from, to),
        ids: d.ids.slice(from, to),
        active: offset - from,
        acts: [],
      };
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
  for (let i = 0; i < list.length;) {
    let n = 1;
    while (i + n < list.length && n < chunk && list[i + n] === list[i] + n) n++;
    rows.read(list[i], n, x);
    const f = encode({ data: x.subarray(0, n * d), rows: n, cols: d });
    for (let k = 0; k < n; k++) latents.forEach((m, l) => (valsRL[(i + k) * latents.length + l] = f[k * M + m]));
    i += n;
  }
  for (const { ex, card, rowOf } of plans) {
    const l = cards.indexOf(card);
    (ex.context as TokenContext).acts = rowOf.map((r) =>
      r === null ? null : valsRL[(index.get(r) as number) * latents.length + l],
    );
  }
}
