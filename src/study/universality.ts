/**
 * Cross-model universality of SAE features (issue 7 item 4; SCIENCE.md §3 "Activation similarity"
 * and "Subspace", §4): two SAEs, each trained on its own model's (or layer's, or data split's)
 * activations, encoded on the SAME inputs in the same order. Procedure of Lan et al. 2024 ("Sparse
 * autoencoders reveal universal feature spaces across large language models", arXiv 2410.06981;
 * code github.com/wlg1/univ_feat_geom, run_pipeline/run_expm_fns.py):
 *   1. Pearson correlation between every latent of A and every latent of B over the shared rows
 *      (streamed: metrics/activations.ts accumulates the co-moments chunk by chunk, never T × m);
 *      dead latents (never non-zero on these rows) are excluded and counted.
 *   2. Pair each live latent of A with its max-correlation live latent of B (many-to-one, as Lan's
 *      `batched_correlation`); keep pairs whose correlation exceeds `minCorr` (Lan: 0.1). Lan's
 *      second filter (shared top-activating tokens, no "junk" tokens) is text-specific and is not
 *      applied. Also reported: the one-to-one version (a maximum-weight assignment on the live
 *      correlation matrix, metrics/assignment.ts), with the same `minCorr` filter.
 *   3. SVCCA (PCA to 99% of the variance, then CCA, mean canonical correlation) between the paired
 *      decoder rows: W_dec of A's paired latents [n × d_A] vs W_dec of their B partners [n × d_B] —
 *      the pairs are the observations, as in Lan's `svcca(weight_matrix_1[inds_A], …)`. RSA:
 *      Spearman correlation of the paired atoms' cosine matrices (subspace.ts `rsaPairedAtoms`;
 *      Lan uses Pearson "correlation" as inner similarity, i.e. cosine of row-centred atoms).
 *   4. Nulls (SCIENCE.md §4), p = (1 + #{null ≥ obs}) / (1 + draws) (not Lan's mean(null ≥ obs)):
 *      (i) shuffled pairing — permute the B partners `draws` times and recompute SVCCA / RSA (Lan's
 *      `shuffle_rand`); (ii) shuffled inputs — `corrDraws` full passes with B's rows in a random
 *      order (breaking the shared inputs), giving the null of the correlations and, rerunning the
 *      many-to-one pairing, filter, SVCCA and RSA on each pass, a null for those too. (ii) is the
 *      one to trust for SVCCA / RSA: on unrelated inputs (test/study/universality.test.ts) the
 *      many-to-one SVCCA and RSA beat null (i) at p = 1/(1 + draws) yet sit at null (ii), because
 *      latents of A with correlated activations tend to pick the same chance partner in B, so even
 *      a chance pairing follows A's geometry, which shuffling the pairs destroys.
 * SVCCA under a shuffled pairing is computed exactly and cheaply: permuting the rows of Y leaves
 * its covariance, hence its PCA, unchanged, so both sides are whitened once (T = Z·V_k·Λ_k^{-½},
 * orthonormal columns) and each draw costs one GEMM Tᵀ_X·T_Y[π] plus the eigenvalues of a
 * min(k_A, k_B)² Gram. The test checks it against subspace.ts `svcca` (the float64 slow twin).
 * Caveat: with n pairs and k_A + k_B PCA dimensions close to n, canonical correlations approach 1
 * whatever the pairing — the null shows it; `warnings` says so.
 * Cost, per comparison: 1 + corrDraws passes, each encoding both SAEs on N rows plus ~4·N·M_A·M_B
 * GEMM flops (memory 16·M_A·M_B bytes for the co-moments, another 8·M_A·M_B for the one-to-one
 * assignment); per pairing two PCA eigendecompositions of min(n, D)² (plain TypeScript: ≈ 7 s at
 * 1280, ≈ 30 s at 2048), then `draws` eigenvalue-only solves of min(k_A, k_B)² (≈ 1 s at 1000);
 * with `inputsNull` the many-to-one PCA is redone on every shuffled pass. At d = 1280 vs 2048 that
 * is ≈ 15 minutes with the defaults, nearly all of it eigendecompositions.
 *
 * Letters: N rows (inputs), D_A / D_B = d_in of each SAE, M_A / M_B latents, n pairs, k PCA dims.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import { findShards, type RowReader, type ShardSet } from '../data/shards.js';
import { getEngine } from '../engine/index.js';
import type { Engine } from '../engine/types.js';
import { ActivationSimilarityAccumulator } from '../metrics/activations.js';
import { linearSumAssignment } from '../metrics/assignment.js';
import { symEig } from '../metrics/linalg.js';
import { summarizeNull } from '../metrics/nulls.js';
import { holm, permutationPValue } from '../metrics/stats.js';
import { rsaPairedAtoms } from '../metrics/subspace.js';
import { type SaeWeights, decoderAtoms } from '../sae/checkpoint/index.js';
import { encodeLatents } from '../sae/checkpoint/encode.js';

/** One side: an SAE and the activations to encode (same rows, same order as the other side). */
export interface UniversalityInput {
  sae: SaeWeights;
  /** .npy, .safetensors or a shard folder (data/shards.ts), read in row order. */
  acts: string;
}

