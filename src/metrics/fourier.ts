/**
 * Fourier analysis for the modular-arithmetic testbed (docs/SCIENCE.md §5; Nanda et al. 2023, "Progress
 * measures for grokking via mechanistic interpretability"): a transformer trained on
 * c = (a + b) mod p computes with a handful of key frequencies k (cos/sin(2πka/p)), which gives SAE
 * latents a known meaning to check against. This file owns
 * - the token spectrum of an embedding W_E [p, D] along its token axis and the key frequencies;
 * - per SAE latent over the p×p grid of inputs (a, b): its share of power in the key-frequency
 *   components, its dominant key frequency and its strongest component (the 2-D DFT itself, as
 *   engine GEMMs, lives in fouriergrid.ts);
 * - the fraction of latents that are Fourier features, and whether matched latents of two SAEs
 *   share their dominant frequency, against a shuffled-pairing permutation null (docs/SCIENCE.md §4).
 *
 * Conventions (those of numpy.fft; test/golden/fourier/make_fourier.py is the reference):
 * - Token spectrum: X_u = Σ_a w[a]·e^{−2πiua/p}; power[0] = |X_0|², power[k] = |X_k|² + |X_{p−k}|²
 *   = 2·(C_k² + S_k²) for k = 1..H, C_k = Σ_a w[a]·cos(2πka/p), S_k likewise with sin; summed over
 *   columns. Σ_k power[k] = p·‖W‖²_F (Parseval), so shares are shares of the embedding's energy.
 * - Grid spectrum of a latent x[a, b]: P[u, v] = |fft2(x − mean x)|²[u, v]; (0, 0) is the mean and
 *   is excluded everywhere. U = {0} ∪ {±k mod p : k ∈ keys}; the key components are U×U minus (0, 0),
 *   i.e. products and sums of key waves in a and b, cos(2πk(a + b)/p) included ((k, k) and (−k, −k)).
 *   Per-key power of k: the key components with u ≡ ±k or v ≡ ±k (a (k, k′) product counts for both).
 * - A latent that fires on part of the grid needs nothing special: its zeros are real values of the
 *   function over the grid (a half-wave-rectified key wave keeps ≈ 84% of its power in U×U).
 * - The reductions over the ≈ p²/2 independent components run in float64 on the float32 transform.
 *
 * Letter legend: P = p tokens, D = embedding columns, N = p² grid points (row a·p + b), L = latents,
 * K = key frequencies, H = (p − 1)/2, U / V = frequencies along a / b.
 */
