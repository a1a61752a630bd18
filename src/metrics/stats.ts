/**
 * Statistics for stability claims (docs/SCIENCE.md §4, "Chance and statistics"): seed-level bootstrap
 * percentile CIs (resampling seeds, never latents — latents of one SAE are not independent),
 * permutation p-values p = (1 + #{null ≥ obs}) / (1 + N), Cohen's d with the pooled sd, and Holm /
 * Benjamini–Hochberg adjusted p-values (returned like statsmodels' `multipletests`). The one-sided
 * Mann–Whitney U test lives in mannwhitney.ts and is re-exported here, so this file is the one
 * entry point for statistics. Written by hand: small, exactly specified, and no TypeScript
 * statistics package matches scipy's and statsmodels' conventions.
 *
 * Letter legend: S = number of seeds; a pair matrix is S × S, entry [a][b] the metric between
 * seeds a and b (diagonal ignored).
 */
import { ConfigError, DataError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export { mannWhitneyU, normalSf } from './mannwhitney.js';

interface BootstrapOptions {
  /** Number of resamples (default 10,000). */
  resamples?: number;
  /** Seed of the resampling stream (default 0). */
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** A percentile bootstrap confidence interval. */
interface BootstrapCI {
  /** The statistic on the original seeds. */
  readonly estimate: number;
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  /** Resamples used for the percentiles. */
  readonly resamples: number;
  /** Resamples dropped because they held fewer than two distinct seeds (pair CIs only). */
  readonly skipped: number;
}

/** Percentile 95% CI of the mean of per-seed values, resampling the S seeds with replacement. */
export function bootstrapSeedsCI(perSeed: ArrayLike<number>, opts: BootstrapOptions = {}): BootstrapCI {
  const { resamples, seed, level } = checkBootstrap(opts);
  const x = checkFinite(perSeed, 'per-seed values');
  const S = x.length;
  if (S < 1) throw new ConfigError('bootstrapSeedsCI: needs at least one seed');
  const rng = Rng.from(seed, 'bootstrap-seeds');
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let k = 0; k < S; k++) s += x[rng.int(S)];
    stats[r] = s / S;
  }
  return percentileCI(meanOf(x), stats, level, 0);
}

/**
 * Percentile CI of the mean pairwise metric over seed pairs, resampling seeds (docs/SCIENCE.md §4).
 * `pairSS[a][b]` is the metric between seeds a and b; the diagonal is ignored, and an entry that is
 * NaN or missing is read from its mirror [b][a], so an upper triangle alone describes a symmetric
 * metric. The estimate is the mean over ordered pairs a ≠ b (for a symmetric metric, the mean over
 * unordered pairs). Each resample draws S seeds with replacement; a seed drawn k_a times enters
 * with weight k_a, so the pair (a, b) counts k_a·k_b times, and pairs of a seed with its own copies
 * (self-pairs) are excluded: mean = Σ_{a≠b} k_a k_b M_ab / Σ_{a≠b} k_a k_b. A resample with only one
 * distinct seed has no pair; it is dropped and counted in `skipped`.
 */
export function bootstrapPairsCI(pairSS: ReadonlyArray<ArrayLike<number>>, opts: BootstrapOptions = {}): BootstrapCI {
  const { resamples, seed, level } = checkBootstrap(opts);
  const m = readPairMatrix(pairSS);
  const S = pairSS.length;
  const counts = new Float64Array(S).fill(1);
  const estimate = weightedPairMean(m, S, counts);
  const rng = Rng.from(seed, 'bootstrap-pairs');
  const kept: number[] = [];
  let skipped = 0;
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    for (let k = 0; k < S; k++) counts[rng.int(S)]++;
    const v = weightedPairMean(m, S, counts);
    if (Number.isNaN(v)) skipped++;
    else kept.push(v);
  }
  return percentileCI(estimate, Float64Array.from(kept), level, skipped);
}

/**
 * The pair statistic of one resample: the mean of M over pairs of drawn positions whose seeds
 * differ, i.e. Σ_{a≠b} k_a k_b M_ab / Σ_{a≠b} k_a k_b with k_a = #draws of seed a (see
 * {@link bootstrapPairsCI}). NaN when fewer than two distinct seeds are drawn.
 */
