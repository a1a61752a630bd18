/**
 * The cross-model universality contract (universality.ts computes it, universality-matrix.ts
 * tabulates it, report/universality.ts renders it): the two sides compared, the options, and the
 * flat `--json` result — every number beside its null and p.
 */
import type { SaeWeights } from '../sae/checkpoint/index.js';

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
  /**
   * Shuffled-input passes: null (ii) of the correlations and, with `inputsNull`, of the many-to-one SVCCA / RSA (≥ 1,
   * default 19: p can reach 0.05).
   */
  corrDraws?: number;
  seed?: number;
  /** Keep pairs with correlation > minCorr (default 0.1, Lan et al.). */
  minCorr?: number;
  /** Also the one-to-one assignment version (default true). */
  oneToOne?: boolean;
  /**
   * Rerun the many-to-one pairing + SVCCA + RSA on each row-shuffled pass: null (ii) for them (default true; two d × d
   * eigendecompositions per pass).
   */
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
  /**
   * One-to-one assignment: mean ρ over all assigned live pairs against null (ii); SVCCA/RSA of the filtered pairs
   * against null (i).
   */
  mean_corr_1to1: number;
  corr_1to1_null_mean: number;
  corr_1to1_null_sd: number;
  corr_1to1_p: number;
  paired_1to1: PairedSimilarity | null;
  seconds: number;
  warnings: string[];
}

/** Options with their defaults filled in (checkOptions in universality.ts). */
export type Resolved = Required<Omit<UniversalityOptions, 'rows' | 'onProgress'>> &
  Pick<UniversalityOptions, 'rows' | 'onProgress'>;
