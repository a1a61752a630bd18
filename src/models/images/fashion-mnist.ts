/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; MIT) from the Debian package `dataset-fashion-mnist`,
 * which installs the four official IDX files, gzip-compressed, in /usr/share/datasets/fashion-mnist/
 * (`train-images-idx3-ubyte.gz` [60000, 28, 28], `train-labels-idx1-ubyte.gz` [60000],
 * `t10k-…` [10000, …] for the test split). Images keep the files' order; the environment variable
 * HUSAI_FASHION_MNIST_DIR points elsewhere (same four file names, .gz or not).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { readIdx } from './idx.js';
import type { ImageSet, Split } from './types.js';

const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;
const COUNTS: Record<Split, number> = { train: 60000, test: 10000 };

/** The folder the IDX files are read from. */
function fashionMnistDir(): string {
  return process.env.HUSAI_FASHION_MNIST_DIR ?? FASHION_MNIST_DIR;
}

/** Path of one of the four files (`train`/`t10k` × `images-idx3`/`labels-idx1`), preferring .gz. */
function fashionFile(split: Split, what: 'images-idx3' | 'labels-idx1'): string {
  const base = path.join(fashionMnistDir(), `${split === 'train' ? 'train' : 't10k'}-${what}-ubyte`);
  for (const f of [`${base}.gz`, base]) if (fs.existsSync(f)) return f;
  throw new DataError(
    `${base}.gz`,
    'file',
    'nothing there',
    'the Fashion-MNIST IDX file',
    'install the Debian package: apt-get install dataset-fashion-mnist (or set HUSAI_FASHION_MNIST_DIR)',
  );
}

/** Only the labels of one split (cheap: 60 kB). */
export function loadFashionMnistLabels(split: Split): { file: string; labels: Int32Array } {
  const file = fashionFile(split, 'labels-idx1');
  const idx = readIdx(file, [COUNTS[split]]);
  const labels = Int32Array.from(idx.data);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new DataError(file, `label[${bad}]`, String(labels[bad]), 'a class index 0–9');
  return { file, labels };
}

/** Fashion-MNIST images and labels of one split, in file order. */
export function loadFashionMnist(split: Split): ImageSet {
  const { file: labelFile, labels } = loadFashionMnistLabels(split);
  const imageFile = fashionFile(split, 'images-idx3');
  const images = readIdx(imageFile, [COUNTS[split], 28, 28]);
  return {
    name: 'fashion-mnist',
    split,
    count: labels.length,
    height: 28,
    width: 28,
    channels: 1,
    pixelsNHWC: images.data,
    labels,
    classes: FASHION_MNIST_CLASSES,
    sourceIndex: Int32Array.from({ length: labels.length }, (_, i) => i),
    files: [imageFile, labelFile],
    description: `Fashion-MNIST official ${split} split (Debian dataset-fashion-mnist), file order`,
  };
}