import { ConfigError, DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { Rng } from '../core/rng.js';
import { type GridOptions, checkModulus, gridTransform, unitCircle } from './fouriergrid.js';
import { MIN_NULL_DRAWS, summarizeNull, type NullSummary } from './nulls.js';

export { gridSpectrum } from './fouriergrid.js';

/** The key-power share from which a latent counts as a Fourier feature (docs/SCIENCE.md §5). */
export const FOURIER_THRESHOLD = 0.8;

// ── token spectrum and key frequencies ─────────────────────────

/** Power of an embedding per frequency along its token axis. */
interface TokenSpectrum {
  readonly p: number;
  /** power[k] for k = 0..(p − 1)/2: k = 0 the constant term |X_0|², k ≥ 1 both ±k of the DFT. */
  readonly power: Float64Array;
  /** Σ power = p·‖W‖²_F. */
  readonly total: number;
}

/**
 * The power per frequency of wPD [p, D] along its rows (tokens 0..p − 1), summed over columns
 * (see the file header for the convention). Float64 throughout; p odd ≥ 3.
 */
export function tokenSpectrum(wPD: Mat, p: number): TokenSpectrum {
  checkModulus(p, 'tokenSpectrum');
  const { rows, cols: D, data } = wPD;
  if (rows !== p || data.length !== rows * D) {
    throw new ShapeError(
      `tokenSpectrum: wPD is ${fmtShape(rows, D)} (${data.length} values) but p = ${p}: wPD needs one row per token ` +
        `0..p−1`,
    );
  }
  const H = (p - 1) / 2;
  const [cosP, sinP] = unitCircle(p);
  const power = new Float64Array(H + 1);
  const cD = new Float64Array(D);
  const sD = new Float64Array(D);
  let total = 0;
  for (let k = 0; k <= H; k++) {
    cD.fill(0);
    sD.fill(0);
    for (let a = 0; a < p; a++) {
      const c = cosP[(k * a) % p];
      const s = sinP[(k * a) % p];
      const o = a * D;
      for (let d = 0; d < D; d++) {
        cD[d] += c * data[o + d];
        sD[d] += s * data[o + d];
      }
    }
    let pw = 0;
    for (let d = 0; d < D; d++) pw += cD[d] * cD[d] + sD[d] * sD[d];
    power[k] = k === 0 ? pw : 2 * pw;
    total += power[k];
  }
  if (!Number.isFinite(total)) throw new DataError('wPD', 'entries', 'a non-finite value', 'finite numbers');
  return { p, power, total };
}

interface KeyFrequencyOptions {
  /** Share of the power the keys must reach, in (0, 1] (default 0.9). */
  fraction?: number;
  /** Let k = 0 be a key and count it in the total (default false: shares of the non-constant power). */
  includeConstant?: boolean;
}

/** The key frequencies of a spectrum. */
export interface KeyFrequencies {
  /** The keys, ascending. */
  readonly keys: number[];
  /** shares[i]: the share of the total carried by keys[i]. */
  readonly shares: number[];
  /** The keys in the order they were taken: descending power, ties to the smaller k. */
  readonly ranked: number[];
  /** Share of the total the keys carry together (≥ fraction unless the total is 0). */
  readonly covered: number;
  /** Share the 8 strongest frequencies carry (all of them when there are fewer). */
  readonly top8: number;
  /** The total the shares are of: Σ power[k ≥ 1], plus power[0] with includeConstant. */
  readonly total: number;
}

/**
 * The smallest set of frequencies, taken by descending power, whose power reaches `fraction` of
 * the total. `power` is tokenSpectrum's result or its `power` array (index = frequency). A zero
 * spectrum has no keys (covered = top8 = 0).
 */
export function keyFrequencies(
  power: ArrayLike<number> | { readonly power: ArrayLike<number> },
  opts: KeyFrequencyOptions = {},
): KeyFrequencies {
  const pw = 'power' in power ? power.power : power;
  const fraction = opts.fraction ?? 0.9;
  if (!(fraction > 0 && fraction <= 1))
    throw new ConfigError(`keyFrequencies: fraction = ${fraction}, expected a number in (0, 1]`);
  if (pw.length < 2)
    throw new ShapeError(
      `keyFrequencies: power has ${pw.length} entries, expected (p + 1)/2 ≥ 2 (frequencies 0..(p − 1)/2)`,
    );
  const first = opts.includeConstant ? 0 : 1;
  const cand: number[] = [];
  let total = 0;
  for (let k = first; k < pw.length; k++) {
    if (!(pw[k] >= 0) || !Number.isFinite(pw[k]))
      throw new DataError('power', `frequency ${k}`, String(pw[k]), 'a finite power ≥ 0');
    cand.push(k);
    total += pw[k];
  }
  cand.sort((x, y) => pw[y] - pw[x] || x - y);
  if (total === 0) return { keys: [], shares: [], ranked: [], covered: 0, top8: 0, total };
  const ranked: number[] = [];
  let cum = 0;
  for (const k of cand) {
    ranked.push(k);
    cum += pw[k];
    if (cum >= fraction * total * (1 - 1e-12)) break;
  }
  let top8 = 0;
  for (const k of cand.slice(0, 8)) top8 += pw[k];
  const keys = [...ranked].sort((x, y) => x - y);
  return { keys, shares: keys.map((k) => pw[k] / total), ranked, covered: cum / total, top8: top8 / total, total };
}

// ── latents over the (a, b) grid ───────────────────────────

interface LatentFourierOptions extends GridOptions {
  /** keyShare from which a latent gets a dominant frequency (default FOURIER_THRESHOLD = 0.8). */
  threshold?: number;
}

/** Per-latent Fourier summary over the grid; arrays are indexed by latent (column of actsNL). */
export interface LatentFourier {
  readonly p: number;
  /** The key frequencies used, ascending. */
  readonly keys: number[];
  readonly threshold: number;
  readonly latents: number;
  /** Σ P[u, v] off (0, 0) = p²·Σ (x − x̄)² (0 for dead latents). */
  readonly total: Float64Array;
  /** Share of total in the key components U×U (0 for dead latents). */
  readonly keyShare: Float64Array;
  /** [L·K]: share of total in the key components with u ≡ ±keys[i] or v ≡ ±keys[i]. */
  readonly perKeyShareLK: Float64Array;
  /** 1 when the latent is constant over the grid (never fires, or fires the same everywhere). */
  readonly dead: Uint8Array;
  /** The key with the largest perKeyShare (ties: smaller key), or −1 when keyShare < threshold. */
  readonly dominant: Int32Array;
  /** Strongest component (u, v) ≠ (0, 0) with its conjugate, folded to 0 ≤ u, v ≤ H. */
  readonly topU: Int32Array;
  readonly topV: Int32Array;
  /** +1: an (a + b) pattern, (u, v) ~ (k, k′); −1: an (a − b) pattern, (k, −k′); +1 when u or v is 0. */
  readonly topSign: Int8Array;
  /** Share of total in the strongest component and its conjugate. */
  readonly topShare: Float64Array;
}

/**
 * Fourier summary of each latent (column) of actsNL [p², L] over the grid (row a·p + b): total
 * power, key share, per-key shares, dominant key and strongest component (see LatentFourier).
 * keys: distinct integers in 1..(p − 1)/2, e.g. keyFrequencies(tokenSpectrum(W_E, p)).keys.
 */
export function latentFourier(
  actsNL: Mat,
  p: number,
  keys: readonly number[],
  opts: LatentFourierOptions = {},
): LatentFourier {
  checkModulus(p, 'latentFourier');
  const H = (p - 1) / 2;
  const threshold = opts.threshold ?? FOURIER_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1))
    throw new ConfigError(`latentFourier: threshold = ${threshold}, expected a number in [0, 1]`);
  const keyList = [...keys].sort((x, y) => x - y);
  const keyIdx = new Int32Array(p).fill(-1); // frequency index x → position of ±x in keyList
  for (const [i, k] of keyList.entries()) {
    if (!Number.isInteger(k) || k < 1 || k > H)
      throw new ConfigError(`latentFourier: key ${k} is not a frequency in 1..${H} (p = ${p})`);
    if (keyIdx[k] >= 0) throw new ConfigError(`latentFourier: key ${k} given twice in [${keys.join(', ')}]`);
    keyIdx[k] = keyIdx[p - k] = i;
  }
  const K = keyList.length;
  const L = actsNL.cols;
  const total = new Float64Array(L);
  const keyPow = new Float64Array(L);
  const perKeyShareLK = new Float64Array(L * K);
  const best = new Float64Array(L).fill(-1);
  const topU = new Int32Array(L);
  const topV = new Int32Array(L);
  const topSign = new Int8Array(L).fill(1);

  gridTransform(actsNL, p, opts, 'latentFourier', (l0, lb, u, reImVB) => {
    const wu = u === 0 ? 1 : 2; // rows u = 1..H stand for −u too
    const uKey = u === 0 || keyIdx[u] >= 0;
    for (let v = 0; v < p; v++) {
      if (u === 0 && v === 0) continue;
      const inKey = uKey && (v === 0 || keyIdx[v] >= 0);
      const ku = keyIdx[u];
      const kv = keyIdx[v] === ku ? -1 : keyIdx[v];
      // A class {(u, v), (−u, −v)} appears once in rows u ≥ 1; in row 0 as v and p − v: take v ≤ H.
      const isRep = u > 0 || v <= H;
      const fv = Math.min(v, p - v);
      const sign = u > 0 && v > H ? -1 : 1;
      for (let j = 0; j < lb; j++) {
        const re = reImVB[v * lb + j];
        const im = reImVB[(p + v) * lb + j];
        const pw = re * re + im * im;
        const l = l0 + j;
        total[l] += wu * pw;
        if (inKey) {
          keyPow[l] += wu * pw;
          if (ku >= 0) perKeyShareLK[l * K + ku] += wu * pw;
          if (kv >= 0) perKeyShareLK[l * K + kv] += wu * pw;
        }
        if (isRep && pw > best[l]) {
          best[l] = pw;
          topU[l] = u;
          topV[l] = fv;
          topSign[l] = sign;
        }
      }
    }
  });

  // Dead = constant over the grid: it centres to exact zeros, so its total is exactly 0.
  const dead = new Uint8Array(L);
  const keyShare = new Float64Array(L);
  const dominant = new Int32Array(L).fill(-1);
  const topShare = new Float64Array(L);
  for (let l = 0; l < L; l++) {
    if (!(total[l] > 0)) {
      dead[l] = 1;
      topU[l] = topV[l] = 0;
      continue;
    }
    keyShare[l] = keyPow[l] / total[l];
    topShare[l] = (2 * best[l]) / total[l];
    let arg = -1;
    for (let i = 0; i < K; i++) {
      perKeyShareLK[l * K + i] /= total[l];
      if (arg < 0 || perKeyShareLK[l * K + i] > perKeyShareLK[l * K + arg]) arg = i;
    }
    if (arg >= 0 && keyShare[l] >= threshold) dominant[l] = keyList[arg];
  }
  return {
    p,
    keys: keyList,
    threshold,
    latents: L,
    total,
    keyShare,
    perKeyShareLK,
    dead,
    dominant,
    topU,
    topV,
    topSign,
    topShare,
  };
}