export function resampledPairMean(pairSS: ReadonlyArray<ArrayLike<number>>, drawnSeeds: ArrayLike<number>): number {
  const m = readPairMatrix(pairSS);
  const S = pairSS.length;
  const counts = new Float64Array(S);
  for (let k = 0; k < drawnSeeds.length; k++) {
    const s = drawnSeeds[k];
    if (!Number.isInteger(s) || s < 0 || s >= S)
      throw new ConfigError(`resampledPairMean: seed index ${s} is not in [0, ${S})`);
    counts[s]++;
  }
  return weightedPairMean(m, S, counts);
}

function weightedPairMean(m: Float64Array, S: number, counts: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let a = 0; a < S; a++) {
    const ka = counts[a];
    if (ka === 0) continue;
    for (let b = 0; b < S; b++) {
      if (b === a || counts[b] === 0) continue;
      const w = ka * counts[b];
      num += w * m[a * S + b];
      den += w;
    }
  }
  return den === 0 ? NaN : num / den;
}

/** S × S pair values as a flat array, off-diagonal entries filled from their mirror when NaN. */
function readPairMatrix(pairSS: ReadonlyArray<ArrayLike<number>>): Float64Array {
  const S = pairSS.length;
  if (S < 2) throw new ConfigError(`pair matrix: needs at least 2 seeds, got ${S}`);
  const m = new Float64Array(S * S);
  for (let a = 0; a < S; a++) {
    if (pairSS[a].length !== S)
      throw new ConfigError(`pair matrix: row ${a} has ${pairSS[a].length} entries, expected ${S}`);
    for (let b = 0; b < S; b++) {
      if (a === b) continue;
      let v = pairSS[a][b];
      if (v === undefined || v === null || Number.isNaN(v)) v = pairSS[b][a];
      if (v === undefined || v === null || !Number.isFinite(v)) {
        throw new DataError('pair matrix', `entries [${a}][${b}] and [${b}][${a}]`, String(v), 'a finite metric value');
      }
      m[a * S + b] = v;
    }
  }
  return m;
}

/** Permutation p-value (docs/SCIENCE.md §4): (1 + #{null ≥ observed}) / (1 + N). */
export function permutationPValue(observed: number, nullValues: ArrayLike<number>): number {
  if (Number.isNaN(observed)) throw new ConfigError('permutationPValue: observed value is NaN');
  const nul = checkFinite(nullValues, 'null values');
  let ge = 0;
  for (let k = 0; k < nul.length; k++) if (nul[k] >= observed) ge++;
  return (1 + ge) / (1 + nul.length);
}

/**
 * One-sided two-sample permutation test of mean(x) − mean(y) > 0 (e.g. trained pair values vs
 * null pair values): relabels the pooled values `permutations` times and returns
 * p = (1 + #{perm stat ≥ observed}) / (1 + N). Ties within 1e-12 relative count as ≥.
 */
export function permutationTest(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { permutations?: number; seed?: number } = {},
): { statistic: number; p: number; permutations: number } {
  const xs = checkFinite(x, 'x');
  const ys = checkFinite(y, 'y');
  const N = opts.permutations ?? 9999;
  if (!Number.isInteger(N) || N < 1) throw new ConfigError(`permutations = ${N}: expected an integer ≥ 1`);
  if (xs.length === 0 || ys.length === 0)
    throw new ConfigError('permutationTest: both samples need at least one value');
  const pooled = new Float64Array([...xs, ...ys]);
  const n1 = xs.length;
  const n2 = ys.length;
  let sumAll = 0;
  for (const v of pooled) sumAll += v;
  const stat = (sumX: number): number => sumX / n1 - (sumAll - sumX) / n2;
  const observed = stat(sumRange(pooled, n1));
  const tol = 1e-12 * Math.max(1, Math.abs(observed));
  const rng = Rng.from(opts.seed ?? 0, 'permutation-test');
  let ge = 0;
  for (let r = 0; r < N; r++) {
    // Partial Fisher–Yates: the first n1 slots become a uniformly random subset.
    for (let i = 0; i < n1; i++) {
      const j = i + rng.int(pooled.length - i);
      const t = pooled[i];
      pooled[i] = pooled[j];
      pooled[j] = t;
    }
    if (stat(sumRange(pooled, n1)) >= observed - tol) ge++;
  }
  return { statistic: observed, p: (1 + ge) / (1 + N), permutations: N };
}

