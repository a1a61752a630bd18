/**
 * Decoder building blocks (docs/SCIENCE.md §1–§2): dense decode x̂ = f·W_dec + b_dec and its gradients,
 * the unit-norm decoder constraint (project the gradient, renormalise after the step), and the
 * norm-weighted sparsity penalty λ·Σ_i f_i‖W_dec,i‖ (April-2024 ReLU, Gated).
 *
 * Letters: B batch rows, D d_in, M d_sae.
 */
import type { Engine, F32 } from '../engine/types.js';

/** reconBD ← fBM·wDecMD + bDecD. */
export function denseDecode(
  e: Engine,
  fBM: F32,
  wDecMD: F32,
  bDecD: F32,
  reconBD: F32,
  B: number,
  M: number,
  D: number,
): void {
  e.gemm(false, false, B, D, M, 1, fBM, M, wDecMD, D, 0, reconBD, D);
  e.addRowVec(reconBD, B, D, bDecD, 1);
}

/**
 * Dense decoder backward: gWDecMD ← fᵀ·gRecon (overwritten), gFBM ← gRecon·W_decᵀ (overwritten),
 * gBDecD ← colSum(gRecon) (overwritten).
 */
export function denseDecodeBackward(
  e: Engine,
  fBM: F32,
  gReconBD: F32,
  wDecMD: F32,
  gWDecMD: F32,
  gFBM: F32,
  gBDecD: F32,
  B: number,
  M: number,
  D: number,
): void {
  e.gemm(true, false, M, D, B, 1, fBM, M, gReconBD, D, 0, gWDecMD, D);
  e.gemm(false, true, B, M, D, 1, gReconBD, D, wDecMD, D, 0, gFBM, M);
  e.colSum(gReconBD, B, D, gBDecD, 1, 0);
}

/** Before the optimiser step: remove from each decoder-row gradient its component along the row. */
export function projectDecoderGrad(e: Engine, wDecMD: F32, gWDecMD: F32, M: number, D: number): void {
  e.projectOutRows(wDecMD, gWDecMD, M, D);
}

/** After the optimiser step: decoder rows back to unit norm. */
export function renormDecoder(e: Engine, wDecMD: F32, M: number, D: number): void {
  e.normalizeRows(wDecMD, M, D, null);
}

/**
 * Gradient of the penalty P = c·Σ_i s_i·‖W_dec,i‖ w.r.t. W_dec, where s_i = Σ_b a_bi is given
 * (a = f for ReLU, ReLU(π) for Gated) and c already holds λ/B: gW_dec,i += c·s_i·W_dec,i/‖W_dec,i‖.
 */
export function normPenaltyGradW(
  wDecMD: F32,
  normsM: F32,
  sumM: F32,
  c: number,
  gWDecMD: F32,
  M: number,
  D: number,
): void {
  for (let i = 0; i < M; i++) {
    const n = normsM[i];
    if (n === 0 || sumM[i] === 0) continue;
    const s = (c * sumM[i]) / n;
    const o = i * D;
    for (let j = 0; j < D; j++) gWDecMD[o + j] += s * wDecMD[o + j];
  }
}
