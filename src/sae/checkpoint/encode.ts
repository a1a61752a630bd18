/**
 * Latent activations of any loaded SAE (SaeWeights, whatever library wrote it) on a batch of
 * inputs, with SAELens' inference semantics per architecture (docs/SCIENCE.md §2). The rule belongs to
 * the architecture (registry.ts: the entry whose `saeLens.name` is the weights' architecture;
 * infer.ts and gated.ts hold the formulas), the same rule the training step's eval forward applies.
 * For analyses that need what a latent responds to (the modular-arithmetic Fourier analysis,
 * feature cards), not for training.
 *
 * Letters: N rows, D d_in, M d_sae.
 */
import { ShapeError, fmtShape } from '../../core/errors.js';
import type { Mat } from '../../core/mat.js';
import type { Engine } from '../../engine/types.js';
import { archBySaeLens } from '../registry.js';
import type { SaeWeights } from './types.js';

export function encodeLatents(w: SaeWeights, xND: Mat, e: Engine): Mat {
  if (xND.cols !== w.dIn)
    throw new ShapeError(
      `encodeLatents: inputs ${fmtShape(xND.rows, xND.cols)} do not match the SAE at ${w.source.path} (d_in = ` +
        `${w.dIn})`,
    );
  return archBySaeLens(w.architecture).saeLens.encode(w, xND, e);
}