/**
 * Cohen's d = (mean(x) − mean(y)) / pooled sd, pooled sd² = ((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2).
 */
export function cohensD(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const xs = checkFinite(x, 'x');
  const ys = checkFinite(y, 'y');
  const n1 = xs.length;
  const n2 = ys.length;
  if (n1 + n2 < 3 || n1 === 0 || n2 === 0)
    throw new ConfigError(`cohensD: needs n₁, n₂ ≥ 1 and n₁ + n₂ ≥ 3, got ${n1}, ${n2}`);
  const m1 = meanOf(xs);
  const m2 = meanOf(ys);
  let ss = 0;
  for (const v of xs) ss += (v - m1) * (v - m1);
  for (const v of ys) ss += (v - m2) * (v - m2);
  const sp = Math.sqrt(ss / (n1 + n2 - 2));
  return (m1 - m2) / sp; // ±Infinity if both samples are constant and differ; NaN if identical
}

/** Holm step-down adjusted p-values, in input order (statsmodels `multipletests(method='holm')`). */
export function holm(p: ArrayLike<number>): Float64Array {
  const ps = checkPValues(p);
  const m = ps.length;
  const order = argsort(ps);
  const out = new Float64Array(m);
  let running = 0;
  for (let k = 0; k < m; k++) {
    running = Math.max(running, Math.min(1, (m - k) * ps[order[k]]));
    out[order[k]] = running;
  }
  return out;
}

/** Benjamini–Hochberg adjusted p-values, input order (statsmodels `multipletests(method='fdr_bh')`). */
export function benjaminiHochberg(p: ArrayLike<number>): Float64Array {
  const ps = checkPValues(p);
  const m = ps.length;
  const order = argsort(ps);
  const out = new Float64Array(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    running = Math.min(running, (m / (k + 1)) * ps[order[k]]);
    out[order[k]] = running;
  }
  return out;
}

function percentileCI(estimate: number, stats: Float64Array, level: number, skipped: number): BootstrapCI {
  const sorted = stats.slice().sort();
  const alpha = 1 - level;
  return {
    estimate,
    lo: quantileSorted(sorted, alpha / 2),
    hi: quantileSorted(sorted, 1 - alpha / 2),
    level,
    resamples: sorted.length,
    skipped,
  };
}

/** numpy's default ('linear') quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function checkBootstrap(opts: BootstrapOptions): { resamples: number; seed: number; level: number } {
  const resamples = opts.resamples ?? 10_000;
  const level = opts.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new ConfigError(`resamples = ${resamples}: expected an integer ≥ 1`);
  if (!(level > 0 && level < 1)) throw new ConfigError(`level = ${level}: expected a confidence level in (0, 1)`);
  return { resamples, seed: opts.seed ?? 0, level };
}

function checkFinite(x: ArrayLike<number>, name: string): Float64Array {
  const out = Float64Array.from(x);
  for (let k = 0; k < out.length; k++) {
    if (!Number.isFinite(out[k])) throw new DataError(name, `value ${k}`, String(out[k]), 'a finite number');
  }
  return out;
}

function checkPValues(p: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(p);
  for (let k = 0; k < out.length; k++) {
    if (!(out[k] >= 0 && out[k] <= 1))
      throw new DataError('p-values', `value ${k}`, String(out[k]), 'a probability in [0, 1]');
  }
  return out;
}

/** Indices sorting v ascending; stable, so equal values keep input order. */
function argsort(v: Float64Array): Int32Array {
  const idx = Int32Array.from({ length: v.length }, (_, k) => k);
  return idx.sort((a, b) => v[a] - v[b] || a - b);
}

function meanOf(x: Float64Array): number {
  return sumRange(x, x.length) / x.length;
}

function sumRange(x: Float64Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) s += x[k];
  return s;
}
