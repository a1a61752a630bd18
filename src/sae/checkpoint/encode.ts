/**
 * Latent activations of any loaded SAE (SaeWeights, whatever library wrote it) on a batch of
 * inputs, with SAELens' inference semantics per architecture (SCIENCE.md §2):
 *   pre = (x − b_dec·[apply_b_dec_to_input]) W_enc + b_enc
 *   standard             f = ReLU(pre)
 *   topk                 f = ReLU(top-k of pre), the rest 0
 *   jumprelu             f = pre · [pre > threshold]
 *   batchtopk, matryoshka_batchtopk
 *                        f = pre · [pre > threshold] when the checkpoint has a threshold (SAELens'
 *                        inference form), else per-row top-k as in training without the batch
 *   gated                f = [x_c W_enc + b_gate > 0] · ReLU(x_c (W_enc ⊙ exp(r_mag)) + b_mag)
 * For analyses that need what a latent responds to (the modular-arithmetic Fourier analysis,
 * feature cards), not for training.
 *
 * Letters: N rows, D d_in, M d_sae.
 */
import { ShapeError, fmtShape } from '../../core/errors.js';
import type { Mat } from '../../core/mat.js';
import type { Engine } from '../../engine/types.js';
import type { SaeWeights } from './types.js';

export function encodeLatents(w: SaeWeights, xND: Mat, e: Engine): Mat {
  const { dIn: D, dSae: M } = w;
  const N = xND.rows;
  if (xND.cols !== D) throw new ShapeError(`encodeLatents: inputs ${fmtShape(N, xND.cols)} do not match the SAE at ${w.source.path} (d_in = ${D})`);
  const t = (name: string): Float32Array | null => w.tensors[name]?.data ?? null;
  const wEnc = t('W_enc') as Float32Array;
  const bDec = t('b_dec');
  const xc = new Float32Array(xND.data);
  if (bDec && w.cfg.apply_b_dec_to_input !== false) e.addRowVec(xc, N, D, bDec, -1);
  const pre = new Float32Array(N * M);
  if (w.architecture === 'gated') {
    const rMag = t('r_mag') as Float32Array;
    const wMag = new Float32Array(D * M);
    for (let d = 0; d < D; d++) for (let m = 0; m < M; m++) wMag[d * M + m] = wEnc[d * M + m] * Math.exp(rMag[m]);
    const gate = new Float32Array(N * M);
    e.gemm(false, false, N, M, D, 1, xc, D, wEnc, M, 0, gate, M);
    e.addRowVec(gate, N, M, t('b_gate') as Float32Array, 1);
    e.gemm(false, false, N, M, D, 1, xc, D, wMag, M, 0, pre, M);
    e.addRowVec(pre, N, M, t('b_mag') as Float32Array, 1);
    for (let i = 0; i < pre.length; i++) pre[i] = gate[i] > 0 && pre[i] > 0 ? pre[i] : 0;
    return { data: pre, rows: N, cols: M };
  }
  e.gemm(false, false, N, M, D, 1, xc, D, wEnc, M, 0, pre, M);
  const bEnc = t('b_enc');
  if (bEnc) e.addRowVec(pre, N, M, bEnc, 1);
  const threshold = t('threshold');
  const arch = w.architecture;
  if (arch === 'jumprelu' || ((arch === 'batchtopk' || arch === 'matryoshka_batchtopk') && threshold)) {
    const th = threshold as Float32Array;
    for (let n = 0; n < N; n++) for (let m = 0; m < M; m++) if (!(pre[n * M + m] > th[m])) pre[n * M + m] = 0;
    return { data: pre, rows: N, cols: M };
  }
  if (arch === 'topk' || arch === 'batchtopk' || arch === 'matryoshka_batchtopk') {
    const k = Math.min(w.k ?? M, M);
    const vals = new Float32Array(N * k);
    const idx = new Int32Array(N * k);
    e.topkRows(pre, N, M, k, vals, idx);
    for (let i = 0; i < vals.length; i++) vals[i] = Math.max(0, vals[i]);
    e.scatterRows(vals, idx, N, k, pre, M);
    return { data: pre, rows: N, cols: M };
  }
  e.relu(pre, pre);
  return { data: pre, rows: N, cols: M };
}
