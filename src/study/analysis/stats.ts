/**
 * From pair values and null draws to the report's numbers (docs/SCIENCE.md §4; results.ts Estimate,
 * NullBand, StabilityStat): the mean over seed pairs with its seed-level bootstrap CI (resampling
 * seeds, never latents), the random and untrained nulls as mean ± sd, excess = value − null and
 * ratio = value / null, a one-sided Mann–Whitney U of the trained pair values against the random
 * null draws, Cohen's d (pooled sd), and Holm's adjustment across the cells of a study. Every
 * number is JSON-safe: non-finite values become null.
 */
import type { NullSummary } from '../../metrics/nulls.js';
import { bootstrapPairsCI, bootstrapSeedsCI, cohensD, holm, mannWhitneyU } from '../../metrics/stats.js';
import type { Estimate, NullBand, StabilityStat } from '../results.js';
import { offDiagonalValues, upperValues } from './pairs.js';

/** Bootstrap resamples for every CI of a study. */
export const RESAMPLES = 10_000;

export function fin(x: number | null | undefined): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : x;
}

export const EMPTY_ESTIMATE: Estimate = { mean: null, lo: null, hi: null, n: 0 };

/**
 * Mean over seed pairs with its 95% seed-bootstrap CI. Symmetric metrics count unordered pairs;
 * asymmetric ones (MMCS) ordered pairs. Fewer than two seeds: no estimate.
 */
export function pairEstimate(m: ReadonlyArray<ReadonlyArray<number | null>>, seed: number, symmetric = true): Estimate {
  const values = symmetric ? upperValues(m) : offDiagonalValues(m);
  if (m.length < 2 || values.length === 0) return EMPTY_ESTIMATE;
  const S = m.length;
  const filled = m.map((row, a) => row.map((v, b) => (a === b ? 0 : v === null || !Number.isFinite(v) ? NaN : v)));
  // bootstrapPairsCI reads a missing entry from its mirror; both missing cannot be resampled.
  const complete = filled.every((row, a) =>
    row.every((v, b) => a === b || !Number.isNaN(v) || !Number.isNaN(filled[b][a])),
  );
  if (!complete) return { mean: mean(values), lo: null, hi: null, n: values.length };
  const ci = bootstrapPairsCI(filled, { seed, resamples: RESAMPLES });
  return { mean: fin(ci.estimate), lo: S > 2 ? fin(ci.lo) : null, hi: S > 2 ? fin(ci.hi) : null, n: values.length };
}

/** Mean over seeds with its 95% seed-bootstrap CI (non-finite values dropped). */
export function seedEstimate(values: ReadonlyArray<number | null>, seed: number): Estimate {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return EMPTY_ESTIMATE;
  const ci = bootstrapSeedsCI(v, { seed, resamples: RESAMPLES });
  return {
    mean: fin(ci.estimate),
    lo: v.length > 1 ? fin(ci.lo) : null,
    hi: v.length > 1 ? fin(ci.hi) : null,
    n: v.length,
  };
}

export function nullBand(kind: NullBand['kind'], s: NullSummary): NullBand {
  return { kind, mean: fin(s.mean), sd: fin(s.sd), draws: s.n };
}

/** The StabilityStat of a pair matrix against its nulls (pHolm filled later by {@link applyHolm}). */
export function stabilityStat(
  m: Array<Array<number | null>>,
  random: NullSummary,
  untrained: NullSummary | null,
  seed: number,
  symmetric = true,
): StabilityStat {
  const estimate = pairEstimate(m, seed, symmetric);
  const values = symmetric ? upperValues(m) : offDiagonalValues(m);
  const nul = Array.from(random.values).filter(Number.isFinite);
  let p: number | null = null;
  let d: number | null = null;
  if (values.length > 0 && nul.length > 0) {
    p = fin(mannWhitneyU(values, nul).p);
    if (values.length + nul.length >= 3) d = fin(cohensD(values, nul));
  }
  const nm = fin(random.mean);
  return {
    matrix: m.map((row, a) => row.map((v, b) => (a === b ? 1 : fin(v)))),
    estimate,
    nullRandom: nullBand('random', random),
    nullUntrained: untrained ? nullBand('untrained', untrained) : null,
    excess: estimate.mean !== null && nm !== null ? fin(estimate.mean - nm) : null,
    ratio: estimate.mean !== null && nm !== null && nm !== 0 ? fin(estimate.mean / nm) : null,
    p,
    pHolm: null,
    cohensD: d,
  };
}

/** Holm-adjusts the p-values of `stats` (one metric across cells) in place. */
export function applyHolm(stats: StabilityStat[]): void {
  const withP = stats.filter((s) => s.p !== null);
  if (withP.length === 0) return;
  const adj = holm(withP.map((s) => s.p as number));
  withP.forEach((s, i) => {
    s.pHolm = fin(adj[i]);
  });
}

function mean(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x;
  return v.length === 0 ? NaN : s / v.length;
}
