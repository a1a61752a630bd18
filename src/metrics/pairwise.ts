/**
 * Pairwise dictionary similarity between two SAEs, and between an SAE and the ground truth —
 * exactly the definitions of docs/SCIENCE.md §3:
 * - MMCS (Sharkey et al. 2022): mmcs_ab = (1/N_A) Σ_i max_j C_ij and mmcs_ba, signed, asymmetric;
 *   `meanMaxAbsSym` = ½(mmcs_ab + mmcs_ba) on |C| — what HUSAI called "PWMCC", renamed here so it
 *   is never confused with the assignment-based PW-MCC.
 * - PW-MCC (Song et al. 2025): mean of C over an assignment σ of min(N_A, N_B) pairs maximising
 *   Σ C (signed), and `pwmccAbs`, the same on |C|. Song et al.'s code (sae-feature-consistency,
 *   `MCC`) minimises 1 − A·Bᵀ, i.e. the signed version; docs/SCIENCE.md §4's Hungarian chance levels
 *   (≈ 0.46 at d = 16, n = 32; ≈ 0.33 at d = 64, n = 256; ≈ 0.12 at d = 768, n = 2048) are those of
 *   the signed assignment too (on |C| they are 0.52 / 0.35 / 0.13) — checked in test/metrics.
 * - Shared fraction (Paulo & Belrose 2025): independent assignments on encoder and decoder cosines;
 *   latent i of A is shared iff both give the same partner j and C^enc_ij ≥ τ and C^dec_ij ≥ τ.
 * - Ground truth: gt_mcc = PW-MCC(G, decoder atoms), signed as in Song et al.; gt_mmcs = mean over
 *   g of max_j cos(g, a_j), signed; gt_recovered_τ = fraction of g with that max ≥ τ.
 * MMCS uses the blocked pass of cosine.ts. The assignment metrics need the full [N_A × N_B] C:
 * about 12 bytes per entry at peak (float32 C + the solver's float64 copy), 0.8 GB at 8192².
 *
 * Letter legend: A, B = the two SAEs' atom sets (rows), G = ground-truth directions, N_A, N_B,
 * N_G = their counts, D = d_in.
 */
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { linearSumAssignment } from './assignment.js';
import { type Atoms, cosineMatrix, maxCosines, unitPair } from './cosine.js';

interface PairOptions {
  /** Names of the two atom sets in error messages (defaults 'A', 'B'). */
  nameA?: string;
  nameB?: string;
  /** Rows per GEMM block for the max passes (see cosine.ts). */
  blockRows?: number;
}

interface MmcsResult {
  /** (1/N_A) Σ_i max_j C_ij; NaN when either set is empty. */
  readonly mmcs_ab: number;
  /** (1/N_B) Σ_j max_i C_ij; NaN when either set is empty. */
  readonly mmcs_ba: number;
  /** Per atom of A: its best cosine with B and that atom's index (first on ties). */
  readonly maxCosA: Float64Array;
  readonly bestForA: Int32Array;
  /** Per atom of B: its best cosine with A and that atom's index. */
  readonly maxCosB: Float64Array;
  readonly bestForB: Int32Array;
}

/** Signed MMCS both ways in one blocked pass (docs/SCIENCE.md §3, Sharkey et al. 2022). */
export function mmcs(aAD: Atoms, bBD: Atoms, opts: PairOptions = {}): MmcsResult {
  const m = maxCosines(aAD, bBD, opts);
  const empty = m.rowMax.length === 0 || m.colMax.length === 0;
  return {
    mmcs_ab: empty ? NaN : meanOf(m.rowMax),
    mmcs_ba: empty ? NaN : meanOf(m.colMax),
    maxCosA: m.rowMax,
    bestForA: m.rowArg,
    maxCosB: m.colMax,
    bestForB: m.colArg,
  };
}

/**
 * HUSAI's symmetric mean-max |cos|: ½(mmcs_ab + mmcs_ba) computed on |C| (docs/SCIENCE.md §3). Chance
 * level (docs/SCIENCE.md §4, "Gaussian 128 × 1024": 0.2985) is 1024 atoms in d = 128; 128 atoms in
 * d = 1024 would give 0.088 — checked in test/metrics/nulls.test.ts.
 */
export function meanMaxAbsSym(aAD: Atoms, bBD: Atoms, opts: PairOptions = {}): number {
  const m = maxCosines(aAD, bBD, { ...opts, abs: true });
  if (m.rowMax.length === 0 || m.colMax.length === 0) return NaN;
  return 0.5 * (meanOf(m.rowMax) + meanOf(m.colMax));
}

/** An optimal one-to-one matching of atoms and its score. */
interface MatchResult {
  /** Mean matched C (signed) or |C| (abs) over min(N_A, N_B) pairs; NaN when there are none. */
  readonly value: number;
  /** Matched pairs (rowIdx ascending): atom rowIdx[t] of A ↔ atom colIdx[t] of B. */
  readonly rowIdx: Int32Array;
  readonly colIdx: Int32Array;
  /** colForRow[i]: the partner in B of atom i of A, or −1 (length N_A). */
  readonly colForRow: Int32Array;
  /** Signed cosine of each matched pair, aligned with rowIdx (for histograms). */
  readonly matchedCos: Float64Array;
}

