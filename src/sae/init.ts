/**
 * Seed-only initialisation shared by the architectures (docs/SCIENCE.md §2, "Seeds": init from a seed
 * depends on nothing else — plain TypeScript over `Rng`, never the engine, so no thread count or
 * backend can change a bit). Decoder rows are Gaussian directions at a fixed norm and the encoder is
 * their transpose (Gao et al. 2024; Anthropic April 2024; Conerly et al.); biases start at zero (b_dec
 * is overwritten by the trainer with the geometric median of a data sample).
 *
 * Letters: D d_in, M d_sae.
 */
import type { Rng } from '../core/rng.js';

/** W_dec [M, D]: rows N(0, I) rescaled to `rowNorm`. Float64 norms so the result is exact per row. */
export function randomDecoder(rng: Rng, M: number, D: number, rowNorm: number): Float32Array {
  const wDecMD = new Float32Array(M * D);
  const row = new Float64Array(D);
  for (let i = 0; i < M; i++) {
    rng.fillNormal(row);
    let s = 0;
    for (let j = 0; j < D; j++) s += row[j] * row[j];
    const f = rowNorm / Math.sqrt(Math.max(s, 1e-300));
    for (let j = 0; j < D; j++) wDecMD[i * D + j] = row[j] * f;
  }
  return wDecMD;
}

/** W_enc [D, M] = W_decᵀ (scaled by `factor`). */
export function transposeToEncoder(wDecMD: Float32Array, M: number, D: number, factor = 1): Float32Array {
  const wEncDM = new Float32Array(D * M);
  for (let i = 0; i < M; i++) for (let j = 0; j < D; j++) wEncDM[j * M + i] = wDecMD[i * D + j] * factor;
  return wEncDM;
}
