/**
 * Input scaling (docs/SCIENCE.md §2): train on s·x with s chosen so that E‖s·x‖² = d on a sample, then
 * fold s back into the saved weights so the exported SAE works on raw activations. The fold follows
 * SAELens' `fold_activation_norm_scaling_factor`: W_enc ← s·W_enc, W_dec ← W_dec/s, b_dec ← b_dec/s.
 * Then (x − b_dec/s)·s·W_enc = (s·x − b_dec)·W_enc, so every pre-activation, latent value and
 * threshold (b_enc, threshold, b_gate, b_mag, r_mag) is unchanged, and x̂_raw = x̂_scaled / s.
 * (Decoder rows then have norm 1/s; every similarity metric normalises atoms anyway, docs/SCIENCE.md §1.)
 *
 * Letters: N sample rows, D dimensions.
 */
import { DataError } from '../core/errors.js';
import type { Sae, TensorMap } from './types.js';

/** s = √(d / mean_n ‖x_n‖²) (1 when the sample is all zeros). */
export function estimateInputScale(xND: ArrayLike<number>, N: number, D: number): number {
  let s = 0;
  for (let i = 0; i < N * D; i++) s += xND[i] * xND[i];
  if (!Number.isFinite(s))
    throw new DataError('activations', 'sample used for input scaling', 'non-finite values', 'finite activations');
  const meanSq = s / Math.max(N, 1);
  return meanSq > 0 ? Math.sqrt(D / meanSq) : 1;
}

function copyMap(m: TensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [k, v] of Object.entries(m)) out[k] = new Float32Array(v);
  return out;
}

/** A copy of `sae` (trained on s·x) that works on raw x: W_enc·s, W_dec/s, b_dec/s. */
export function foldInputScale(sae: Sae, s: number): Sae {
  const params = copyMap(sae.params);
  const buffers = copyMap(sae.buffers);
  if (s !== 1) {
    for (let i = 0; i < params.W_enc.length; i++) params.W_enc[i] *= s;
    for (let i = 0; i < params.W_dec.length; i++) params.W_dec[i] /= s;
    for (let i = 0; i < params.b_dec.length; i++) params.b_dec[i] /= s;
  }
  return { cfg: sae.cfg, params, buffers };
}