interface PwmccOptions extends PairOptions {
  /** Assign on |C| and score |C| (pwmcc_abs); default false (signed). */
  abs?: boolean;
}

/**
 * PW-MCC (Song et al. 2025, docs/SCIENCE.md §3): (1/min(N_A, N_B)) Σ_(i,j)∈σ C_ij with σ maximising
 * Σ C. With `abs`, σ maximises Σ |C| and the score is the mean |C| (= {@link pwmccAbs}).
 */
export function pwmcc(aAD: Atoms, bBD: Atoms, opts: PwmccOptions = {}): MatchResult {
  const cosAB = cosineMatrix(aAD, bBD, { nameA: opts.nameA, nameB: opts.nameB });
  return matchCosines(cosAB, opts.abs === true, `cos(${opts.nameA ?? 'A'}, ${opts.nameB ?? 'B'})`);
}

/** PW-MCC on |C|: σ maximises Σ|C_ij|, score = mean matched |C| (docs/SCIENCE.md §3, `pwmcc_abs`). */
export function pwmccAbs(aAD: Atoms, bBD: Atoms, opts: PairOptions = {}): MatchResult {
  return pwmcc(aAD, bBD, { ...opts, abs: true });
}

/** Maximum-weight matching on a precomputed signed cosine matrix [N_A × N_B] (or on its |·|). */
export function matchCosines(cosAB: Mat, abs = false, name = 'cosine matrix'): MatchResult {
  let weights: Mat = cosAB;
  if (abs) {
    const absAB = new Float32Array(cosAB.data.length);
    for (let k = 0; k < absAB.length; k++) absAB[k] = Math.abs(cosAB.data[k]);
    weights = { data: absAB, rows: cosAB.rows, cols: cosAB.cols };
  }
  const a = linearSumAssignment(weights, { maximize: true, name });
  const k = a.rowIdx.length;
  const matchedCos = new Float64Array(k);
  for (let t = 0; t < k; t++) matchedCos[t] = cosAB.data[a.rowIdx[t] * cosAB.cols + a.colIdx[t]];
  return { value: k === 0 ? NaN : a.total / k, rowIdx: a.rowIdx, colIdx: a.colIdx, colForRow: a.colForRow, matchedCos };
}

/** Encoder and decoder atoms of one SAE, both [m × d_in], row i = latent i (see cosine.ts). */
interface SaeAtoms {
  readonly enc: Atoms;
  readonly dec: Atoms;
}

interface SharedOptions {
  /** Cosine threshold τ on both encoder and decoder (default 0.7, Paulo & Belrose). */
  tau?: number;
  /** Thresholds of the τ-sweep curve (default 0, 0.05, …, 1). */
  taus?: readonly number[];
  /** Names of the two SAEs in error messages (defaults 'A', 'B'). */
  nameA?: string;
  nameB?: string;
}

export interface SharedFractionResult {
  /** #shared latents of A / N_A at τ. */
  readonly shared_fraction: number;
  readonly tau: number;
  /** Per latent of A: 1 if shared at τ. */
  readonly shared: Uint8Array;
  /** σ_enc(i), σ_dec(i): partners in B from the two independent assignments, −1 if unmatched. */
  readonly partnerEnc: Int32Array;
  readonly partnerDec: Int32Array;
  /** C^enc_{i,σ_enc(i)} and C^dec_{i,σ_dec(i)} (signed); NaN if unmatched. */
  readonly cosEnc: Float64Array;
  readonly cosDec: Float64Array;
  /** Shared fraction at each τ of the sweep (same rule, assignments computed once). */
  readonly curve: { readonly taus: number[]; readonly fractions: number[] };
}

/** The default τ grid 0, 0.05, …, 1 (21 points, exact multiples). */
const DEFAULT_TAUS: readonly number[] = Array.from({ length: 21 }, (_, k) => k / 20);

