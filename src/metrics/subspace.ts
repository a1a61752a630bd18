/**
 * Subspace-level comparisons of two SAEs (docs/SCIENCE.md §3, "Subspace"): the top-k left singular
 * subspace of each decoder (atoms as columns, i.e. of W_decᵀ [d_in × m]) with its overlap
 * ‖U_Aᵀ U_B‖²_F / k (≈ k/d for random subspaces) and principal angles; SVCCA (Raghu et al. 2017:
 * PCA to 99% of the variance, then CCA, mean canonical correlation); and RSA of paired atoms
 * (Lan et al. 2024: Spearman correlation of the upper triangles of the two pairwise-cosine matrices
 * among paired atoms) with a shuffled-pairing permutation null (docs/SCIENCE.md §4: p = (1 + #{null ≥
 * obs}) / (1 + N)).
 *
 * Decisions:
 * - The decoder subspace comes from the d × d Gram W_decᵀW_dec = Σ_i a_i a_iᵀ (engine GEMM over
 *   blocks of atoms, summed in float64) and its eigendecomposition (linalg.ts). Forming the Gram
 *   squares the condition number, which only hurts the *small* singular values; the top-k subspace
 *   is accurate to ~1e-7·σ₁² / (σ_k² − σ_{k+1}²) radians (float32 GEMM), ample for overlaps.
 * - Principal angles use cosines for large angles and sines (from U_B − U_A U_AᵀU_B) where
 *   cos² ≥ ½, as scipy.linalg.subspace_angles (Knyazev & Argentati 2002): acos alone loses half the
 *   digits near 0.
 * - SVCCA needs *paired observations*: rows of the two inputs are the same tokens. It is meant for
 *   activations ([T × m], streamed through activations.ts, which calls `svccaFromEig` with
 *   its accumulated centred cross-products, so T × m is never held) or any other paired data.
 *   Decoder atoms have no pairing across SAEs (d coordinates would be the "observations", and with
 *   m ≥ d PCA keeps nearly all of R^d, making CCA ≈ 1 trivially), so use overlap/angles for them.
 *   "99% of the variance" counts eigenvalues of the covariance (σ² of the centred data).
 * - Spearman uses average ranks for ties (as scipy.stats.spearmanr). The RSA null permutes the
 *   pairing; ranks of a permuted upper triangle are a permutation of the same multiset, so each
 *   draw costs one O(n²) dot product. Many pairs are subsampled (seeded) to `maxPairs`.
 * Written by hand: numeric code with no TypeScript library fit (docs/ARCHITECTURE.md, "Dependencies").
 *
 * Letter legend: D = d_in, M = atoms per SAE, K = subspace dimension, N = observations (tokens),
 * P, Q = variables (latents) of the two sides, n = number of atom pairs.
 */
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import { getEngine } from '../engine/index.js';
import { cosineMatrix } from './cosine.js';
import { type SymEig, symEig, thinSvd } from './linalg.js';
import { permutationPValue } from './stats.js';

/** An orthonormal basis of a K-dimensional subspace of R^D, stored as rows. */
interface Basis {
  readonly d: number;
  readonly k: number;
  /** Orthonormal rows. [K × D] */
  readonly basisKD: Float64Array;
}

/** A decoder's top-k left singular subspace. */
interface DecoderSubspace extends Basis {
  /** The top K singular values of W_decᵀ (descending). [K] */
  readonly singularValues: Float64Array;
  /** Fraction of ‖W_dec‖²_F these K directions carry: Σ_top-K σ² / Σ σ². */
  readonly energy: number;
}

/**
 * Top-k left singular subspace of the decoder with atoms as columns (W_decᵀ [D × M]); pass the
 * atoms as rows `atomsMD` [M × D] (unit atoms, docs/SCIENCE.md §3). 1 ≤ k ≤ min(M, D).
 */
