/**
 * SVCCA and RSA of one pairing of latents (universality.ts, steps 3 and 4 of its header): the paired
 * decoder rows are whitened once (whiten: PCA to `varianceKept` of the variance, T = Z·V_k·Λ_k^{-½})
 * so that each shuffled-pairing draw of null (i) costs one GEMM and the eigenvalues of a
 * min(k_A, k_B)² Gram (meanCanonical); RSA is subspace.ts `rsaPairedAtoms` with its own null. Also
 * the summary of null (ii) from the row-shuffled passes (inputsNull), the p-value rule shared by all
 * of them (pValue), and the checked W_dec rows the pairs index into (decoderRows).
 */
import { DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import { getEngine } from '../engine/index.js';
import type { Engine } from '../engine/types.js';
import { symEig } from '../metrics/linalg.js';
import { summarizeNull } from '../metrics/nulls.js';
import { permutationPValue } from '../metrics/stats.js';
import { keptComponents, rsaPairedAtoms } from '../metrics/subspace.js';
import type { SaeWeights } from '../sae/checkpoint/index.js';
import type { PairedSimilarity, Resolved } from './universality-types.js';

/** p = (1 + #{null ≥ obs}) / (1 + draws); NaN when obs or any null value is not finite, or there is no null. */
export function pValue(obs: number, nul: number[]): number {
  return Number.isFinite(obs) && nul.length > 0 && nul.every(Number.isFinite) ? permutationPValue(obs, nul) : NaN;
}

export interface PairContext {
  /** Raw decoder rows (SVCCA, as Lan et al.) and unit atoms (RSA's cosines). */
  wA: Mat;
  wB: Mat;
  atomsA: Mat;
  atomsB: Mat;
  o: Resolved;
  e: Engine;
}

type PairedStats = Pick<
  PairedSimilarity,
  | 'svcca'
  | 'svcca_dims_a'
  | 'svcca_dims_b'
  | 'svcca_null_mean'
  | 'svcca_null_sd'
  | 'svcca_p'
  | 'rsa'
  | 'rsa_pairs'
  | 'rsa_null_mean'
  | 'rsa_null_sd'
  | 'rsa_p'
>;

/** SVCCA and RSA of the pairs (≥ 3) with `draws` shuffled-pairing draws (0: no null). */
export function pairedStats(
  ctx: PairContext,
  pairsA: number[],
  pairsB: number[],
  draws: number,
  label: string,
): PairedStats {
  const { o, e } = ctx;
  const n = pairsA.length;
  const tx = whiten(gatherRows(ctx.wA, pairsA), o.varianceKept, e);
  const ty = whiten(gatherRows(ctx.wB, pairsB), o.varianceKept, e);
  const svcca = meanCanonical(tx, ty, null, e);
  const nul = new Float64Array(draws);
  const rng = Rng.from(o.seed, 'universality-pairing', label);
  for (let r = 0; r < draws; r++) nul[r] = meanCanonical(tx, ty, rng.permutation(n), e);
  const sn = summarizeNull(nul);
  const rsa = rsaPairedAtoms(ctx.atomsA, ctx.atomsB, pairsA, pairsB, {
    nullDraws: draws,
    seed: o.seed,
    maxPairs: o.rsaMaxPairs,
  });
  return {
    svcca,
    svcca_dims_a: tx.k,
    svcca_dims_b: ty.k,
    svcca_null_mean: sn.mean,
    svcca_null_sd: sn.sd,
    svcca_p: pValue(svcca, Array.from(nul)),
    rsa: rsa.rho,
    rsa_pairs: rsa.nPairs,
    rsa_null_mean: rsa.nullMean,
    rsa_null_sd: rsa.nullSd,
    rsa_p: rsa.p,
  };
}

export const NO_INPUTS_NULL = {
  svcca_inputs_null_mean: NaN,
  svcca_inputs_null_sd: NaN,
  svcca_inputs_p: NaN,
  rsa_inputs_null_mean: NaN,
  rsa_inputs_null_sd: NaN,
  rsa_inputs_p: NaN,
  inputs_null_draws: 0,
  n_pairs_inputs_null_mean: NaN,
};

export function pairedSimilarity(
  ctx: PairContext,
  pairsA: number[],
  pairsB: number[],
  rho: number[],
  label: string,
  warnings: string[],
): PairedSimilarity {
  const n = pairsA.length;
  const base = {
    n_pairs: n,
    n_unique_b: new Set(pairsB).size,
    mean_corr_paired: n > 0 ? rho.reduce((s, v) => s + v, 0) / n : NaN,
    ...NO_INPUTS_NULL,
  };
  if (n < 3) {
    warnings.push(`${label}: only ${n} pairs with correlation > ${ctx.o.minCorr}; SVCCA and RSA need at least 3`);
    return {
      ...base,
      svcca: NaN,
      svcca_dims_a: 0,
      svcca_dims_b: 0,
      svcca_null_mean: NaN,
      svcca_null_sd: NaN,
      svcca_p: NaN,
      rsa: NaN,
      rsa_pairs: 0,
      rsa_null_mean: NaN,
      rsa_null_sd: NaN,
      rsa_p: NaN,
    };
  }
  const q = pairedStats(ctx, pairsA, pairsB, ctx.o.draws, label);
  if (q.svcca_dims_a + q.svcca_dims_b >= n) {
    warnings.push(
      `${label}: SVCCA on ${n} pairs keeps ${q.svcca_dims_a} + ${q.svcca_dims_b} PCA dimensions — canonical ` +
        `correlations approach 1 for any pairing; read it against the nulls`,
    );
  }
  return { ...base, ...q };
}

/** Null (ii) of the many-to-one SVCCA / RSA from the row-shuffled passes. */
export function inputsNull(
  nul: { svcca: number[]; rsa: number[]; pairs: number[] },
  obs: PairedSimilarity,
): typeof NO_INPUTS_NULL {
  if (nul.pairs.length === 0) return NO_INPUTS_NULL;
  const sv = summarizeNull(nul.svcca);
  const rs = summarizeNull(nul.rsa);
  return {
    svcca_inputs_null_mean: sv.mean,
    svcca_inputs_null_sd: sv.sd,
    svcca_inputs_p: pValue(obs.svcca, nul.svcca),
    rsa_inputs_null_mean: rs.mean,
    rsa_inputs_null_sd: rs.sd,
    rsa_inputs_p: pValue(obs.rsa, nul.rsa),
    inputs_null_draws: nul.svcca.length,
    n_pairs_inputs_null_mean: summarizeNull(nul.pairs).mean,
  };
}

/** W_dec [M × D] of a loaded SAE, checked. */
export function decoderRows(w: SaeWeights): Mat {
  const t = w.tensors.W_dec;
  if (t === undefined)
    throw new DataError(w.source.path, 'W_dec', 'missing', `${fmtShape(w.dSae, w.dIn)} (d_sae×d_in)`);
  if (t.data.length !== w.dSae * w.dIn)
    throw new ShapeError(
      `${w.source.path}: W_dec: found ${fmtShape(...t.shape)}, expected ${fmtShape(w.dSae, w.dIn)} (d_sae×d_in)`,
    );
  return { data: t.data, rows: w.dSae, cols: w.dIn };
}

function gatherRows(m: Mat, idx: ArrayLike<number>): Mat {
  const D = m.cols;
  const out = new Float32Array(idx.length * D);
  for (let t = 0; t < idx.length; t++) out.set(m.data.subarray(idx[t] * D, (idx[t] + 1) * D), t * D);
  return { data: out, rows: idx.length, cols: D };
}

/** Whitened PCA scores T [n × k] (orthonormal columns) of the column-centred rows of x. */
interface Whitened {
  readonly n: number;
  readonly k: number;
  readonly tNK: Float32Array;
}

/**
 * Centres the columns of x [n × P], takes the PCA directions carrying `keep` of the variance
 * (eigenvalues of ZᵀZ, as subspace.ts's SVCCA) and returns T = Z·V_k·Λ_k^{-½}. When n < P the
 * same T comes from the n × n Gram: T = the top-k eigenvectors of ZZᵀ (left singular vectors of Z).
 * Products are float32 GEMMs; the eigendecomposition is float64 (O(min(n, P)³)).
 */
export function whiten(x: Mat, keep: number, e: Engine = getEngine()): Whitened {
  const { rows: n, cols: P, data } = x;
  const mean = new Float64Array(P);
  for (let r = 0; r < n; r++) for (let c = 0; c < P; c++) mean[c] += data[r * P + c];
  for (let c = 0; c < P; c++) mean[c] /= n;
  const z = new Float32Array(n * P);
  for (let r = 0; r < n; r++) for (let c = 0; c < P; c++) z[r * P + c] = data[r * P + c] - mean[c];
  const gram = n < P;
  const q = gram ? n : P;
  const g32 = new Float32Array(q * q);
  if (gram) e.gemm(false, true, n, n, P, 1, z, P, z, P, 0, g32, n);
  else e.gemm(true, false, P, P, n, 1, z, P, z, P, 0, g32, P);
  const { values, vectorsNN } = symEig(symmetric64(g32, q), q);
  const k = keptComponents(values, keep);
  const t = new Float32Array(n * k);
  if (gram) {
    for (let a = 0; a < k; a++) for (let r = 0; r < n; r++) t[r * k + a] = vectorsNN![a * n + r];
  } else if (k > 0) {
    e.gemm(false, true, n, k, P, 1, z, P, Float32Array.from(vectorsNN!.subarray(0, k * P)), P, 0, t, k);
    for (let a = 0; a < k; a++) {
      const s = 1 / Math.sqrt(values[a]);
      for (let r = 0; r < n; r++) t[r * k + a] *= s;
    }
  }
  return { n, k, tNK: t };
}

/** ½(A + Aᵀ) of a float32 [q × q] GEMM result, in float64. */
function symmetric64(a: Float32Array, q: number): Float64Array {
  const out = new Float64Array(q * q);
  for (let i = 0; i < q; i++)
    for (let j = 0; j <= i; j++) out[i * q + j] = out[j * q + i] = 0.5 * (a[i * q + j] + a[j * q + i]);
  return out;
}

/** Mean canonical correlation of two whitened sides, y's rows taken in the order `perm` (null: as is). */
export function meanCanonical(
  x: Whitened,
  y: Whitened,
  perm: ArrayLike<number> | null,
  e: Engine = getEngine(),
): number {
  if (x.n !== y.n) throw new ShapeError(`meanCanonical: ${x.n} vs ${y.n} observations`);
  const { n, k: kx } = x;
  const ky = y.k;
  if (kx === 0 || ky === 0) return NaN;
  let ty = y.tNK;
  if (perm) {
    ty = new Float32Array(n * ky);
    for (let r = 0; r < n; r++) ty.set(y.tNK.subarray(perm[r] * ky, (perm[r] + 1) * ky), r * ky);
  }
  const kk = new Float32Array(kx * ky);
  e.gemm(true, false, kx, ky, n, 1, x.tNK, kx, ty, ky, 0, kk, ky);
  const r = Math.min(kx, ky);
  const g32 = new Float32Array(r * r);
  if (ky <= kx) e.gemm(true, false, ky, ky, kx, 1, kk, ky, kk, ky, 0, g32, ky);
  else e.gemm(false, true, kx, kx, ky, 1, kk, ky, kk, ky, 0, g32, kx);
  const ev = symEig(symmetric64(g32, r), r, false).values;
  let s = 0;
  for (let t = 0; t < r; t++) s += Math.min(1, Math.sqrt(Math.max(0, ev[t])));
  return s / r;
}