/** Shared fraction of A's latents with B (Paulo & Belrose 2025; docs/SCIENCE.md §3) and its τ-sweep. */
export function sharedFraction(a: SaeAtoms, b: SaeAtoms, opts: SharedOptions = {}): SharedFractionResult {
  const tau = opts.tau ?? 0.7;
  checkTau(tau, 'tau');
  const taus = [...(opts.taus ?? DEFAULT_TAUS)];
  taus.forEach((t, k) => checkTau(t, `taus[${k}]`));
  const nameA = opts.nameA ?? 'A';
  const nameB = opts.nameB ?? 'B';
  for (const [s, n] of [
    [a, nameA],
    [b, nameB],
  ] as const) {
    if (s.enc.rows !== s.dec.rows || s.enc.cols !== s.dec.cols) {
      throw new ShapeError(
        `${n}: encoder atoms ${fmtShape(s.enc.rows, s.enc.cols)} and decoder atoms ` +
          `${fmtShape(s.dec.rows, s.dec.cols)} must have the same shape [m × d_in]`,
      );
    }
  }
  const enc = pwmcc(a.enc, b.enc, { nameA: `${nameA}.enc`, nameB: `${nameB}.enc` });
  const dec = pwmcc(a.dec, b.dec, { nameA: `${nameA}.dec`, nameB: `${nameB}.dec` });
  const nA = a.enc.rows;
  const partnerEnc = enc.colForRow;
  const partnerDec = dec.colForRow;
  const cosEnc = perRow(enc, nA);
  const cosDec = perRow(dec, nA);
  // score_i = min(C^enc, C^dec) when the partners agree, else −∞: shared at τ iff score_i ≥ τ.
  const score = new Float64Array(nA).fill(-Infinity);
  for (let i = 0; i < nA; i++) {
    if (partnerEnc[i] >= 0 && partnerEnc[i] === partnerDec[i]) score[i] = Math.min(cosEnc[i], cosDec[i]);
  }
  const shared = new Uint8Array(nA);
  let nShared = 0;
  for (let i = 0; i < nA; i++) {
    if (score[i] >= tau) {
      shared[i] = 1;
      nShared++;
    }
  }
  const fractions = taus.map((t) => {
    let n = 0;
    for (let i = 0; i < nA; i++) if (score[i] >= t) n++;
    return nA === 0 ? NaN : n / nA;
  });
  return {
    shared_fraction: nA === 0 ? NaN : nShared / nA,
    tau,
    shared,
    partnerEnc,
    partnerDec,
    cosEnc,
    cosDec,
    curve: { taus, fractions },
  };
}

interface GtOptions {
  /** Thresholds for gt_recovered (default [0.9, 0.7]). */
  taus?: readonly number[];
  /** Names in error messages (defaults 'G', 'decoder atoms'). */
  nameG?: string;
  nameA?: string;
}

interface GtResult {
  /** PW-MCC(G, decoder atoms), signed (Song et al.); averaged over min(N_G, N_A) pairs. */
  readonly gt_mcc: number;
  /** (1/N_G) Σ_g max_j cos(g, a_j), signed. */
  readonly gt_mmcs: number;
  /** Fraction of g whose best cosine with any atom is ≥ τ, per τ. */
  readonly gt_recovered: ReadonlyArray<{ readonly tau: number; readonly fraction: number }>;
  /** Per true direction: best cosine and its atom (first on ties). */
  readonly maxCosG: Float64Array;
  readonly bestForG: Int32Array;
  /** The assignment behind gt_mcc. */
  readonly match: MatchResult;
}

/** Ground-truth recovery metrics of docs/SCIENCE.md §3 for true directions G [N_G × D]. */
export function gtMetrics(gGD: Atoms, decAD: Atoms, opts: GtOptions = {}): GtResult {
  const taus = [...(opts.taus ?? [0.9, 0.7])];
  taus.forEach((t, k) => checkTau(t, `taus[${k}]`));
  const nameG = opts.nameG ?? 'G';
  const nameA = opts.nameA ?? 'decoder atoms';
  const [g, a] = unitPair(gGD, decAD, nameG, nameA);
  const cosGA = cosineMatrix(g, a);
  const match = matchCosines(cosGA, false, `cos(${nameG}, ${nameA})`);
  const nG = g.rows;
  const nA = a.rows;
  const maxCosG = new Float64Array(nG).fill(nA === 0 ? NaN : -Infinity);
  const bestForG = new Int32Array(nG).fill(-1);
  for (let i = 0; i < nG; i++) {
    for (let j = 0; j < nA; j++) {
      const x = cosGA.data[i * nA + j];
      if (x > maxCosG[i]) {
        maxCosG[i] = x;
        bestForG[i] = j;
      }
    }
  }
  const valid = nG > 0 && nA > 0;
  return {
    gt_mcc: match.value,
    gt_mmcs: valid ? meanOf(maxCosG) : NaN,
    gt_recovered: taus.map((tau) => {
      let n = 0;
      for (let i = 0; i < nG; i++) if (maxCosG[i] >= tau) n++;
      return { tau, fraction: valid ? n / nG : NaN };
    }),
    maxCosG,
    bestForG,
    match,
  };
}

function perRow(m: MatchResult, nA: number): Float64Array {
  const out = new Float64Array(nA).fill(NaN);
  for (let t = 0; t < m.rowIdx.length; t++) out[m.rowIdx[t]] = m.matchedCos[t];
  return out;
}

function checkTau(t: number, field: string): void {
  if (!Number.isFinite(t) || t < -1 || t > 1)
    throw new ConfigError(`${field} = ${t}: a cosine threshold must lie in [−1, 1]`);
}

function meanOf(xs: Float64Array): number {
  let s = 0;
  for (let k = 0; k < xs.length; k++) s += xs[k];
  return s / xs.length;
}