export function decoderSubspace(atomsMD: Mat, k: number, name = 'decoder atoms'): DecoderSubspace {
  const { rows: M, cols: D, data } = atomsMD;
  if (data.length !== M * D) throw new ShapeError(`${name}: ${data.length} values cannot be shaped ${fmtShape(M, D)}`);
  if (!Number.isInteger(k) || k < 1 || k > Math.min(M, D)) {
    throw new ConfigError(
      `decoderSubspace(${name} ${fmtShape(M, D)}): k = ${k}, expected an integer in [1, min(M, D) = ${Math.min(M, D)}]`,
    );
  }
  const engine = getEngine();
  const gramDD = new Float64Array(D * D);
  const blockDD = new Float32Array(D * D);
  const BLOCK = 4096; // atoms per float32 GEMM; blocks are summed in float64
  for (let r0 = 0; r0 < M; r0 += BLOCK) {
    const t = Math.min(BLOCK, M - r0);
    engine.gemm(
      true,
      false,
      D,
      D,
      t,
      1,
      data.subarray(r0 * D, (r0 + t) * D),
      D,
      data.subarray(r0 * D, (r0 + t) * D),
      D,
      0,
      blockDD,
      D,
    );
    for (let x = 0; x < D * D; x++) gramDD[x] += blockDD[x];
  }
  // Symmetrise (the float32 GEMM is symmetric up to rounding).
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < i; j++) {
      const s = 0.5 * (gramDD[i * D + j] + gramDD[j * D + i]);
      gramDD[i * D + j] = s;
      gramDD[j * D + i] = s;
    }
  }
  const { values, vectorsNN } = symEig(gramDD, D);
  let total = 0;
  for (let i = 0; i < D; i++) total += Math.max(values[i], 0);
  let top = 0;
  const singularValues = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    singularValues[i] = Math.sqrt(Math.max(values[i], 0));
    top += Math.max(values[i], 0);
  }
  return { d: D, k, basisKD: vectorsNN!.slice(0, k * D), singularValues, energy: total > 0 ? top / total : NaN };
}

/**
 * An orthonormal basis (rows) of the span of the K columns of `xDK` [D × K] (row-major): the left
 * singular vectors whose σ exceeds max(D, K)·ε·σ₁ (scipy.linalg.orth's cut-off). The basis may
 * thus have fewer than K rows.
 */
export function orthonormalBasis(xDK: ArrayLike<number>, d: number, k: number): Basis {
  const svd = thinSvd(xDK, d, k);
  const cut = Math.max(d, k) * 2 ** -52 * (svd.s[0] ?? 0);
  let r = 0;
  while (r < svd.k && svd.s[r] > cut) r++;
  const basisKD = new Float64Array(r * d);
  for (let t = 0; t < r; t++) for (let i = 0; i < d; i++) basisKD[t * d + i] = svd.uRK[i * svd.k + t];
  return { d, k: r, basisKD };
}

/** M = U_AᵀU_B as [K_A × K_B] (row-major) from row bases. */
function crossKK(a: Basis, b: Basis): Float64Array {
  if (a.d !== b.d) throw new ShapeError(`subspaces live in different spaces: d = ${a.d} vs d = ${b.d}`);
  const d = a.d;
  const out = new Float64Array(a.k * b.k);
  for (let p = 0; p < a.k; p++) {
    for (let q = 0; q < b.k; q++) {
      let s = 0;
      for (let i = 0; i < d; i++) s += a.basisKD[p * d + i] * b.basisKD[q * d + i];
      out[p * b.k + q] = s;
    }
  }
  return out;
}

/**
 * Subspace overlap ‖U_AᵀU_B‖²_F / min(K_A, K_B) ∈ [0, 1] (= /k for equal dimensions). Two
 * independent uniformly random k-subspaces of R^d give k/d in expectation.
 */
export function subspaceOverlap(a: Basis, b: Basis): number {
  const m = crossKK(a, b);
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m[i] * m[i];
  const k = Math.min(a.k, b.k);
  return k === 0 ? NaN : s / k;
}

/** Principal angles (radians, ascending, min(K_A, K_B) of them) between two subspaces. */
export function principalAngles(a: Basis, b: Basis): Float64Array {
  // Make `b` the lower-dimensional one: there are K_b angles.
  if (b.k > a.k) [a, b] = [b, a];
  const d = a.d;
  const m = crossKK(a, b); // [K_a × K_b]
  const cos = thinSvd(m, a.k, b.k).s; // descending cosines
  // Residual rows R = U_b − U_a·M (each of U_b's basis vectors minus its projection on span U_a).
  const rKD = new Float64Array(b.k * d);
  for (let q = 0; q < b.k; q++) {
    for (let i = 0; i < d; i++) {
      let s = b.basisKD[q * d + i];
      for (let p = 0; p < a.k; p++) s -= m[p * b.k + q] * a.basisKD[p * d + i];
      rKD[q * d + i] = s;
    }
  }
  const sinDesc = b.k > 0 ? thinSvd(rKD, b.k, d).s : new Float64Array(0);
  const out = new Float64Array(b.k);
  for (let t = 0; t < b.k; t++) {
    const c = Math.min(1, Math.max(-1, cos[t]));
    const sAsc = Math.min(1, sinDesc[b.k - 1 - t]);
    out[t] = c * c >= 0.5 ? Math.asin(sAsc) : Math.acos(c);
  }
  return out;
}