/** Fraction of live latents that are Fourier features (keyShare ≥ threshold); NaN with none live. */
export function fourierFeatureFraction(
  result: Pick<LatentFourier, 'keyShare' | 'dead'>,
  threshold = FOURIER_THRESHOLD,
): { fraction: number; count: number; live: number } {
  let count = 0;
  let live = 0;
  for (let l = 0; l < result.keyShare.length; l++) {
    if (result.dead[l]) continue;
    live++;
    if (result.keyShare[l] >= threshold) count++;
  }
  return { fraction: live === 0 ? NaN : count / live, count, live };
}

// ── matched latents across SAEs ───────────────────────────

/** Matched latent pairs: rowIdx[t] of A with colIdx[t] of B (an `Assignment` from assignment.ts fits). */
interface MatchedPairs {
  readonly rowIdx: ArrayLike<number>;
  readonly colIdx: ArrayLike<number>;
}

interface AgreementOptions {
  /** Permutation-null draws (default 1000, at least MIN_NULL_DRAWS). */
  draws?: number;
  /** Seed of the null: Rng.from(seed, 'fourier-null') (default 0). */
  seed?: number;
}

interface FrequencyAgreement {
  /** Fraction of Fourier pairs with the same dominant frequency (NaN when there are none). */
  readonly agreement: number;
  readonly agreeing: number;
  /** Matched pairs where both latents are Fourier features (dominant ≥ 0). */
  readonly fourierPairs: number;
  /** All matched pairs given. */
  readonly pairs: number;
  /** Agreement under shuffled pairings of the Fourier pairs' B latents (no draws when fourierPairs = 0). */
  readonly null: NullSummary;
  /** (1 + #{null draws ≥ observed}) / (1 + draws); NaN when fourierPairs = 0. */
  readonly pValue: number;
}

