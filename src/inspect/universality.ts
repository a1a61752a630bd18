/**
 * Cross-model universality of SAE features (issue 7 item 4; docs/SCIENCE.md §3 "Activation similarity"
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
 *   4. Nulls (docs/SCIENCE.md §4), p = (1 + #{null ≥ obs}) / (1 + draws) (not Lan's mean(null ≥ obs)):
 *      (i) shuffled pairing — permute the B partners `draws` times and recompute SVCCA / RSA (Lan's
 *      `shuffle_rand`); (ii) shuffled inputs — `corrDraws` full passes with B's rows in a random
 *      order (breaking the shared inputs), giving the null of the correlations and, rerunning the
 *      many-to-one pairing, filter, SVCCA and RSA on each pass, a null for those too. (ii) is the
 *      one to trust for SVCCA / RSA: on unrelated inputs (test/inspect/universality.test.ts) the
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
 *
 * This file owns the entry point, compareAcrossModels; its options and result types are
 * universality-types.ts (re-exported here). The pass over the shared rows and the pairings read
 * off it live in universality-pass.ts, the SVCCA / RSA of a pairing with its nulls in
 * universality-svcca.ts (whiten, meanCanonical re-exported here), and the matrix over several SAEs
 * (with its `--matrix` spec and Holm adjustment), built on this file, in universality-matrix.ts.
 */
import { ConfigError, DataError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { getEngine } from '../engine/index.js';
import { summarizeNull } from '../metrics/nulls.js';
import { decoderAtoms } from '../sae/checkpoint/index.js';
import { assignLive, indicesOf, manyToOne, openRows, pass } from './universality-pass.js';
import type {
  PairedSimilarity,
  Resolved,
  UniversalityInput,
  UniversalityOptions,
  UniversalityResult,
} from './universality-types.js';
import {
  type PairContext,
  decoderRows,
  inputsNull,
  pValue,
  pairedSimilarity,
  pairedStats,
} from './universality-svcca.js';

export { meanCanonical, whiten } from './universality-svcca.js';
export type { PairedSimilarity, UniversalityOptions, UniversalityResult } from './universality-types.js';

/** Cross-model (layer, split) universality of two SAEs on shared inputs; see the file header. */
export function compareAcrossModels(
  a: UniversalityInput,
  b: UniversalityInput,
  opts: UniversalityOptions = {},
): UniversalityResult {
  const t0 = performance.now();
  const o = checkOptions(opts);
  const ra = openRows(a.acts, a.sae);
  const rb = openRows(b.acts, b.sae);
  const warnings: string[] = [];
  try {
    if (ra.rows !== rb.rows) {
      throw new DataError(
        b.acts,
        'rows',
        `${rb.rows} rows`,
        `${ra.rows} rows, as in ${a.acts}: both activation sets must hold the same inputs in the same order`,
      );
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
    const ctx: PairContext = {
      wA: decoderRows(a.sae),
      wB: decoderRows(b.sae),
      atomsA: decoderAtoms(a.sae),
      atomsB: decoderAtoms(b.sae),
      o,
      e,
    };
    const acc = pass(a, b, ra, rb, N, null, o.chunkRows, e, progress);
    const sim = acc.finish();
    const liveA = indicesOf(sim.liveA);
    const liveB = indicesOf(sim.liveB);
    if (liveA.length === 0 || liveB.length === 0) {
      const [acts, sae, m] = liveA.length === 0 ? [a.acts, a.sae, sim.mA] : [b.acts, b.sae, sim.mB];
      throw new DataError(
        acts,
        'latents',
        `all ${m} latents of the SAE at ${sae.source.path} dead on these rows`,
        'at least one live latent',
      );
    }
    const oneToOne = o.oneToOne ? assignLive(acc.pearsonMatrix(), sim.mB, liveA, liveB) : null;
    const many = manyToOne(sim.liveA, sim.pearson.ab.partner, sim.pearson.ab.value, o.minCorr);

    // Null (ii): B's rows in a random order, corrDraws full passes; the many-to-one pipeline rerun on each.
    const nul = {
      ab: [] as number[],
      ba: [] as number[],
      one: [] as number[],
      svcca: [] as number[],
      rsa: [] as number[],
      pairs: [] as number[],
    };
    for (let r = 0; r < o.corrDraws; r++) {
      const perm = Rng.from(o.seed, 'universality-rows', r).permutation(N);
      const nacc = pass(a, b, ra, rb, N, perm, o.chunkRows, e, progress);
      const ns = nacc.finish();
      nul.ab.push(ns.pearson.ab.mean);
      nul.ba.push(ns.pearson.ba.mean);
      if (oneToOne)
        nul.one.push(assignLive(nacc.pearsonMatrix(), ns.mB, indicesOf(ns.liveA), indicesOf(ns.liveB)).meanCorr);
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
      paired1to1 = pairedSimilarity(
        ctx,
        keep.map((q) => q.i),
        keep.map((q) => q.j),
        keep.map((q) => q.r),
        'one-to-one',
        warnings,
      );
    }
    const cn = summarizeNull(nul.ab);
    const c1 = summarizeNull(nul.one);
    const mean1 = oneToOne ? oneToOne.meanCorr : NaN;
    return {
      a_sae: a.sae.source.path,
      a_acts: a.acts,
      b_sae: b.sae.source.path,
      b_acts: b.acts,
      rows: N,
      d_a: a.sae.dIn,
      d_b: b.sae.dIn,
      m_a: sim.mA,
      m_b: sim.mB,
      dead_a: sim.deadA,
      dead_b: sim.deadB,
      min_corr: o.minCorr,
      draws: o.draws,
      corr_draws: o.corrDraws,
      seed: o.seed,
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

/** The options with their defaults filled in (checkOptions). */

export function checkOptions(opts: UniversalityOptions): Resolved {
  const o: Resolved = {
    rows: opts.rows,
    onProgress: opts.onProgress,
    draws: opts.draws ?? 100,
    corrDraws: opts.corrDraws ?? 19,
    seed: opts.seed ?? 0,
    minCorr: opts.minCorr ?? 0.1,
    oneToOne: opts.oneToOne ?? true,
    inputsNull: opts.inputsNull ?? true,
    varianceKept: opts.varianceKept ?? 0.99,
    rsaMaxPairs: opts.rsaMaxPairs ?? 2048,
    chunkRows: opts.chunkRows ?? 1024,
  };
  const int = (name: string, v: number | undefined, min: number): void => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min))
      throw new ConfigError(`universality: ${name} = ${v}, expected an integer ≥ ${min}`);
  };
  int('rows', o.rows, 2);
  int('draws', o.draws, 10);
  int('corrDraws', o.corrDraws, 1);
  int('rsaMaxPairs', o.rsaMaxPairs, 3);
  int('chunkRows', o.chunkRows, 1);
  if (!Number.isSafeInteger(o.seed)) throw new ConfigError(`universality: seed = ${o.seed}, expected an integer`);
  if (!(o.minCorr >= -1 && o.minCorr < 1))
    throw new ConfigError(`universality: minCorr = ${o.minCorr}, expected a number in [-1, 1)`);
  if (!(o.varianceKept > 0 && o.varianceKept <= 1))
    throw new ConfigError(`universality: varianceKept = ${o.varianceKept}, expected a number in (0, 1]`);
  return o;
}
