/**
 * The one-sided Mann–Whitney U test (docs/SCIENCE.md §4: "Mann–Whitney U (one-sided) for trained-vs-null
 * pair values"), matching `scipy.stats.mannwhitneyu(x, y, alternative='greater')` in both its
 * asymptotic method (tie-corrected variance, continuity correction) and its exact method (no
 * ties), plus the standard-normal upper tail it needs, accurate to ~1e-14 relative so p-values
 * agree with scipy's far into the tail. Re-exported by stats.ts.
 */
import { ConfigError, DataError } from '../core/errors.js';

/** Result of {@link mannWhitneyU}. */
interface MannWhitney {
  /** U of x: #{(i, j) : x_i > y_j} + ½ #{x_i = y_j} (scipy's `statistic`). */
  readonly U: number;
  /** One-sided p-value for "x tends to be greater than y". */
  readonly p: number;
  /** Standardised statistic with continuity correction (NaN for the exact method). */
  readonly z: number;
  readonly method: 'asymptotic' | 'exact';
}

/**
 * One-sided Mann–Whitney U test, alternative "x stochastically greater than y", matching
 * `scipy.stats.mannwhitneyu(x, y, alternative='greater', method=…)`. Asymptotic (default): normal
 * approximation with tie-corrected variance n₁n₂/12·((n+1) − Σ(t³ − t)/(n(n−1))) and continuity
 * correction z = (U − n₁n₂/2 − ½)/σ. Exact: P(U ≥ U_obs) under the no-ties null distribution,
 * available only without ties and while the count C(n₁+n₂, n₁) stays below 2^53.
 */
export function mannWhitneyU(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { method?: 'asymptotic' | 'exact' } = {},
): MannWhitney {
  const xs = checkFinite(x, 'x');
  const ys = checkFinite(y, 'y');
  const n1 = xs.length;
  const n2 = ys.length;
  if (n1 === 0 || n2 === 0) throw new ConfigError('mannWhitneyU: both samples need at least one value');
  const n = n1 + n2;
  const { ranks, tieTerm } = rankWithTies(new Float64Array([...xs, ...ys]));
  let r1 = 0;
  for (let k = 0; k < n1; k++) r1 += ranks[k];
  const U = r1 - (n1 * (n1 + 1)) / 2;
  const method = opts.method ?? 'asymptotic';
  if (method === 'exact') {
    if (tieTerm !== 0)
      throw new ConfigError('mannWhitneyU: the exact method needs samples without ties; use method "asymptotic"');
    return { U, p: exactUpperTail(n1, n2, U), z: NaN, method };
  }
  const mu = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = (U - mu - 0.5) / sd;
  // All values tied: σ = 0 and no evidence either way.
  const p = sd === 0 ? 1 : normalSf(z);
  return { U, p, z, method };
}

/** Upper tail P(Z > z) of the standard normal, accurate to ~1e-14 relative. */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 1 - normalSf(-z);
  return 0.5 * erfc(z / Math.SQRT2);
}

/** erfc(x) for x ≥ 0: a positive-term series for erf below 2, Lentz's continued fraction above. */
function erfc(x: number): number {
  if (x === Infinity) return 0;
  if (x < 2) {
    // erf(x) = (2/√π) e^{−x²} Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1)) — all terms positive.
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))).
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    D = x + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = x + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** P(U ≥ u) for the Mann–Whitney U of sizes n1, n2 without ties (Gaussian-binomial counts). */
function exactUpperTail(n1: number, n2: number, u: number): number {
  let total = 1;
  for (let k = 1; k <= Math.min(n1, n2); k++) total = (total * (n1 + n2 - Math.min(n1, n2) + k)) / k;
  if (total > 2 ** 53)
    throw new ConfigError(
      `mannWhitneyU: exact method too large (C(${n1 + n2}, ${n1}) ≈ ${total.toExponential(2)}); use "asymptotic"`,
    );
  const maxU = n1 * n2;
  // counts[u] = #{rankings with U = u}: coefficients of the q-binomial [n1+n2 choose n1].
  const counts = new Float64Array(maxU + 1);
  counts[0] = 1;
  for (let i = 1; i <= n1; i++) {
    const up = n2 + i;
    for (let k = maxU; k >= up; k--) counts[k] -= counts[k - up]; // × (1 − q^(n2+i))
    for (let k = i; k <= maxU; k++) counts[k] += counts[k - i]; // ÷ (1 − q^i)
  }
  let tail = 0;
  for (let k = Math.ceil(u); k <= maxU; k++) tail += counts[k];
  return tail / total;
}

/** Average ranks (1-based) with Σ(t³ − t) over tie groups. */
function rankWithTies(v: Float64Array): { ranks: Float64Array; tieTerm: number } {
  const order = argsort(v);
  const ranks = new Float64Array(v.length);
  let tieTerm = 0;
  for (let s = 0; s < v.length;) {
    let e = s + 1;
    while (e < v.length && v[order[e]] === v[order[s]]) e++;
    const r = (s + 1 + e) / 2; // mean of ranks s+1 … e
    for (let k = s; k < e; k++) ranks[order[k]] = r;
    const t = e - s;
    tieTerm += t * t * t - t;
    s = e;
  }
  return { ranks, tieTerm };
}

function checkFinite(x: ArrayLike<number>, name: string): Float64Array {
  const out = Float64Array.from(x);
  for (let k = 0; k < out.length; k++) {
    if (!Number.isFinite(out[k])) throw new DataError(name, `value ${k}`, String(out[k]), 'a finite number');
  }
  return out;
}

/** Indices sorting v ascending; stable, so equal values keep input order. */
function argsort(v: Float64Array): Int32Array {
  const idx = Int32Array.from({ length: v.length }, (_, k) => k);
  return idx.sort((a, b) => v[a] - v[b] || a - b);
}
