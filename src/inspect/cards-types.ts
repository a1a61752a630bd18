/**
 * The feature-cards contract (cards.ts writes it, report/cards.ts renders it, results.json embeds
 * it): the options of a cards pass and the JSON shape of its result — per latent its firing
 * statistics and top examples, each example with what its row is (an image patch, a token in its
 * text context, an (a, b) input, or just the row).
 */
import type { Engine } from '../engine/types.js';

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
