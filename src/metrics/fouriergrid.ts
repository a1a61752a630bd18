/**
 * The 2-D discrete Fourier transform of SAE latents over the p×p input grid (a, b) of the
 * modular-arithmetic testbed (docs/SCIENCE.md §5), as engine GEMMs: the kernel behind fourier.ts.
 * Split out of fourier.ts so that file holds the metrics and this one the transform.
 *
 * For each latent x[a, b] = actsNL[a·p + b, l], mean removed in float64, F = fft2(x) (numpy's sign
 * and scale: F[u, v] = Σ_a Σ_b x[a, b]·e^{−2πi(ua + vb)/p}) is computed as two separable real
 * transforms per block of B latents, all latents of the block in each product:
 *   1. along a, for u = 0..H only (real input: F[−u, −v] = conj F[u, v]):
 *      w[u, 0] = C_half·x, w[u, 1] = S_half·x, with x viewed as [p (a), p·B (b, latent)] — 2 GEMMs;
 *   2. along b, per u: [Re F[u, ·]; −Im F[u, ·]] = [[C, −S], [S, C]] · [w[u, 0]; w[u, 1]] — one
 *      [2p × 2p]·[2p × B] GEMM, handed to the caller before the next u overwrites it.
 * Work ≈ 9·p³·L flops (3.7·10¹⁰ at p = 113, L = 4096); memory ≈ 8·p²·B bytes besides the input.
 * Tables come from cos/sin(2πj/p) indexed by (u·a) mod p, so every angle is exact before rounding
 * to float32; the GEMMs accumulate in float32 (≈ 1e-6 of a latent's power), callers sum in float64.
 *
 * Letter legend: N = p² grid points (row a·p + b), L = latents, B = latents per block,
 * H = (p − 1)/2, U / V = frequencies along a / b.
 */
import { ConfigError, DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { getEngine, type Engine } from '../engine/index.js';

export interface GridOptions {
  /** Latents per block of the transform (default 256); memory ≈ 8·p²·B bytes. */
  blockLatents?: number;
  /** Engine for the GEMMs (default getEngine()). */
  engine?: Engine;
}

/**
 * The full 2-D power spectrum of every latent: powerLUV[l·p² + u·p + v] = |fft2(x_l − mean)|²[u, v]
 * for x_l[a, b] = actsNL[a·p + b, l]; (0, 0) is 0. Memory 8·L·p² bytes: meant for a few latents
 * (plots, tests); latentFourier summarises many without storing this.
 */
export function gridSpectrum(
  actsNL: Mat,
  p: number,
  opts: GridOptions = {},
): { p: number; latents: number; powerLUV: Float64Array } {
  checkGrid(actsNL, p, 'gridSpectrum');
  const L = actsNL.cols;
  const powerLUV = new Float64Array(L * p * p);
  gridTransform(actsNL, p, opts, 'gridSpectrum', (l0, lb, u, reImVB) => {
    for (let v = 0; v < p; v++) {
      const conj = ((p - u) % p) * p + ((p - v) % p);
      for (let j = 0; j < lb; j++) {
        const re = reImVB[v * lb + j];
        const im = reImVB[(p + v) * lb + j];
        const o = (l0 + j) * p * p;
        powerLUV[o + u * p + v] = powerLUV[o + conj] = u === 0 && v === 0 ? 0 : re * re + im * im;
      }
    }
  });
  return { p, latents: L, powerLUV };
}

/** Throws a ConfigError naming `who` unless p is an odd integer ≥ 3. */
export function checkModulus(p: number, who: string): void {
  if (!Number.isInteger(p) || p < 3 || p % 2 === 0)
    throw new ConfigError(`${who}: p = ${p}, expected an odd integer ≥ 3 (a prime modulus)`);
}

/** Throws unless p is a valid modulus and actsNL has the p² grid rows. */
function checkGrid(actsNL: Mat, p: number, who: string): void {
  checkModulus(p, who);
  const { rows: N, cols: L, data } = actsNL;
  if (N !== p * p || data.length !== N * L) {
    throw new ShapeError(
      `${who}: actsNL is ${fmtShape(N, L)} (${data.length} values) but p = ${p} needs p² = ${p * p} rows (row a·p ` +
        `+ b)`,
    );
  }
}

/** cos and sin of 2πj/p for j = 0..p − 1 (index products mod p for exact angles). */
export function unitCircle(p: number): [Float64Array, Float64Array] {
  const c = new Float64Array(p);
  const s = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    c[j] = Math.cos((2 * Math.PI * j) / p);
    s[j] = Math.sin((2 * Math.PI * j) / p);
  }
  return [c, s];
}