export interface UniversalityOptions {
  /** Use at most this many rows (the first ones); default all. */
  rows?: number;
  /** Shuffled-pairing draws for SVCCA / RSA (≥ 10, default 100). */
  draws?: number;
  /** Shuffled-input passes: null (ii) of the correlations and, with `inputsNull`, of the many-to-one SVCCA / RSA (≥ 1, default 19: p can reach 0.05). */
  corrDraws?: number;
  seed?: number;
  /** Keep pairs with correlation > minCorr (default 0.1, Lan et al.). */
  minCorr?: number;
  /** Also the one-to-one assignment version (default true). */
  oneToOne?: boolean;
  /** Rerun the many-to-one pairing + SVCCA + RSA on each row-shuffled pass: null (ii) for them (default true; two d × d eigendecompositions per pass). */
  inputsNull?: boolean;
  /** SVCCA's PCA variance fraction (default 0.99). */
  varianceKept?: number;
  /** RSA uses at most this many pairs, a seeded subset (default 2048). */
  rsaMaxPairs?: number;
  /** Rows encoded per chunk (default 1024). */
  chunkRows?: number;
  /** Called after each chunk of each pass: rows done and total rows over all passes. */
  onProgress?: (done: number, total: number) => void;
}

/** SVCCA and RSA of one pairing beside their nulls (NaN with fewer than 3 pairs). */
export interface PairedSimilarity {
  n_pairs: number;
  n_unique_b: number;
  mean_corr_paired: number;
  svcca: number;
  svcca_dims_a: number;
  svcca_dims_b: number;
  /** Null (i): the same pairs with the B partners shuffled (Lan et al.'s null), `draws` times. */
  svcca_null_mean: number;
  svcca_null_sd: number;
  svcca_p: number;
  /**
   * Null (ii), many-to-one only: the whole pipeline (pairing, filter, SVCCA / RSA) rerun on inputs
   * whose B rows are shuffled; passes that keep fewer than 3 pairs are left out (`inputs_null_draws`
   * = passes used; NaN everywhere when none is left, e.g. when no chance correlation passes min_corr).
   */
  svcca_inputs_null_mean: number;
  svcca_inputs_null_sd: number;
  svcca_inputs_p: number;
  rsa: number;
  rsa_pairs: number;
  rsa_null_mean: number;
  rsa_null_sd: number;
  rsa_p: number;
  rsa_inputs_null_mean: number;
  rsa_inputs_null_sd: number;
  rsa_inputs_p: number;
  inputs_null_draws: number;
  n_pairs_inputs_null_mean: number;
}

/** The flat `--json` result of one comparison: every number beside its null and p. */
export interface UniversalityResult {
  a_sae: string;
  a_acts: string;
  b_sae: string;
  b_acts: string;
  rows: number;
  d_a: number;
  d_b: number;
  m_a: number;
  m_b: number;
  dead_a: number;
  dead_b: number;
  min_corr: number;
  draws: number;
  corr_draws: number;
  seed: number;
  /** Mean over live A latents of the max Pearson ρ with a live B latent (and the reverse), against null (ii). */
  mean_corr: number;
  mean_corr_ba: number;
  corr_null_mean: number;
  corr_null_sd: number;
  corr_z: number;
  corr_p: number;
  corr_ba_null_mean: number;
  corr_ba_p: number;
  /** Many-to-one pairing (Lan et al.), filtered at min_corr. */
  paired: PairedSimilarity;
  /** One-to-one assignment: mean ρ over all assigned live pairs against null (ii); SVCCA/RSA of the filtered pairs against null (i). */
  mean_corr_1to1: number;
  corr_1to1_null_mean: number;
  corr_1to1_null_sd: number;
  corr_1to1_p: number;
  paired_1to1: PairedSimilarity | null;
  seconds: number;
  warnings: string[];
}

