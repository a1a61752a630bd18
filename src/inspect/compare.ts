/**
 * Comparisons of trained SAEs, each reported against its chance value (docs/SCIENCE.md §3–§4): the
 * join of sae/checkpoint (atoms of any layout) and metrics/ behind `husai compare` and the study
 * analyses. Three shapes of question:
 * - two SAEs: MMCS both ways, PW-MCC signed and |·|, encoder PW-MCC, shared fraction, each headline
 *   value with a random-dictionary null of the same shapes;
 * - one SAE against ground-truth directions: gt_mcc, gt_mmcs, gt_recovered at 0.9 and 0.7;
 * - S ≥ 3 seeds: the pairwise PW-MCC matrix, its mean with a seed-level bootstrap CI, the null,
 *   and per-feature stability ("present in m of S seeds").
 * Output objects are flat, snake_case and JSON-serialisable: they are the `--json` contract.
 */
import { ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { type NullSummary, randomNull } from '../metrics/nulls.js';
import { gtMetrics, meanMaxAbsSym, mmcs, pwmcc, pwmccAbs, sharedFraction } from '../metrics/pairwise.js';
import { seedStability } from '../metrics/seeds.js';
import { bootstrapPairsCI } from '../metrics/stats.js';
import { type SaeWeights, decoderAtoms, encoderAtoms } from '../sae/checkpoint/index.js';

interface CompareOptions {
  /** Random-dictionary draws for the null (≥ 10, docs/SCIENCE.md §4). */
  nullDraws?: number;
  /** Cosine threshold τ for the shared fraction and per-feature stability (default 0.7). */
  tau?: number;
  /** Seed of the null draws and bootstrap resamples. */
  seed?: number;
}

interface PairComparison {
  mmcs_ab: number;
  mmcs_ba: number;
  mean_max_abs_sym: number;
  pwmcc: number;
  pwmcc_abs: number;
  enc_pwmcc: number;
  shared_fraction: number;
  tau: number;
  null_pwmcc_mean: number;
  null_pwmcc_sd: number;
  null_draws: number;
  pwmcc_excess: number;
  pwmcc_ratio: number;
  null_mmcs_ab_mean: number;
  null_mean_max_abs_sym_mean: number;
  n_a: number;
  n_b: number;
  d: number;
  dead_atoms_a: number;
  dead_atoms_b: number;
}

/** Two SAEs on the same d_in: every pairwise metric of docs/SCIENCE.md §3 with its random null. */
export function comparePair(a: SaeWeights, b: SaeWeights, opts: CompareOptions = {}): PairComparison {
  sameWidth(a, b);
  const tau = opts.tau ?? 0.7;
  const decA = decoderAtoms(a);
  const decB = decoderAtoms(b);
  const encA = encoderAtoms(a);
  const encB = encoderAtoms(b);
  const names = { nameA: a.source.path, nameB: b.source.path };
  const mm = mmcs(decA, decB, names);
  const pw = pwmcc(decA, decB, names).value;
  const shape = { nA: a.dSae, nB: b.dSae, d: a.dIn };
  const nullOpts = { draws: opts.nullDraws ?? 10, seed: opts.seed ?? 0 };
  const nullPw = randomNull((x, y) => pwmcc(x, y).value, shape, nullOpts);
  const nullMm = randomNull((x, y) => mmcs(x, y).mmcs_ab, shape, nullOpts);
  const nullSym = randomNull((x, y) => meanMaxAbsSym(x, y), shape, nullOpts);
  return {
    mmcs_ab: mm.mmcs_ab,
    mmcs_ba: mm.mmcs_ba,
    mean_max_abs_sym: meanMaxAbsSym(decA, decB, names),
    pwmcc: pw,
    pwmcc_abs: pwmccAbs(decA, decB, names).value,
    enc_pwmcc: pwmcc(encA, encB, names).value,
    shared_fraction: sharedFraction({ enc: encA, dec: decA }, { enc: encB, dec: decB }, { tau, ...names })
      .shared_fraction,
    tau,
    null_pwmcc_mean: nullPw.mean,
    null_pwmcc_sd: nullPw.sd,
    null_draws: nullPw.n,
    pwmcc_excess: pw - nullPw.mean,
    pwmcc_ratio: pw / nullPw.mean,
    null_mmcs_ab_mean: nullMm.mean,
    null_mean_max_abs_sym_mean: nullSym.mean,
    n_a: a.dSae,
    n_b: b.dSae,
    d: a.dIn,
    dead_atoms_a: decA.nZero,
    dead_atoms_b: decB.nZero,
  };
}

interface GroundTruthComparison {
  gt_mcc: number;
  gt_mmcs: number;
  gt_recovered_09: number;
  gt_recovered_07: number;
  null_gt_mcc_mean: number;
  null_gt_mcc_sd: number;
  n_gt: number;
  n_sae: number;
  d: number;
}

/** One SAE's decoder against true directions gtGD [n_gt, d] (docs/SCIENCE.md §3, "Ground truth"). */
export function compareGroundTruth(
  sae: SaeWeights,
  gtGD: Mat,
  gtName: string,
  opts: CompareOptions = {},
): GroundTruthComparison {
  if (gtGD.cols !== sae.dIn) {
    throw new ShapeError(
      `${gtName}: ground truth is ${fmtShape(gtGD.rows, gtGD.cols)} but ${sae.source.path} has d_in = ${sae.dIn}; ` +
        `expected [n_gt×${sae.dIn}]`,
    );
  }
  const dec = decoderAtoms(sae);
  const gt = gtMetrics(gtGD, dec, { taus: [0.9, 0.7], nameG: gtName, nameA: sae.source.path });
  const nul = randomNull(
    (g, x) => gtMetrics(g, x).gt_mcc,
    { nA: gtGD.rows, nB: sae.dSae, d: sae.dIn },
    { draws: opts.nullDraws ?? 10, seed: opts.seed ?? 0 },
  );
  return {
    gt_mcc: gt.gt_mcc,
    gt_mmcs: gt.gt_mmcs,
    gt_recovered_09: gt.gt_recovered[0].fraction,
    gt_recovered_07: gt.gt_recovered[1].fraction,
    null_gt_mcc_mean: nul.mean,
    null_gt_mcc_sd: nul.sd,
    n_gt: gtGD.rows,
    n_sae: sae.dSae,
    d: sae.dIn,
  };
}

interface SeedComparison {
  n_seeds: number;
  paths: string[];
  /** pwmcc[i][j] between seed i and seed j (1 on the diagonal). */
  pwmcc_matrix: number[][];
  pwmcc_mean: number;
  pwmcc_ci_lo: number;
  pwmcc_ci_hi: number;
  ci_level: number;
  null_pwmcc_mean: number;
  null_pwmcc_sd: number;
  pwmcc_excess: number;
  pwmcc_ratio: number;
  tau: number;
  /**
   * present_in[m − 1] = fraction of all latents (over seeds) whose matches reach τ in m of S seeds (itself
   * included).
   */
  present_in: number[];
  unique_fraction: number;
  mean_feature_stability: number;
  n_consensus: number;
}

/** S ≥ 3 SAEs of one configuration (different seeds): the seed-study summary. */
export function compareSeeds(saes: SaeWeights[], opts: CompareOptions = {}): SeedComparison {
  if (saes.length < 3) throw new ShapeError(`a seed comparison needs ≥ 3 SAEs, got ${saes.length}`);
  for (const s of saes.slice(1)) sameWidth(saes[0], s);
  const tau = opts.tau ?? 0.7;
  const atoms = saes.map((s) => decoderAtoms(s));
  // One assignment per seed pair serves both the PW-MCC matrix and per-feature stability.
  const stab = seedStability(atoms, { tau });
  const matrix = stab.pwmcc;
  const ci = bootstrapPairsCI(matrix, { seed: opts.seed ?? 0 });
  const nul: NullSummary = randomNull(
    (x, y) => pwmcc(x, y).value,
    { nA: saes[0].dSae, nB: saes[1].dSae, d: saes[0].dIn },
    {
      draws: opts.nullDraws ?? 10,
      seed: opts.seed ?? 0,
    },
  );
  const total = stab.histogram.reduce((x, y) => x + y, 0);
  const presentIn = Array.from(stab.histogram.subarray(1), (c) => c / total);
  return {
    n_seeds: saes.length,
    paths: saes.map((s) => s.source.path),
    pwmcc_matrix: matrix,
    pwmcc_mean: ci.estimate,
    pwmcc_ci_lo: ci.lo,
    pwmcc_ci_hi: ci.hi,
    ci_level: ci.level,
    null_pwmcc_mean: nul.mean,
    null_pwmcc_sd: nul.sd,
    pwmcc_excess: ci.estimate - nul.mean,
    pwmcc_ratio: ci.estimate / nul.mean,
    tau,
    present_in: presentIn,
    unique_fraction: presentIn[0],
    mean_feature_stability: stab.meanStability,
    n_consensus: stab.consensus.length,
  };
}

function sameWidth(a: SaeWeights, b: SaeWeights): void {
  if (a.dIn !== b.dIn) {
    throw new ShapeError(
      `${a.source.path} has d_in = ${a.dIn} but ${b.source.path} has d_in = ${b.dIn}: SAEs compared by atoms must ` +
        `read the same activation width`,
    );
  }
}
