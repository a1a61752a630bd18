/**
 * Image preprocessing exactly as nsfwjs does it before its models (nsfwjs `core.js`, `NSFWJS.infer`):
 * the pixels as float, divided by 255 (so values lie in [0, 1] — nsfwjs's models were trained so;
 * MobileNetV2Mid rescales to [-1, 1] inside its graph), then, when the image is not already S×S,
 * `tf.image.resizeBilinear(x, [S, S], alignCorners = true)` to the model's square input side S. A grey
 * image (C = 1) becomes RGB by repeating its channel, as a browser's `fromPixels` would give it.
 *
 * Letters: B images, H, W image sides, C channels, S model input side.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError, fmtShape } from '../../core/errors.js';

/** A batch of uint8 images [B, H, W, C] (C = 1 or 3) → the model input [B, S, S, 3], float32. */
export function preprocessImages(
  pixelsBHWC: Uint8Array,
  b: number,
  h: number,
  w: number,
  c: number,
  size: number,
): tf.Tensor4D {
  if (pixelsBHWC.length !== b * h * w * c)
    throw new ShapeError(`preprocessImages: ${pixelsBHWC.length} bytes cannot be shaped ${fmtShape(b, h, w, c)}`);
  if (c !== 1 && c !== 3) throw new ShapeError(`preprocessImages: ${c} channels; expected 1 (grey) or 3 (RGB)`);
  return tf.tidy(() => {
    let img = tf.tensor4d(Int32Array.from(pixelsBHWC), [b, h, w, c], 'int32');
    if (c === 1) img = tf.tile(img, [1, 1, 1, 3]);
    const normalized = img.toFloat().div(tf.scalar(255)) as tf.Tensor4D;
    return h === size && w === size ? normalized : tf.image.resizeBilinear(normalized, [size, size], true);
  });
}
