/**
 * The affine encoder every SAE shares (SCIENCE.md §1): centre the input on b_dec, then
 * h = (x − b_dec)·W_enc + b_enc — forward and hand-written backward on engine ops.
 *
 * Letters: B batch rows, D d_in, M d_sae.
 *
 * Backward note: b_dec enters the encoder through the centring x − b_dec, so its gradient from
 * this path is −Σ_b gH_b·W_encᵀ = −W_enc·colSum(gH). We compute it as a [D,M]·[M] product on the
 * column sums instead of a second [B,M]·[M,D] product: the same number, B times cheaper.
 */
import type { Engine, F32 } from '../engine/types.js';

/** xcBD ← xBD − bDecD (row broadcast). */
export function centre(e: Engine, xBD: F32, bDecD: F32, xcBD: F32, B: number, D: number): void {
  xcBD.set(xBD.subarray(0, B * D));
  e.addRowVec(xcBD, B, D, bDecD, -1);
}

/** hBM ← xcBD·wDM + bM (bM may be null: no bias). */
export function linearForward(
  e: Engine, xcBD: F32, wDM: F32, bM: F32 | null, hBM: F32, B: number, D: number, M: number,
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
  e: Engine, xcBD: F32, gHBM: F32, wDM: F32, gWDM: F32, gSumM: F32, gBDecD: F32,
  B: number, D: number, M: number,
): void {
  e.gemm(true, false, D, M, B, 1, xcBD, D, gHBM, M, 0, gWDM, M);
  e.colSum(gHBM, B, M, gSumM, 1, 0);
  e.gemm(false, false, D, 1, M, -1, wDM, M, gSumM, 1, 1, gBDecD, 1);
}