// ── SVCCA ──────────────────────────────────

interface SvccaOptions {
  /** Fraction of the variance each side's PCA keeps (default 0.99). */
  varianceKept?: number;
}

export interface SvccaResult {
  /** Mean canonical correlation; NaN when either side has no variance. */
  readonly mean: number;
  /** Canonical correlations, descending, clipped to [0, 1]; min(keptA, keptB) of them. */
  readonly correlations: Float64Array;
  /** PCA dimensions kept on each side. */
  readonly keptA: number;
  readonly keptB: number;
}

/** A matrix with rows = observations (Float32 or Float64 storage). */
interface DataMatrix {
  readonly data: ArrayLike<number>;
  readonly rows: number;
  readonly cols: number;
}

/**
 * SVCCA between two paired data sets, rows = the same observations: xNP [N × P], yNQ [N × Q].
 * Holds both in memory; for activations over many tokens use activations.ts (streamed).
 */
export function svcca(xNP: DataMatrix, yNQ: DataMatrix, opts: SvccaOptions = {}): SvccaResult {
  if (xNP.rows !== yNQ.rows) {
    throw new ShapeError(
      `svcca: x ${fmtShape(xNP.rows, xNP.cols)} and y ${fmtShape(yNQ.rows, yNQ.cols)} must have the same rows ` +
        `(observations)`,
    );
  }
  const cx = centredCross(xNP, xNP);
  const cy = centredCross(yNQ, yNQ);
  const cxy = centredCross(xNP, yNQ);
  return svccaFromCovariance(cx, xNP.cols, cy, yNQ.cols, cxy, opts);
}

/** Σ_n (x_n − x̄)ᵀ(y_n − ȳ) [P × Q] in float64. */
function centredCross(x: DataMatrix, y: DataMatrix): Float64Array {
  const { rows: N, cols: P } = x;
  const Q = y.cols;
  if (x.data.length !== N * P)
    throw new ShapeError(`svcca: ${x.data.length} values cannot be shaped ${fmtShape(N, P)}`);
  if (y.data.length !== N * Q)
    throw new ShapeError(`svcca: ${y.data.length} values cannot be shaped ${fmtShape(N, Q)}`);
  const mx = colMeans(x);
  const my = colMeans(y);
  const out = new Float64Array(P * Q);
  const zy = new Float64Array(Q);
  for (let n = 0; n < N; n++) {
    for (let q = 0; q < Q; q++) zy[q] = y.data[n * Q + q] - my[q];
    for (let p = 0; p < P; p++) {
      const zx = x.data[n * P + p] - mx[p];
      if (zx === 0) continue;
      const o = p * Q;
      for (let q = 0; q < Q; q++) out[o + q] += zx * zy[q];
    }
  }
  return out;
}

function colMeans(x: DataMatrix): Float64Array {
  const m = new Float64Array(x.cols);
  for (let n = 0; n < x.rows; n++) for (let c = 0; c < x.cols; c++) m[c] += x.data[n * x.cols + c];
  for (let c = 0; c < x.cols; c++) m[c] /= Math.max(x.rows, 1);
  return m;
}

/**
 * SVCCA from centred cross-products (any common scale): covPP = Z_XᵀZ_X [P × P], covQQ [Q × Q],
 * covPQ = Z_XᵀZ_Y [P × Q]. PCA: eigenvectors of covPP / covQQ up to the varianceKept fraction;
 * CCA: singular values of K = Λ_X^{-½}·P_Xᵀ·covPQ·P_Y·Λ_Y^{-½} — identical to CCA on the PCA-reduced
 * data (whose covariances are Λ_X, Λ_Y) without ever forming it. Cost O(P³ + Q³ + P·Q·K).
 */
