/**
 * LayerNorm over the last axis with learned gain and bias, forward and hand-written backward
 * (Ba et al. 2016; the optional normalisation of the modular-arithmetic transformer, docs/SCIENCE.md §5 —
 * Nanda et al.'s grokking recipe runs without it). Statistics in float64 per row; ε = 1e-5 as in
 * PyTorch and TransformerLens.
 *
 * Shapes: x, y [R, D]; gain, bias [D]; the cache keeps x̂ [R, D] and 1/σ [R] for the backward pass.
 */
import type { F32 } from '../engine/types.js';

const LN_EPS = 1e-5;

export interface LayerNormCache {
  xhatRD: F32;
  rstdR: Float64Array;
}

/** y = (x − mean)/√(var + ε) · gain + bias, per row. Fills the cache. y may not alias x. */
export function layerNormForward(
  xRD: F32,
  R: number,
  D: number,
  gainD: F32,
  biasD: F32,
  yRD: F32,
  cache: LayerNormCache,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * D;
    let mean = 0;
    for (let j = 0; j < D; j++) mean += xRD[o + j];
    mean /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (xRD[o + j] - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / D + LN_EPS);
    cache.rstdR[r] = rstd;
    for (let j = 0; j < D; j++) {
      const xh = (xRD[o + j] - mean) * rstd;
      cache.xhatRD[o + j] = xh;
      yRD[o + j] = xh * gainD[j] + biasD[j];
    }
  }
}

/**
 * Backward: gX (accumulated into, so residual gradients can be summed) from gY; gGain and gBias
 * accumulate too. gX[r] += rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = gY ⊙ gain.
 */
export function layerNormBackward(
  gYRD: F32,
  R: number,
  D: number,
  gainD: F32,
  cache: LayerNormCache,
  gXRD: F32,
  gGainD: F32,
  gBiasD: F32,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * D;
    let mg = 0;
    let mgx = 0;
    for (let j = 0; j < D; j++) {
      const g = gYRD[o + j];
      const xh = cache.xhatRD[o + j];
      gGainD[j] += g * xh;
      gBiasD[j] += g;
      const gh = g * gainD[j];
      mg += gh;
      mgx += gh * xh;
    }
    mg /= D;
    mgx /= D;
    const rstd = cache.rstdR[r];
    for (let j = 0; j < D; j++) {
      const gh = gYRD[o + j] * gainD[j];
      gXRD[o + j] += rstd * (gh - mg - cache.xhatRD[o + j] * mgx);
    }
  }
}