/** Cross-model (layer, split) universality of two SAEs on shared inputs; see the file header. */
export function compareAcrossModels(a: UniversalityInput, b: UniversalityInput, opts: UniversalityOptions = {}): UniversalityResult {
  const t0 = performance.now();
  const o = checkOptions(opts);
  const ra = new RowTable(a.acts, a.sae);
  const rb = new RowTable(b.acts, b.sae);
  const warnings: string[] = [];
  try {
    if (ra.rows !== rb.rows) {
      throw new DataError(b.acts, 'rows', `${rb.rows} rows`, `${ra.rows} rows, as in ${a.acts}: both activation sets must hold the same inputs in the same order`);
    }
    const N = Math.min(ra.rows, o.rows ?? ra.rows);
    if (N < 2) throw new DataError(a.acts, 'rows', String(N), 'at least 2 rows');
    const e = getEngine();
    const total = N * (1 + o.corrDraws);
    let done = 0;
    const progress = (n: number): void => {
      done += n;
      o.onProgress?.(done, total);
    };
    const ctx: PairContext = { wA: decoderRows(a.sae), wB: decoderRows(b.sae), atomsA: decoderAtoms(a.sae), atomsB: decoderAtoms(b.sae), o, e };
    const acc = pass(a, b, ra, rb, N, null, o.chunkRows, e, progress);
    const sim = acc.finish();
    const liveA = indicesOf(sim.liveA);
    const liveB = indicesOf(sim.liveB);
    if (liveA.length === 0 || liveB.length === 0) {
      const [acts, sae, m] = liveA.length === 0 ? [a.acts, a.sae, sim.mA] : [b.acts, b.sae, sim.mB];
      throw new DataError(acts, 'latents', `all ${m} latents of the SAE at ${sae.source.path} dead on these rows`, 'at least one live latent');
    }
    const oneToOne = o.oneToOne ? assignLive(acc.pearsonMatrix(), sim.mB, liveA, liveB) : null;
    const many = manyToOne(sim.liveA, sim.pearson.ab.partner, sim.pearson.ab.value, o.minCorr);

    // Null (ii): B's rows in a random order, corrDraws full passes; the many-to-one pipeline rerun on each.
    const nul = { ab: [] as number[], ba: [] as number[], one: [] as number[], svcca: [] as number[], rsa: [] as number[], pairs: [] as number[] };
    for (let r = 0; r < o.corrDraws; r++) {
      const perm = Rng.from(o.seed, 'universality-rows', r).permutation(N);
      const nacc = pass(a, b, ra, rb, N, perm, o.chunkRows, e, progress);
      const ns = nacc.finish();
      nul.ab.push(ns.pearson.ab.mean);
      nul.ba.push(ns.pearson.ba.mean);
      if (oneToOne) nul.one.push(assignLive(nacc.pearsonMatrix(), ns.mB, indicesOf(ns.liveA), indicesOf(ns.liveB)).meanCorr);
      if (o.inputsNull) {
        const np = manyToOne(ns.liveA, ns.pearson.ab.partner, ns.pearson.ab.value, o.minCorr);
        nul.pairs.push(np.a.length);
        if (np.a.length >= 3) {
          const q = pairedStats(ctx, np.a, np.b, 0, '');
          if (Number.isFinite(q.svcca)) nul.svcca.push(q.svcca);
          if (Number.isFinite(q.rsa)) nul.rsa.push(q.rsa);
        }
      }
    }

    const m2o = pairedSimilarity(ctx, many.a, many.b, many.r, 'many-to-one', warnings);
    const paired = { ...m2o, ...inputsNull(nul, m2o) };
    let paired1to1: PairedSimilarity | null = null;
    if (oneToOne) {
      const keep = oneToOne.pairs.filter((q) => q.r > o.minCorr);
      paired1to1 = pairedSimilarity(ctx, keep.map((q) => q.i), keep.map((q) => q.j), keep.map((q) => q.r), 'one-to-one', warnings);
    }
    const cn = summarizeNull(nul.ab);
    const c1 = summarizeNull(nul.one);
    const mean1 = oneToOne ? oneToOne.meanCorr : NaN;
    return {
      a_sae: a.sae.source.path, a_acts: a.acts, b_sae: b.sae.source.path, b_acts: b.acts,
      rows: N, d_a: a.sae.dIn, d_b: b.sae.dIn, m_a: sim.mA, m_b: sim.mB, dead_a: sim.deadA, dead_b: sim.deadB,
      min_corr: o.minCorr, draws: o.draws, corr_draws: o.corrDraws, seed: o.seed,
      mean_corr: sim.pearson.ab.mean,
      mean_corr_ba: sim.pearson.ba.mean,
      corr_null_mean: cn.mean,
      corr_null_sd: cn.sd,
      corr_z: cn.sd > 0 ? (sim.pearson.ab.mean - cn.mean) / cn.sd : NaN,
      corr_p: pValue(sim.pearson.ab.mean, nul.ab),
      corr_ba_null_mean: summarizeNull(nul.ba).mean,
      corr_ba_p: pValue(sim.pearson.ba.mean, nul.ba),
      paired,
      mean_corr_1to1: mean1,
      corr_1to1_null_mean: c1.mean,
      corr_1to1_null_sd: c1.sd,
      corr_1to1_p: pValue(mean1, nul.one),
      paired_1to1: paired1to1,
      seconds: (performance.now() - t0) / 1000,
      warnings: [...new Set(warnings)],
    };
  } finally {
    ra.close();
    rb.close();
  }
}