export function svccaFromCovariance(
  covPP: ArrayLike<number>,
  p: number,
  covQQ: ArrayLike<number>,
  q: number,
  covPQ: ArrayLike<number>,
  opts: SvccaOptions = {},
): SvccaResult {
  if (covPP.length !== p * p)
    throw new ShapeError(`svcca: covariance of x has ${covPP.length} values, expected ${fmtShape(p, p)}`);
  if (covQQ.length !== q * q)
    throw new ShapeError(`svcca: covariance of y has ${covQQ.length} values, expected ${fmtShape(q, q)}`);
  if (covPQ.length !== p * q)
    throw new ShapeError(`svcca: cross-covariance has ${covPQ.length} values, expected ${fmtShape(p, q)}`);
  checkKeep(opts.varianceKept ?? 0.99);
  return svccaFromEig(symEig(covPP, p), symEig(covQQ, q), covPQ, opts);
}

/**
 * {@link svccaFromCovariance} with the two eigendecompositions already done (with vectors), so a
 * caller that also needs the spectra (activations.ts: effective rank) pays for them once.
 * The canonical correlations are √eig(KᵀK) (or of KKᵀ, the smaller): absolute accuracy ~1e-8,
 * ample for correlations in [0, 1], at a fraction of an SVD's cost.
 */
export function svccaFromEig(
  eigP: SymEig,
  eigQ: SymEig,
  covPQ: ArrayLike<number>,
  opts: SvccaOptions = {},
): SvccaResult {
  const keep = checkKeep(opts.varianceKept ?? 0.99);
  const p = eigP.n;
  const q = eigQ.n;
  if (covPQ.length !== p * q)
    throw new ShapeError(`svcca: cross-covariance has ${covPQ.length} values, expected ${fmtShape(p, q)}`);
  if (!eigP.vectorsNN || !eigQ.vectorsNN)
    throw new ConfigError('svccaFromEig: eigendecompositions must include eigenvectors');
  const pa = pcaKeep(eigP, keep);
  const pb = pcaKeep(eigQ, keep);
  const ka = pa.k;
  const kb = pb.k;
  if (ka === 0 || kb === 0) return { mean: NaN, correlations: new Float64Array(0), keptA: ka, keptB: kb };
  // t1 = P_Xᵀ·covPQ [ka × Q] (P_X rows are eigenvectors), then K = t1·P_Y [ka × kb], whitened.
  const t1 = new Float64Array(ka * q);
  for (let a = 0; a < ka; a++) {
    const o = a * q;
    for (let i = 0; i < p; i++) {
      const v = pa.vecs[a * p + i];
      if (v === 0) continue;
      const c = i * q;
      for (let j = 0; j < q; j++) t1[o + j] += v * covPQ[c + j];
    }
  }
  const kk = new Float64Array(ka * kb);
  for (let a = 0; a < ka; a++) {
    for (let b = 0; b < kb; b++) {
      let s = 0;
      for (let j = 0; j < q; j++) s += t1[a * q + j] * pb.vecs[b * q + j];
      kk[a * kb + b] = s / Math.sqrt(pa.vals[a] * pb.vals[b]);
    }
  }
  // Gram of K on its smaller side: r × r with r = min(ka, kb).
  const r = Math.min(ka, kb);
  const gram = new Float64Array(r * r);
  for (let x = 0; x < r; x++) {
    for (let y = 0; y <= x; y++) {
      let s = 0;
      if (kb <= ka) for (let a = 0; a < ka; a++) s += kk[a * kb + x] * kk[a * kb + y];
      else for (let b = 0; b < kb; b++) s += kk[x * kb + b] * kk[y * kb + b];
      gram[x * r + y] = s;
      gram[y * r + x] = s;
    }
  }
  const ev = symEig(gram, r, false).values;
  const correlations = new Float64Array(r);
  let sum = 0;
  for (let t = 0; t < r; t++) {
    correlations[t] = Math.min(1, Math.sqrt(Math.max(0, ev[t])));
    sum += correlations[t];
  }
  return { mean: sum / r, correlations, keptA: ka, keptB: kb };
}

function checkKeep(keep: number): number {
  if (!(keep > 0 && keep <= 1)) throw new ConfigError(`svcca: varianceKept = ${keep}, expected a number in (0, 1]`);
  return keep;
}

