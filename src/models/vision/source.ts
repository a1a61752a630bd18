/**
 * An ExtractionSource (models/extraction.ts) over a pretrained nsfwjs vision model and an image set:
 * unit = one image; `pool: 'mean'` gives one row per image (the layer's mean over its H×W spatial
 * positions), `pool: 'tokens'` one row per spatial position (image-major, then y, then x — C order
 * of the [B, H, W, C] feature map), with row columns image, label (and y, x for tokens). A layer
 * with a flat output [C] gives one row per image either way (y = x = 0 for tokens).
 *
 * Sidecars for feature cards: `images.u8`, the raw uint8 pixels [N, H, W, C] (C order) of the
 * extracted images at their own resolution, and `images.json` with that shape, the labels, class
 * names, and the feature-map grid, so a token row (image, y, x) maps to the image region
 * rows [y·H/Hf, (y+1)·H/Hf) × cols [x·W/Wf, (x+1)·W/Wf) (Hf×Wf the layer's grid; receptive fields are
 * wider — this is the region the position sits over).
 *
 * Letters: B images in a batch, P positions per image (Hf·Wf, or 1 when pooled), C channels = D.
 */
import crypto from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../../core/errors.js';
import type { ExtractedRows, ExtractionSource } from '../extraction.js';
import { type ImageSet, type Split, openImageSet } from '../images/index.js';
import { backendInfo } from './backend.js';
import { type VisionModelName, checkVisionModel } from './names.js';
import { loadVisionModel } from './nsfwjs.js';
import { preprocessImages } from './preprocess.js';
import { type Tap, tapLayer } from './tap.js';

export type Pool = 'mean' | 'tokens';

interface VisionSourceOptions {
  model: VisionModelName;
  /** Layer (or graph node) name; see `listLayers`. */
  layer: string;
  /** `mnist`, `fashion-mnist` (or, later, a folder of images). */
  images: string;
  /** Number of images, from the start of the split's fixed order. */
  /** Images to extract, the first `limit` of the split (default: all of them). */
  limit?: number;
  pool: Pool;
  /** Default `train`. */
  split?: Split;
  /** Images per forward pass (default 16). */
  batch?: number;
}

const PREPROCESS =
  'nsfwjs: float(x) / 255, bilinear resize (align corners) to S×S when not S×S, grey → RGB by repeating the ' +
  'channel';

/** Opens the model and the images and taps the layer; `close()` frees the model. */
export async function openVisionSource(
  opts: VisionSourceOptions,
): Promise<ExtractionSource & { readonly layerShape: number[] }> {
  const modelName = checkVisionModel(opts.model);
  if (opts.pool !== 'mean' && opts.pool !== 'tokens')
    throw new ConfigError(`--pool ${JSON.stringify(opts.pool)}: expected mean or tokens`);
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    throw new ConfigError(`--split ${JSON.stringify(split)}: expected train or test`);
  const batch = opts.batch ?? 16;
  if (!Number.isInteger(batch) || batch < 1) throw new ConfigError(`batch = ${batch}: expected an integer ≥ 1`);
  const set = openImageSet(opts.images, split);
  const limit = opts.limit ?? set.count;
  if (!Number.isInteger(limit) || limit < 1 || limit > set.count) {
    throw new ConfigError(
      `--limit ${limit}: expected an integer in [1, ${set.count}] (${set.name} ${split} has ${set.count} images)`,
    );
  }
  const model = await loadVisionModel(modelName);
  let tap: Tap;
  try {
    tap = tapLayer(model, opts.layer);
  } catch (e) {
    model.dispose();
    throw e;
  }
  const layerShape = tap.shape;
  const d = layerShape[layerShape.length - 1];
  const grid = layerShape.length === 3 ? [layerShape[0], layerShape[1]] : [1, 1];
  const positions = opts.pool === 'tokens' ? grid[0] * grid[1] : 1;
  const units = limit;
  const pixelsPerImage = set.height * set.width * set.channels;

  const config: Record<string, unknown> = {
    source: `nsfwjs:${modelName}`,
    model: modelName,
    model_sha256: model.sha256,
    nsfwjs: model.nsfwjsVersion,
    layer: tap.layer,
    layer_shape: layerShape,
    pool: opts.pool,
    positions_per_image: positions,
    images: opts.images,
    split,
    limit: units,
    images_sha256: hashImages(set, units),
    image_shape: [set.height, set.width, set.channels],
    input_size: model.inputSize,
    preprocess: PREPROCESS,
    ...backendInfo(),
    row_columns: opts.pool === 'tokens' ? ['image', 'label', 'y', 'x'] : ['image', 'label'],
  };

  return {
    config,
    d,
    units,
    chunkUnits: batch,
    layerShape,
    async extract(start: number, end: number): Promise<ExtractedRows> {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > units || start > end) {
        throw new ConfigError(`extract(${start}, ${end}): expected 0 ≤ start ≤ end ≤ ${units}`);
      }
      const b = end - start;
      const x = preprocessImages(
        set.pixelsNHWC.subarray(start * pixelsPerImage, end * pixelsPerImage),
        b,
        set.height,
        set.width,
        set.channels,
        model.inputSize,
      );
      const y = tf.tidy(() => {
        const out = tap.run(x);
        if (out.shape.length === 4 && opts.pool === 'mean') return tf.mean(out, [1, 2]);
        return out.reshape([b * positions, d]);
      });
      x.dispose();
      const data = (await y.data()) as Float32Array;
      y.dispose();
      const n = b * positions;
      const rows: Record<string, Int32Array> = { image: new Int32Array(n), label: new Int32Array(n) };
      if (opts.pool === 'tokens') Object.assign(rows, { y: new Int32Array(n), x: new Int32Array(n) });
      for (let i = 0; i < b; i++) {
        for (let p = 0; p < positions; p++) {
          const r = i * positions + p;
          rows.image[r] = start + i;
          rows.label[r] = set.labels[start + i];
          if (opts.pool === 'tokens') {
            rows.y[r] = Math.floor(p / grid[1]);
            rows.x[r] = p % grid[1];
          }
        }
      }
      return { xND: { data, rows: n, cols: d }, rows };
    },
    async sidecars(): Promise<Record<string, Uint8Array>> {
      const info = {
        format: 'husai-images',
        version: 1,
        file: 'images.u8',
        dtype: 'uint8',
        shape: [units, set.height, set.width, set.channels],
        order: 'C (image, y, x, channel)',
        images: set.name,
        split,
        description: set.description,
        classes: set.classes,
        labels: Array.from(set.labels.subarray(0, units)),
        source_index: Array.from(set.sourceIndex.subarray(0, units)),
        model_input_size: model.inputSize,
        layer_grid: grid,
        note:
          'token row (image, y, x) sits over image rows [y·H/Hf, (y+1)·H/Hf) and cols [x·W/Wf, (x+1)·W/Wf), ' +
          '[Hf, Wf] = layer_grid',
      };
      return {
        'images.u8': set.pixelsNHWC.slice(0, units * pixelsPerImage),
        'images.json': new TextEncoder().encode(`${JSON.stringify(info, null, 1)}\n`),
      };
    },
    async close(): Promise<void> {
      tap.dispose();
      model.dispose();
    },
  };
}

function hashImages(set: ImageSet, n: number): string {
  const per = set.height * set.width * set.channels;
  const h = crypto.createHash('sha256');
  h.update(set.pixelsNHWC.subarray(0, n * per));
  h.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, n * 4));
  return h.digest('hex');
}