type Resolved = Required<Omit<UniversalityOptions, 'rows' | 'onProgress'>> & Pick<UniversalityOptions, 'rows' | 'onProgress'>;

function checkOptions(opts: UniversalityOptions): Resolved {
  const o: Resolved = {
    rows: opts.rows, onProgress: opts.onProgress,
    draws: opts.draws ?? 100, corrDraws: opts.corrDraws ?? 19, seed: opts.seed ?? 0, minCorr: opts.minCorr ?? 0.1,
    oneToOne: opts.oneToOne ?? true, inputsNull: opts.inputsNull ?? true, varianceKept: opts.varianceKept ?? 0.99, rsaMaxPairs: opts.rsaMaxPairs ?? 2048, chunkRows: opts.chunkRows ?? 1024,
  };
  const int = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) throw new ConfigError(`universality: ${name} = ${v}, expected an integer ≥ ${min}`);
  };
  int('rows', o.rows, 2);
  int('draws', o.draws, 10);
  int('corrDraws', o.corrDraws, 1);
  int('rsaMaxPairs', o.rsaMaxPairs, 3);
  int('chunkRows', o.chunkRows, 1);
  if (!Number.isSafeInteger(o.seed)) throw new ConfigError(`universality: seed = ${o.seed}, expected an integer`);
  if (!(o.minCorr >= -1 && o.minCorr < 1)) throw new ConfigError(`universality: minCorr = ${o.minCorr}, expected a number in [-1, 1)`);
  if (!(o.varianceKept > 0 && o.varianceKept <= 1)) throw new ConfigError(`universality: varianceKept = ${o.varianceKept}, expected a number in (0, 1]`);
  return o;
}

function pValue(obs: number, nul: number[]): number {
  return Number.isFinite(obs) && nul.length > 0 && nul.every(Number.isFinite) ? permutationPValue(obs, nul) : NaN;
}

function indicesOf(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(i);
  return out;
}

/**
 * One pass over rows [0, N): A's rows in order, B's rows in order or, with `perm`, row perm[t]
 * of B beside row t of A. Both encoded chunk by chunk into a fresh accumulator.
 */
function pass(
  a: UniversalityInput, b: UniversalityInput, ra: RowTable, rb: RowTable, N: number, perm: Uint32Array | null,
  chunkRows: number, e: Engine, progress: (n: number) => void,
): ActivationSimilarityAccumulator {
  const acc = new ActivationSimilarityAccumulator(a.sae.dSae, b.sae.dSae, { within: false, spectral: false, nameA: a.sae.source.path, nameB: b.sae.source.path });
  const xA = new Float32Array(chunkRows * ra.d);
  const xB = new Float32Array(chunkRows * rb.d);
  for (let r0 = 0; r0 < N; r0 += chunkRows) {
    const n = Math.min(chunkRows, N - r0);
    ra.read(r0, n, xA);
    if (perm) rb.gather(perm.subarray(r0, r0 + n), xB);
    else rb.read(r0, n, xB);
    const zA = encodeLatents(a.sae, { data: xA.subarray(0, n * ra.d), rows: n, cols: ra.d }, e);
    const zB = encodeLatents(b.sae, { data: xB.subarray(0, n * rb.d), rows: n, cols: rb.d }, e);
    acc.update(zA, zB);
    progress(n);
  }
  return acc;
}