/**
 * How many leading eigenvalues (descending) carry `keep` of the positive variance. Eigenvalues at or
 * below 1e-9 of the largest count as zero: rounding noise of a rank-deficient covariance (float32
 * Gram matrices give tiny positive ones) must not become a component.
 */
export function keptComponents(values: ArrayLike<number>, keep: number): number {
  const n = values.length;
  const floor = n > 0 ? Math.max(values[0], 0) * 1e-9 : 0;
  let total = 0;
  for (let i = 0; i < n; i++) if (values[i] > floor) total += values[i];
  if (!(total > 0)) return 0;
  let k = 0;
  let cum = 0;
  while (k < n && values[k] > floor) {
    cum += values[k];
    k++;
    if (cum / total >= keep) break;
  }
  return k;
}

/** Top eigenpairs of a covariance carrying `keep` of its (positive) variance. */
function pcaKeep(eig: SymEig, keep: number): { k: number; vals: Float64Array; vecs: Float64Array } {
  const { n, values, vectorsNN } = eig;
  const k = keptComponents(values, keep);
  return { k, vals: values.slice(0, k), vecs: k > 0 ? vectorsNN!.slice(0, k * n) : new Float64Array(0) };
}

// ── Spearman and RSA ───────────────────────────────

/** 1-based ranks with ties given the average of the ranks they span (scipy.stats.rankdata). NaN throws. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  for (let i = 0; i < n; i++) if (Number.isNaN(x[i])) throw new ConfigError(`averageRanks: value ${i} is NaN`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  for (let s = 0; s < n;) {
    let e = s + 1;
    while (e < n && x[order[e]] === x[order[s]]) e++;
    const r = (s + 1 + e) / 2;
    for (let t = s; t < e; t++) ranks[order[t]] = r;
    s = e;
  }
  return ranks;
}

/** Pearson correlation in float64 (two-pass); NaN when either side is constant. */
function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] - mx;
    const b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Spearman rank correlation with average ranks for ties (= scipy.stats.spearmanr); NaN if constant. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new ShapeError(`spearman: x has ${x.length} values, y has ${y.length}`);
  if (x.length < 2) throw new ConfigError(`spearman: needs at least 2 values, got ${x.length}`);
  return pearson(averageRanks(x), averageRanks(y));
}

interface RsaOptions {
  /** Shuffled-pairing null draws (default 999; 0 skips the null). */
  nullDraws?: number;
  /** Seed of the null draws and of pair subsampling (default 0). */
  seed?: number;
  /** At most this many pairs are used, a seeded random subset when there are more (default 2048). */
  maxPairs?: number;
}

interface RsaResult {
  /** Spearman ρ between the upper triangles of the two paired-atom cosine matrices. */
  readonly rho: number;
  /** Pairs used (after subsampling) and upper-triangle length n(n − 1)/2. */
  readonly nPairs: number;
  readonly nEntries: number;
  /** Shuffled-pairing null: its mean and sd over the draws, and p = (1 + #{null ≥ ρ}) / (1 + N). */
  readonly nullMean: number;
  readonly nullSd: number;
  readonly p: number;
  readonly nullDraws: number;
}

/**
 * RSA of paired atoms (Lan et al. 2024): atom pairsA[t] of A ↔ pairsB[t] of B (e.g. from an
 * assignment). ρ = Spearman(upper(cos among A's paired atoms), upper(cos among B's)), with a null
 * that shuffles which B atom goes with which A atom. Atoms are rows (normalised on use).
 */
