/**
 * The inference rules on SAELens-named weights (SaeWeights, whatever library wrote them) that the
 * architectures' `saeLens.encode` are built from (docs/SCIENCE.md §2; SAELens' semantics):
 *   pre = (x − b_dec·[apply_b_dec_to_input]) W_enc + b_enc
 *   ReLU        f = ReLU(pre)
 *   top-k       f = ReLU(top-k of pre per row), the rest 0
 *   threshold   f = pre · [pre > threshold]
 * Gated's two-path rule lives in gated.ts. sae/checkpoint/encode.ts picks the architecture.
 *
 * Letters: N rows, D d_in, M d_sae.
 */
import type { Mat } from '../core/mat.js';
import type { Engine } from '../engine/types.js';
import type { SaeWeights } from './checkpoint/types.js';

/** The named tensor's data, or null when the weights lack it. */
export function tensorOf(w: SaeWeights, name: string): Float32Array | null {
  return w.tensors[name]?.data ?? null;
}

/** x − b_dec per row (a copy), or x when the cfg says apply_b_dec_to_input: false. */
export function centredInputs(w: SaeWeights, xND: Mat, e: Engine): Float32Array {
  const xcND = new Float32Array(xND.data);
  const bDec = tensorOf(w, 'b_dec');
  if (bDec && w.cfg.apply_b_dec_to_input !== false) e.addRowVec(xcND, xND.rows, w.dIn, bDec, -1);
  return xcND;
}

/** pre [N, M] = xc·W_enc + b_enc (b_enc when present). */
function preActivations(w: SaeWeights, xND: Mat, e: Engine): Float32Array {
  const { dIn: D, dSae: M } = w;
  const N = xND.rows;
  const preNM = new Float32Array(N * M);
  e.gemm(false, false, N, M, D, 1, centredInputs(w, xND, e), D, tensorOf(w, 'W_enc') as Float32Array, M, 0, preNM, M);
  const bEnc = tensorOf(w, 'b_enc');
  if (bEnc) e.addRowVec(preNM, N, M, bEnc, 1);
  return preNM;
}

/** f = ReLU(pre). */
export function encodeRelu(w: SaeWeights, xND: Mat, e: Engine): Mat {
  const preNM = preActivations(w, xND, e);
  e.relu(preNM, preNM);
  return { data: preNM, rows: xND.rows, cols: w.dSae };
}

/** f = ReLU(top-k of pre) per row, k = min(w.k, d_sae) (all latents when the weights carry no k). */
export function encodeTopk(w: SaeWeights, xND: Mat, e: Engine): Mat {
  const M = w.dSae;
  const N = xND.rows;
  const preNM = preActivations(w, xND, e);
  const k = Math.min(w.k ?? M, M);
  const vals = new Float32Array(N * k);
  const idx = new Int32Array(N * k);
  e.topkRows(preNM, N, M, k, vals, idx);
  for (let i = 0; i < vals.length; i++) vals[i] = Math.max(0, vals[i]);
  e.scatterRows(vals, idx, N, k, preNM, M);
  return { data: preNM, rows: N, cols: M };
}

/** f = pre · [pre > threshold] with the per-latent `threshold` tensor. */
export function encodeThreshold(w: SaeWeights, xND: Mat, e: Engine): Mat {
  const M = w.dSae;
  const N = xND.rows;
  const preNM = preActivations(w, xND, e);
  const thM = tensorOf(w, 'threshold') as Float32Array;
  for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) if (!(preNM[n * M + m] > thM[m])) preNM[n * M + m] = 0;
  return { data: preNM, rows: N, cols: M };
}

/**
 * BatchTopK (and Matryoshka): the threshold rule when the weights carry a `threshold` (SAELens'
 * inference form), else per-row top-k as in training without the batch.
 */
export function encodeBatchTopk(w: SaeWeights, xND: Mat, e: Engine): Mat {
  return tensorOf(w, 'threshold') ? encodeThreshold(w, xND, e) : encodeTopk(w, xND, e);
}