/** Maximum-weight one-to-one assignment on the live block of ρ [M_A × M_B]. */
function assignLive(rhoAB: Float64Array, mB: number, liveA: number[], liveB: number[]): { meanCorr: number; pairs: Array<{ i: number; j: number; r: number }> } {
  if (liveA.length === 0 || liveB.length === 0) return { meanCorr: NaN, pairs: [] };
  const block = new Float64Array(liveA.length * liveB.length);
  liveA.forEach((i, p) => liveB.forEach((j, q) => (block[p * liveB.length + q] = rhoAB[i * mB + j])));
  const asg = linearSumAssignment({ data: block, rows: liveA.length, cols: liveB.length }, { maximize: true, name: 'live correlation matrix' });
  const pairs = Array.from(asg.rowIdx, (p, t) => ({ i: liveA[p], j: liveB[asg.colIdx[t]], r: block[p * liveB.length + asg.colIdx[t]] }));
  return { meanCorr: asg.total / pairs.length, pairs };
}

/** Many-to-one pairs (Lan et al.): each live A latent → its max-correlation live B latent, kept when ρ > minCorr. */
function manyToOne(liveA: Uint8Array, partner: Int32Array, value: Float64Array, minCorr: number): { a: number[]; b: number[]; r: number[] } {
  const out = { a: [] as number[], b: [] as number[], r: [] as number[] };
  for (let i = 0; i < liveA.length; i++) {
    if (liveA[i] && partner[i] >= 0 && value[i] > minCorr) {
      out.a.push(i);
      out.b.push(partner[i]);
      out.r.push(value[i]);
    }
  }
  return out;
}

// ── SVCCA / RSA of paired decoder atoms with the shuffled-pairing null ────────────────────────

interface PairContext {
  /** Raw decoder rows (SVCCA, as Lan et al.) and unit atoms (RSA's cosines). */
  wA: Mat;
  wB: Mat;
  atomsA: Mat;
  atomsB: Mat;
  o: Resolved;
  e: Engine;
}

type PairedStats = Pick<PairedSimilarity, 'svcca' | 'svcca_dims_a' | 'svcca_dims_b' | 'svcca_null_mean' | 'svcca_null_sd' | 'svcca_p' | 'rsa' | 'rsa_pairs' | 'rsa_null_mean' | 'rsa_null_sd' | 'rsa_p'>;

/** SVCCA and RSA of the pairs (≥ 3) with `draws` shuffled-pairing draws (0: no null). */
function pairedStats(ctx: PairContext, pairsA: number[], pairsB: number[], draws: number, label: string): PairedStats {
  const { o, e } = ctx;
  const n = pairsA.length;
  const tx = whiten(gatherRows(ctx.wA, pairsA), o.varianceKept, e);
  const ty = whiten(gatherRows(ctx.wB, pairsB), o.varianceKept, e);
  const svcca = meanCanonical(tx, ty, null, e);
  const nul = new Float64Array(draws);
  const rng = Rng.from(o.seed, 'universality-pairing', label);
  for (let r = 0; r < draws; r++) nul[r] = meanCanonical(tx, ty, rng.permutation(n), e);
  const sn = summarizeNull(nul);
  const rsa = rsaPairedAtoms(ctx.atomsA, ctx.atomsB, pairsA, pairsB, { nullDraws: draws, seed: o.seed, maxPairs: o.rsaMaxPairs });
  return {
    svcca, svcca_dims_a: tx.k, svcca_dims_b: ty.k, svcca_null_mean: sn.mean, svcca_null_sd: sn.sd, svcca_p: pValue(svcca, Array.from(nul)),
    rsa: rsa.rho, rsa_pairs: rsa.nPairs, rsa_null_mean: rsa.nullMean, rsa_null_sd: rsa.nullSd, rsa_p: rsa.p,
  };
}

const NO_INPUTS_NULL = {
  svcca_inputs_null_mean: NaN, svcca_inputs_null_sd: NaN, svcca_inputs_p: NaN,
  rsa_inputs_null_mean: NaN, rsa_inputs_null_sd: NaN, rsa_inputs_p: NaN, inputs_null_draws: 0, n_pairs_inputs_null_mean: NaN,
};