export function rsaPairedAtoms(
  atomsA: Mat,
  atomsB: Mat,
  pairsA: ArrayLike<number>,
  pairsB: ArrayLike<number>,
  opts: RsaOptions = {},
): RsaResult {
  const N = opts.nullDraws ?? 999;
  const maxPairs = opts.maxPairs ?? 2048;
  if (!Number.isInteger(N) || N < 0)
    throw new ConfigError(`rsaPairedAtoms: nullDraws = ${N}, expected an integer ` + `≥ 0`);
  if (!Number.isInteger(maxPairs) || maxPairs < 3)
    throw new ConfigError(`rsaPairedAtoms: maxPairs = ${maxPairs}, expected an integer ≥ 3`);
  if (pairsA.length !== pairsB.length) {
    throw new ShapeError(`rsaPairedAtoms: pairsA has ${pairsA.length} entries, pairsB has ${pairsB.length}`);
  }
  checkIndices(pairsA, atomsA.rows, 'pairsA');
  checkIndices(pairsB, atomsB.rows, 'pairsB');
  if (pairsA.length < 3) throw new ConfigError(`rsaPairedAtoms: needs at least 3 pairs, got ${pairsA.length}`);
  const rng = Rng.from(opts.seed ?? 0, 'rsa');
  let use = Array.from({ length: pairsA.length }, (_, t) => t);
  if (use.length > maxPairs) use = Array.from(rng.permutation(use.length).subarray(0, maxPairs)).sort((a, b) => a - b);
  const n = use.length;
  const gA = cosineMatrix(gatherRows(atomsA, pairsA, use), gatherRows(atomsA, pairsA, use), {
    nameA: 'A (paired)',
    nameB: 'A (paired)',
  });
  const gB = cosineMatrix(gatherRows(atomsB, pairsB, use), gatherRows(atomsB, pairsB, use), {
    nameA: 'B (paired)',
    nameB: 'B (paired)',
  });
  const E = (n * (n - 1)) / 2;
  const upA = new Float64Array(E);
  const upB = new Float64Array(E);
  for (let i = 0, t = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, t++) {
      upA[t] = gA.data[i * n + j];
      upB[t] = gB.data[i * n + j];
    }
  }
  const rA = averageRanks(upA);
  const rB = averageRanks(upB);
  const rho = pearson(rA, rB);
  // Null: the rank of B's entry (π(i), π(j)) moves to slot (i, j). Centre A's ranks once; the mean
  // of B's ranks is unchanged by permutation, so ρ_π = Σ cA_ij · rB[π(i), π(j)] / √(ΣcA² · ΣcB²).
  const rankBNN = new Float64Array(n * n);
  let meanB = 0;
  for (let i = 0, t = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++, t++) {
      rankBNN[i * n + j] = rB[t];
      rankBNN[j * n + i] = rB[t];
      meanB += rB[t];
    }
  }
  meanB /= E;
  let meanA = 0;
  for (let t = 0; t < E; t++) meanA += rA[t];
  meanA /= E;
  const cA = new Float64Array(E);
  let ssA = 0;
  let ssB = 0;
  for (let t = 0; t < E; t++) {
    cA[t] = rA[t] - meanA;
    ssA += cA[t] * cA[t];
    ssB += (rB[t] - meanB) ** 2;
  }
  const den = Math.sqrt(ssA * ssB);
  const nul = new Float64Array(N);
  if (Number.isFinite(rho) && den > 0) {
    for (let r = 0; r < N; r++) {
      const pi = rng.permutation(n);
      let s = 0;
      for (let i = 0, t = 0; i < n; i++) {
        const row = pi[i] * n;
        for (let j = i + 1; j < n; j++, t++) s += cA[t] * rankBNN[row + pi[j]];
      }
      nul[r] = s / den; // Σ cA = 0, so subtracting meanB is unnecessary
    }
  }
  let nm = 0;
  for (let r = 0; r < N; r++) nm += nul[r];
  nm = N > 0 ? nm / N : NaN;
  let nv = 0;
  for (let r = 0; r < N; r++) nv += (nul[r] - nm) ** 2;
  const ok = Number.isFinite(rho) && N > 0;
  return {
    rho,
    nPairs: n,
    nEntries: E,
    nullMean: ok ? nm : NaN,
    nullSd: ok && N > 1 ? Math.sqrt(nv / (N - 1)) : NaN,
    p: ok ? permutationPValue(rho, nul) : NaN,
    nullDraws: N,
  };
}

function checkIndices(idx: ArrayLike<number>, n: number, what: string): void {
  for (let t = 0; t < idx.length; t++) {
    const v = idx[t];
    if (!Number.isInteger(v) || v < 0 || v >= n)
      throw new ShapeError(`rsaPairedAtoms: ${what}[${t}] = ${v}, expected an atom index in [0, ${n})`);
  }
}

function gatherRows(m: Mat, idx: ArrayLike<number>, use: number[]): Mat {
  const D = m.cols;
  const out = new Float32Array(use.length * D);
  for (let t = 0; t < use.length; t++) out.set(m.data.subarray(idx[use[t]] * D, (idx[use[t]] + 1) * D), t * D);
  return { data: out, rows: use.length, cols: D };
}
