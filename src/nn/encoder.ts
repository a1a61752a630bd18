/**
 * The affine encoder every SAE shares (docs/SCIENCE.md §1): centre the input on b_dec, then
 * h = (x − b_dec)·W_enc + b_enc — forward and hand-written backward on engine ops.
 *
 * Sparse codes (TopK family): when ∂L/∂h is non-zero only at B·k entries, W_enc's gradient
 * Σ_b xc_bᵀ·gH_b touches only the selected columns. engine.sparseDecodeGradW computes exactly that
 * sum into a row-major [M, D] buffer (row j += gVals·xc_b: the decoder-gradient kernel with xc as
 * "gOut"), B·k·D work instead of the dense GEMM's B·M·D; a blocked transpose then writes it into the
 * [D, M] gradient. At B = 4096, d = 512, m = 4096, k = 32 that replaces a ~90 ms GEMM by a few ms.
 *
 * Letters: B batch rows, D d_in, M d_sae, W entries per row of a sparse code.
 *
 * Backward note: b_dec enters the encoder through the centring x − b_dec, so its gradient from
 * this path is −Σ_b gH_b·W_encᵀ = −W_enc·colSum(gH). We compute it as a [D,M]·[M] product on the
 * column sums instead of a second [B,M]·[M,D] product: the same number, B times cheaper.
 */
import type { Engine, F32, I32 } from '../engine/types.js';

/** xcBD ← xBD − bDecD (row broadcast). */
export function centre(e: Engine, xBD: F32, bDecD: F32, xcBD: F32, B: number, D: number): void {
  xcBD.set(xBD.subarray(0, B * D));
  e.addRowVec(xcBD, B, D, bDecD, -1);
}

/** hBM ← xcBD·wDM + bM (bM may be null: no bias). */
export function linearForward(
  e: Engine,
  xcBD: F32,
  wDM: F32,
  bM: F32 | null,
  hBM: F32,
  B: number,
  D: number,
  M: number,
): void {
  e.gemm(false, false, B, M, D, 1, xcBD, D, wDM, M, 0, hBM, M);
  if (bM) e.addRowVec(hBM, B, M, bM, 1);
}

/**
 * Encoder backward given gHBM = ∂L/∂h:
 * gWDM ← xcᵀ·gH (overwritten); gSumM ← colSum(gH) (b_enc's gradient, or scratch when the
 * architecture has no single b_enc); gBDecD −= W_enc·gSum (accumulated: the decoder output path
 * writes its part first).
 */
export function encoderBackward(
  e: Engine,
  xcBD: F32,
  gHBM: F32,
  wDM: F32,
  gWDM: F32,
  gSumM: F32,
  gBDecD: F32,
  B: number,
  D: number,
  M: number,
): void {
  e.gemm(true, false, D, M, B, 1, xcBD, D, gHBM, M, 0, gWDM, M);
  e.colSum(gHBM, B, M, gSumM, 1, 0);
  e.gemm(false, false, D, 1, M, -1, wDM, M, gSumM, 1, 1, gBDecD, 1);
}

/** A sparse gradient w.r.t. h: row r holds W (value, latent) pairs; zero values contribute nothing. */
export interface SparseGrad {
  gVals: F32;
  idx: I32;
  W: number;
}

/**
 * Encoder backward for sparse ∂L/∂h given as a list of codes (duplicates add up): gWEncDM and gBEncM
 * overwritten, gBDecD −= W_enc·gb_enc. gWEncTMD is [M, D] scratch.
 */
export function sparseEncoderBackward(
  e: Engine,
  xcBD: F32,
  codes: readonly SparseGrad[],
  wEncDM: F32,
  gWEncTMD: F32,
  gWEncDM: F32,
  gBEncM: F32,
  gBDecD: F32,
  B: number,
  D: number,
  M: number,
): void {
  gWEncTMD.fill(0);
  gBEncM.fill(0);
  for (const c of codes) {
    if (c.W === 0) continue;
    e.sparseDecodeGradW(c.gVals, c.idx, B, c.W, xcBD, M, D, gWEncTMD);
    const n = B * c.W;
    for (let t = 0; t < n; t++) gBEncM[c.idx[t]] += c.gVals[t];
  }
  transposeInto(gWEncTMD, M, D, gWEncDM);
  e.gemm(false, false, D, 1, M, -1, wEncDM, M, gBEncM, 1, 1, gBDecD, 1);
}

/** outCR ← inRC ᵀ, in 32×32 tiles so both sides stay in cache. */
function transposeInto(inRC: F32, R: number, C: number, outCR: F32): void {
  const T = 32;
  for (let r0 = 0; r0 < R; r0 += T) {
    const r1 = Math.min(R, r0 + T);
    for (let c0 = 0; c0 < C; c0 += T) {
      const c1 = Math.min(C, c0 + T);
      for (let r = r0; r < r1; r++) {
        const ro = r * C;
        for (let c = c0; c < c1; c++) outCR[c * R + r] = inRC[ro + c];
      }
    }
  }
}