function pairedSimilarity(ctx: PairContext, pairsA: number[], pairsB: number[], rho: number[], label: string, warnings: string[]): PairedSimilarity {
  const n = pairsA.length;
  const base = { n_pairs: n, n_unique_b: new Set(pairsB).size, mean_corr_paired: n > 0 ? rho.reduce((s, v) => s + v, 0) / n : NaN, ...NO_INPUTS_NULL };
  if (n < 3) {
    warnings.push(`${label}: only ${n} pairs with correlation > ${ctx.o.minCorr}; SVCCA and RSA need at least 3`);
    return { ...base, svcca: NaN, svcca_dims_a: 0, svcca_dims_b: 0, svcca_null_mean: NaN, svcca_null_sd: NaN, svcca_p: NaN, rsa: NaN, rsa_pairs: 0, rsa_null_mean: NaN, rsa_null_sd: NaN, rsa_p: NaN };
  }
  const q = pairedStats(ctx, pairsA, pairsB, ctx.o.draws, label);
  if (q.svcca_dims_a + q.svcca_dims_b >= n) {
    warnings.push(`${label}: SVCCA on ${n} pairs keeps ${q.svcca_dims_a} + ${q.svcca_dims_b} PCA dimensions — canonical correlations approach 1 for any pairing; read it against the nulls`);
  }
  return { ...base, ...q };
}

/** Null (ii) of the many-to-one SVCCA / RSA from the row-shuffled passes. */
function inputsNull(nul: { svcca: number[]; rsa: number[]; pairs: number[] }, obs: PairedSimilarity): typeof NO_INPUTS_NULL {
  if (nul.pairs.length === 0) return NO_INPUTS_NULL;
  const sv = summarizeNull(nul.svcca);
  const rs = summarizeNull(nul.rsa);
  return {
    svcca_inputs_null_mean: sv.mean, svcca_inputs_null_sd: sv.sd, svcca_inputs_p: pValue(obs.svcca, nul.svcca),
    rsa_inputs_null_mean: rs.mean, rsa_inputs_null_sd: rs.sd, rsa_inputs_p: pValue(obs.rsa, nul.rsa),
    inputs_null_draws: nul.svcca.length, n_pairs_inputs_null_mean: summarizeNull(nul.pairs).mean,
  };
}

/** W_dec [M × D] of a loaded SAE, checked. */
function decoderRows(w: SaeWeights): Mat {
  const t = w.tensors.W_dec;
  if (t === undefined) throw new DataError(w.source.path, 'W_dec', 'missing', `${fmtShape(w.dSae, w.dIn)} (d_sae×d_in)`);
  if (t.data.length !== w.dSae * w.dIn) throw new ShapeError(`${w.source.path}: W_dec: found ${fmtShape(...t.shape)}, expected ${fmtShape(w.dSae, w.dIn)} (d_sae×d_in)`);
  return { data: t.data, rows: w.dSae, cols: w.dIn };
}

function gatherRows(m: Mat, idx: ArrayLike<number>): Mat {
  const D = m.cols;
  const out = new Float32Array(idx.length * D);
  for (let t = 0; t < idx.length; t++) out.set(m.data.subarray(idx[t] * D, (idx[t] + 1) * D), t * D);
  return { data: out, rows: idx.length, cols: D };
}

/** Whitened PCA scores T [n × k] (orthonormal columns) of the column-centred rows of x. */
export interface Whitened {
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
  let total = 0;
  for (let i = 0; i < q; i++) total += Math.max(values[i], 0);
  let k = 0;
  for (let cum = 0; total > 0 && k < q && values[k] > 0; ) {
    cum += values[k++];
    if (cum / total >= keep) break;
  }
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
  for (let i = 0; i < q; i++) for (let j = 0; j <= i; j++) out[i * q + j] = out[j * q + i] = 0.5 * (a[i * q + j] + a[j * q + i]);
  return out;
}

