/** Text helpers for the report: HTML escaping, number formatting, the above-chance verdict. */
import type { Estimate, StabilityStat } from '../study/results.js';

/** Escapes text for HTML element content and attribute values. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** 3–4 significant digits; "—" for missing values. */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v !== 0 && Math.abs(v) < 1e-3) return v.toExponential(1);
  return v.toFixed(digits);
}

/** "0.753 [0.702, 0.795]". */
export function est(e: Estimate | null | undefined, digits = 3): string {
  if (!e || e.mean === null) return '—';
  return e.lo === null || e.hi === null
    ? num(e.mean, digits)
    : `${num(e.mean, digits)} [${num(e.lo, digits)}, ${num(e.hi, digits)}]`;
}

export function pval(p: number | null): string {
  if (p === null || !Number.isFinite(p)) return '—';
  return p < 1e-4 ? p.toExponential(1) : p.toFixed(4);
}

type Verdict = 'above chance' | 'indistinguishable from chance' | 'not enough seeds';

/**
 * A stability value counts as above chance only when its whole seed-bootstrap CI clears the random
 * null by 2 sd and the Holm-adjusted one-sided test rejects at 0.05 (docs/SCIENCE.md §4).
 */
export function verdict(s: StabilityStat): Verdict {
  const lo = s.estimate.lo;
  const nul = s.nullRandom;
  if (lo === null || nul.mean === null || nul.sd === null || s.pHolm === null) return 'not enough seeds';
  return lo > nul.mean + 2 * nul.sd && s.pHolm < 0.05 ? 'above chance' : 'indistinguishable from chance';
}
