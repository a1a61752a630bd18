/**
 * Image patches for the examples of vision feature cards (cards.ts): the `images.json` / images.u8
 * sidecar written by `husai extract` (models/vision/source.ts) read and checked, the window of
 * ±`patchCells` feature-map cells around a token's cell (the whole image for a pooled row), and its
 * RGB PNG, upscaled (nearest) or shrunk to about PATCH_PX with the token's region outlined.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { pngDataUri } from '../formats/png.js';
import type { RowStore } from './cards-rows.js';
import type { FeatureCard, ImagePatch } from './cards-types.js';

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
  if (v.format !== 'husai-images')
    throw new DataError(file, 'format', JSON.stringify(v.format ?? null), '"husai-images"');
  const s = v.shape;
  if (!Array.isArray(s) || s.length !== 4 || !s.every((x) => Number.isInteger(x) && x > 0))
    throw new DataError(file, 'shape', JSON.stringify(s), '[N, H, W, C], positive integers');
  const bin = path.join(dir, typeof v.file === 'string' ? v.file : 'images.u8');
  const bytes = fs.existsSync(bin) ? fs.statSync(bin).size : -1;
  if (bytes !== s[0] * s[1] * s[2] * s[3])
    throw new DataError(
      bin,
      'size',
      bytes < 0 ? 'missing' : `${bytes} bytes`,
      `${s[0] * s[1] * s[2] * s[3]} bytes (uint8 ${JSON.stringify(s)} in images.json)`,
    );
  return { shape: s, classes: v.classes, layer_grid: v.layer_grid, file: bin };
}

/** [y0, x0, y1, x1) in image pixels. */
type Box = [number, number, number, number];

/** Longest side of a patch's PNG: small windows are upscaled (nearest) up to it, large ones shrunk. */
const PATCH_PX = 96;
const OUTLINE: [number, number, number] = [255, 48, 48];

/** Sets `image` on every example of `cards` (a vision activation set; `cells` cells each side). */
export function decorateVision(rows: RowStore, cards: FeatureCard[], cells: number, warnings: string[]): void {
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
      const win: Box = tok
        ? [lo(y - cells, H, Hf), lo(x - cells, W, Wf), hi(y + cells, H, Hf), hi(x + cells, W, Wf)]
        : [0, 0, H, W];
      ex.image = { ...renderPatch(px, W, C, win, region), className: info.classes?.[label] ?? null };
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** RGB PNG of window [y0, x0, y1, x1) of an image, resized to about PATCH_PX, the region outlined. */
function renderPatch(
  px: Uint8Array,
  W: number,
  C: number,
  win: Box,
  region: Box | null,
): Omit<ImagePatch, 'className'> {
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