/** Mean canonical correlation of two whitened sides, y's rows taken in the order `perm` (null: as is). */
export function meanCanonical(x: Whitened, y: Whitened, perm: ArrayLike<number> | null, e: Engine = getEngine()): number {
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

// ── the matrix over several SAEs ─────────────────────────────────────────────────────────────

/** One SAE of a matrix: a display name, the SAE and the activations it is encoded on. */
export interface MatrixEntry extends UniversalityInput {
  name: string;
}

type Cell = number | null;

/** Directional keys: [i][j] reads A = i's side, [j][i] the reverse direction of the same run. */
const DIRECTIONAL = ['mean_corr', 'corr_null_mean', 'corr_p'] as const;
/** Keys of the many-to-one `paired` block, mirrored across the diagonal. */
const MIRRORED = ['n_pairs', 'svcca', 'svcca_null_mean', 'svcca_null_sd', 'svcca_p', 'svcca_inputs_null_mean', 'svcca_inputs_p',
  'rsa', 'rsa_null_mean', 'rsa_null_sd', 'rsa_p', 'rsa_inputs_null_mean', 'rsa_inputs_p'] as const;
const HOLM = ['corr_p', 'svcca_p', 'svcca_inputs_p', 'rsa_p', 'rsa_inputs_p'] as const;
type MatrixKey = (typeof DIRECTIONAL)[number] | (typeof MIRRORED)[number] | `${(typeof HOLM)[number]}_holm`;

/**
 * Pairwise similarities of S SAEs on shared rows (`husai universality --matrix`), the report's input.
 * Entry [i][j], i < j, comes from compareAcrossModels(i as A, j as B); [j][i] from the same run:
 * mean_corr and its null / p read the reverse direction (B's latents → their best A partner), while
 * the many-to-one SVCCA, RSA and n_pairs are mirrored (their pairs are taken from the lower index's
 * side). The diagonal is null. `*_p_holm`: Holm-adjusted over all tests of that kind in the matrix
 * (SCIENCE.md §4). JSON-safe: unknown values are null. `pairs` holds every comparison in full.
 */
export type UniversalityMatrix = {
  format: 'husai-universality/1';
  names: string[];
  saes: string[];
  acts: string[];
  rows: number;
  draws: number;
  corr_draws: number;
  seed: number;
  min_corr: number;
  pairs: Array<{ a: string; b: string; result: UniversalityResult }>;
} & Record<MatrixKey, Cell[][]>;

/** All S(S − 1)/2 comparisons of `entries` (names unique, S ≥ 2); `onPair` reports progress. */
export function universalityMatrix(
  entries: MatrixEntry[], opts: UniversalityOptions & { onPair?: (a: string, b: string, done: number, total: number) => void } = {},
): UniversalityMatrix {
  const S = entries.length;
  if (S < 2) throw new ConfigError(`universality matrix: needs at least 2 SAEs, got ${S}`);
  const names = entries.map((x) => x.name);
  const dup = names.find((x, i) => names.indexOf(x) !== i);
  if (dup !== undefined) throw new ConfigError(`universality matrix: the name ${JSON.stringify(dup)} is used twice; names must be unique`);
  checkOptions(opts);
  const results: Array<{ i: number; j: number; r: UniversalityResult }> = [];
  const total = (S * (S - 1)) / 2;
  for (let i = 0; i < S; i++) {
    for (let j = i + 1; j < S; j++) {
      opts.onPair?.(names[i], names[j], results.length, total);
      results.push({ i, j, r: compareAcrossModels(entries[i], entries[j], opts) });
    }
  }
  return assemble(names, entries.map((x) => x.sae.source.path), entries.map((x) => x.acts), results);
}

/** A two-SAE matrix from one comparison (for `husai universality --a … --b … --report`). */
export function matrixOfPair(nameA: string, nameB: string, r: UniversalityResult): UniversalityMatrix {
  return assemble([nameA, nameB], [r.a_sae, r.b_sae], [r.a_acts, r.b_acts], [{ i: 0, j: 1, r }]);
}

function assemble(names: string[], saes: string[], acts: string[], results: Array<{ i: number; j: number; r: UniversalityResult }>): UniversalityMatrix {
  const keys: MatrixKey[] = [...DIRECTIONAL, ...MIRRORED, ...HOLM.map((k) => `${k}_holm` as const)];
  const m = Object.fromEntries(keys.map((k) => [k, names.map(() => names.map((): Cell => null))])) as Record<MatrixKey, Cell[][]>;
  const num = (v: number): Cell => (Number.isFinite(v) ? v : null);
  for (const { i, j, r } of results) {
    const dir: Record<(typeof DIRECTIONAL)[number], [number, number]> = {
      mean_corr: [r.mean_corr, r.mean_corr_ba], corr_null_mean: [r.corr_null_mean, r.corr_ba_null_mean], corr_p: [r.corr_p, r.corr_ba_p],
    };
    for (const k of DIRECTIONAL) [m[k][i][j], m[k][j][i]] = [num(dir[k][0]), num(dir[k][1])];
    for (const k of MIRRORED) m[k][i][j] = m[k][j][i] = num(r.paired[k]);
  }
  for (const k of HOLM) {
    const mirrored = k !== 'corr_p';
    const at: Array<[number, number]> = [];
    m[k].forEach((row, i) => row.forEach((v, j) => {
      if (i !== j && v !== null && (!mirrored || i < j)) at.push([i, j]);
    }));
    if (at.length === 0) continue;
    const adj = holm(at.map(([i, j]) => m[k][i][j] as number));
    at.forEach(([i, j], t) => {
      m[`${k}_holm`][i][j] = adj[t];
      if (mirrored) m[`${k}_holm`][j][i] = adj[t];
    });
  }
  const r0 = results[0].r;
  return {
    format: 'husai-universality/1', names, saes, acts,
    rows: r0.rows, draws: r0.draws, corr_draws: r0.corr_draws, seed: r0.seed, min_corr: r0.min_corr,
    ...m, pairs: results.map(({ i, j, r }) => ({ a: names[i], b: names[j], result: r })),
  };
}

const matrixSpecSchema = z.strictObject({
  _comment: z.union([z.string(), z.array(z.string())]).optional(),
  rows: z.number().int().min(2).optional(),
  draws: z.number().int().min(10).optional(),
  corr_draws: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
  min_corr: z.number().min(-1).lt(1).optional(),
  one_to_one: z.boolean().optional(),
  saes: z.array(z.strictObject({
    name: z.string().min(1),
    /** SAE directory, relative to the spec file. */
    sae: z.string().min(1),
    /** Activations the SAE is encoded on (the same rows for every entry), relative to the spec file. */
    acts: z.string().min(1),
    _comment: z.string().optional(),
  })).min(2),
});

/** A `--matrix` spec: SAE entries with paths resolved against the spec file, and the options it sets. */
export interface MatrixSpec {
  entries: Array<{ name: string; sae: string; acts: string }>;
  options: Pick<UniversalityOptions, 'rows' | 'draws' | 'corrDraws' | 'seed' | 'minCorr' | 'oneToOne'>;
}

/** Reads and validates a `--matrix` JSON spec (see studies/universality-models.json). */
export function readMatrixSpec(file: string): MatrixSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, 'content', (err as Error).message, 'a readable JSON universality spec');
  }
  const parsed = matrixSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const found = issue.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k as string | number] : undefined), raw);
    throw new DataError(file, issue.path.join('.') || '(top level)', found === undefined ? 'nothing' : JSON.stringify(found), issue.message);
  }
  const s = parsed.data;
  const dir = path.dirname(file);
  return {
    entries: s.saes.map((x) => ({ name: x.name, sae: path.resolve(dir, x.sae), acts: path.resolve(dir, x.acts) })),
    options: {
      ...(s.rows !== undefined ? { rows: s.rows } : {}), ...(s.draws !== undefined ? { draws: s.draws } : {}),
      ...(s.corr_draws !== undefined ? { corrDraws: s.corr_draws } : {}), ...(s.seed !== undefined ? { seed: s.seed } : {}),
      ...(s.min_corr !== undefined ? { minCorr: s.min_corr } : {}), ...(s.one_to_one !== undefined ? { oneToOne: s.one_to_one } : {}),
    },
  };
}