/**
 * Runs the 2-D DFT of every latent of actsNL (mean removed) block by block and calls
 * visit(l0, lb, u, reImVB) for u = 0..H, where reImVB [2p, lb] holds Re F[u, v] in rows v and
 * −Im F[u, v] in rows p + v for latents l0..l0 + lb − 1.
 */
export function gridTransform(
  actsNL: Mat,
  p: number,
  opts: GridOptions,
  who: string,
  visit: (l0: number, lb: number, u: number, reImVB: Float32Array) => void,
): void {
  checkGrid(actsNL, p, who);
  const { rows: N, cols: L, data } = actsNL;
  const block = opts.blockLatents ?? 256;
  if (!Number.isInteger(block) || block < 1)
    throw new ConfigError(`${who}: blockLatents = ${block}, expected an integer ≥ 1`);
  const B = Math.min(L, block);
  const engine = opts.engine ?? getEngine();
  const H = (p - 1) / 2;

  // Column means in float64. A constant column's mean is its value exactly (N·x is exact in
  // float64 for N < 2²⁹), so it centres to exact zeros and its spectrum is exactly 0.
  const mean = new Float64Array(L);
  for (let r = 0; r < N; r++) {
    const o = r * L;
    for (let l = 0; l < L; l++) mean[l] += data[o + l];
  }
  for (let l = 0; l < L; l++) {
    if (!Number.isFinite(mean[l]))
      throw new DataError('actsNL', `latent ${l}`, 'a non-finite activation', 'finite numbers');
    mean[l] /= N;
  }

  // Tables: half along a ([H + 1, p]), and the stacked [[C, −S], [S, C]] along b ([2p, 2p]).
  const [cosP, sinP] = unitCircle(p);
  const cHalfHP = new Float32Array((H + 1) * p);
  const sHalfHP = new Float32Array((H + 1) * p);
  for (let u = 0; u <= H; u++) {
    for (let a = 0; a < p; a++) {
      cHalfHP[u * p + a] = cosP[(u * a) % p];
      sHalfHP[u * p + a] = sinP[(u * a) % p];
    }
  }
  const mix = new Float32Array(4 * p * p);
  for (let v = 0; v < p; v++) {
    for (let b = 0; b < p; b++) {
      const c = cosP[(v * b) % p];
      const s = sinP[(v * b) % p];
      mix[v * 2 * p + b] = c;
      mix[v * 2 * p + p + b] = -s;
      mix[(p + v) * 2 * p + b] = s;
      mix[(p + v) * 2 * p + p + b] = c;
    }
  }

  const xcNB = new Float32Array(N * B); // centred block, row a·p + b
  const wHCB = new Float32Array((H + 1) * 2 * p * B); // [u][cos | sin][b][j]
  const reImVB = new Float32Array(2 * p * B);
  for (let l0 = 0; l0 < L; l0 += B) {
    const lb = Math.min(B, L - l0);
    const meanB = mean.subarray(l0, l0 + lb);
    for (let r = 0; r < N; r++) {
      const src = r * L + l0;
      const dst = r * lb;
      for (let j = 0; j < lb; j++) xcNB[dst + j] = data[src + j] - meanB[j];
    }
    // Along a: w[u, 0] = C_half·x, w[u, 1] = S_half·x, x viewed as [p (a), p·lb (b, j)].
    engine.gemm(false, false, H + 1, p * lb, p, 1, cHalfHP, p, xcNB, p * lb, 0, wHCB, 2 * p * lb);
    engine.gemm(false, false, H + 1, p * lb, p, 1, sHalfHP, p, xcNB, p * lb, 0, wHCB.subarray(p * lb), 2 * p * lb);
    // Along b, per u: [Re; −Im] (2p × lb) = [[C, −S], [S, C]] · [w[u, 0]; w[u, 1]].
    for (let u = 0; u <= H; u++) {
      const wu = wHCB.subarray(u * 2 * p * lb, (u + 1) * 2 * p * lb);
      engine.gemm(false, false, 2 * p, lb, 2 * p, 1, mix, 2 * p, wu, lb, 0, reImVB, lb);
      visit(l0, lb, u, reImVB);
    }
  }
}