/**
 * Among matched pairs where both latents are Fourier features, the fraction with the same dominant
 * frequency (domA, domB: LatentFourier.dominant of each SAE), against a permutation null: the B
 * latents of those pairs are re-paired with their A latents at random, which keeps both sides'
 * frequency counts and breaks only the matching.
 */
export function matchedFrequencyAgreement(
  domA: Int32Array,
  domB: Int32Array,
  pairs: MatchedPairs,
  opts: AgreementOptions = {},
): FrequencyAgreement {
  const draws = opts.draws ?? 1000;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(draws) || draws < MIN_NULL_DRAWS)
    throw new ConfigError(`matchedFrequencyAgreement: draws = ${draws}, expected an integer ≥ ${MIN_NULL_DRAWS}`);
  if (!Number.isSafeInteger(seed))
    throw new ConfigError(`matchedFrequencyAgreement: seed = ${seed}, expected a safe integer`);
  const { rowIdx, colIdx } = pairs;
  if (rowIdx.length !== colIdx.length) {
    throw new ShapeError(
      `matchedFrequencyAgreement: pairs.rowIdx has ${rowIdx.length} entries but pairs.colIdx has ${colIdx.length}`,
    );
  }
  const fa: number[] = [];
  const fb: number[] = [];
  for (let t = 0; t < rowIdx.length; t++) {
    const i = rowIdx[t];
    const j = colIdx[t];
    if (!Number.isInteger(i) || i < 0 || i >= domA.length)
      throw new DataError('pairs', `rowIdx[${t}]`, String(i), `an index into domA (0..${domA.length - 1})`);
    if (!Number.isInteger(j) || j < 0 || j >= domB.length)
      throw new DataError('pairs', `colIdx[${t}]`, String(j), `an index into domB (0..${domB.length - 1})`);
    if (domA[i] >= 0 && domB[j] >= 0) {
      fa.push(domA[i]);
      fb.push(domB[j]);
    }
  }
  const n = fa.length;
  const agreeing = countAgree(fa, fb, null);
  if (n === 0) {
    return { agreement: NaN, agreeing: 0, fourierPairs: 0, pairs: rowIdx.length, null: summarizeNull([]), pValue: NaN };
  }
  const rng = Rng.from(seed, 'fourier-null');
  const values = new Float64Array(draws);
  let atLeast = 0;
  for (let d = 0; d < draws; d++) {
    const c = countAgree(fa, fb, rng.permutation(n));
    values[d] = c / n;
    if (c >= agreeing) atLeast++;
  }
  return {
    agreement: agreeing / n,
    agreeing,
    fourierPairs: n,
    pairs: rowIdx.length,
    null: summarizeNull(values),
    pValue: (1 + atLeast) / (1 + draws),
  };
}

function countAgree(fa: number[], fb: number[], perm: Uint32Array | null): number {
  let c = 0;
  for (let t = 0; t < fa.length; t++) if (fa[t] === fb[perm ? perm[t] : t]) c++;
  return c;
}