// ── activations read in row order ─────────────────────────────────────────────────────────────

/** A shard set read by global row index, in order (`read`) or scattered (`gather`). */
class RowTable {
  readonly rows: number;
  readonly d: number;
  private readonly set: ShardSet;
  private readonly first: number[] = [0];
  private readonly open = new Map<number, RowReader>();

  constructor(readonly path: string, sae: SaeWeights) {
    this.set = findShards(path);
    this.rows = this.set.rows;
    this.d = this.set.d;
    for (const s of this.set.shards) this.first.push(this.first[this.first.length - 1] + s.rows);
    if (this.d !== sae.dIn) {
      throw new DataError(path, 'd (columns)', String(this.d), `${sae.dIn}, the d_in of the SAE at ${sae.source.path}`, 'pair each SAE with activations of the layer it was trained on');
    }
  }

  private reader(s: number): RowReader {
    let r = this.open.get(s);
    if (r === undefined) {
      r = this.set.shards[s].open();
      this.open.set(s, r);
    }
    return r;
  }

  private shardOf(row: number): number {
    let lo = 0;
    let hi = this.set.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.first[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Rows [start, start + count) into out. */
  read(start: number, count: number, out: Float32Array): void {
    let at = 0;
    while (at < count) {
      const row = start + at;
      const s = this.shardOf(row);
      const n = Math.min(count - at, this.first[s + 1] - row);
      this.reader(s).readRows(row - this.first[s], n, out.subarray(at * this.d, (at + n) * this.d));
      at += n;
    }
  }

  /** Rows idx[0], idx[1], … into consecutive rows of out. */
  gather(idx: ArrayLike<number>, out: Float32Array): void {
    for (let t = 0; t < idx.length; t++) this.read(idx[t], 1, out.subarray(t * this.d, (t + 1) * this.d));
  }

  close(): void {
    for (const r of this.open.values()) r.close();
    this.open.clear();
  }
}
