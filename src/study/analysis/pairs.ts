/**
 * All seed pairs of one cell, matched once (SCIENCE.md §3): for every pair (a, b), a < b, the
 * Paulo & Belrose shared fraction (metrics/pairwise.ts `sharedFraction`, which runs the two
 * independent assignments, encoder and decoder), and from its decoder assignment the signed PW-MCC
 * (mean matched decoder cosine, Song et al.), the matched cosines and partners (reused by the
 * per-feature stability, the frequency bins and the cosine histogram); plus signed MMCS both ways.
 * The same computation serves trained SAEs, checkpoints and the untrained-SAE null.
 *
 * Letters: S seeds, M latents (d_sae), D d_in.
 */
import { type UnitAtoms, unitAtoms, unitColumns } from '../../metrics/cosine.js';
import { mmcs, sharedFraction } from '../../metrics/pairwise.js';
import type { PairMatch } from '../../metrics/seeds.js';

/** Unit encoder and decoder atoms of one SAE, both [M × D]. */
export interface SaeUnitAtoms {
  dec: UnitAtoms;
  enc: UnitAtoms;
}

/** Atoms from W_dec [M, D] and W_enc [D, M] (SCIENCE.md §1). */
export function atomsFromWeights(wDecMD: Float32Array, wEncDM: Float32Array, M: number, D: number, name: string): SaeUnitAtoms {
  return {
    dec: unitAtoms({ data: wDecMD, rows: M, cols: D }, `decoder atoms of ${name}`),
    enc: unitColumns({ data: wEncDM, rows: D, cols: M }, `encoder atoms of ${name}`),
  };
}

export interface PairValues {
  /** pwmcc[a][b] (symmetric; null on the diagonal). */
  pwmcc: Array<Array<number | null>>;
  shared: Array<Array<number | null>>;
  /** mmcs[a][b] = signed MMCS from a to b (asymmetric). */
  mmcs: Array<Array<number | null>>;
  /** Decoder matches per ordered pair, for seedStability: match[a][b] (a ≠ b). */
  match: Array<Array<PairMatch | null>>;
  /** Matched decoder cosines pooled over pairs (a < b). */
  matchedCos: number[];
}

export interface PairOptions {
  tau: number;
  /** Skip MMCS (the checkpoint curves need PW-MCC and shared fraction only). */
  withMmcs?: boolean;
}

/** Matches every pair of `sets` (one per seed). */
export function allPairs(sets: readonly SaeUnitAtoms[], opts: PairOptions): PairValues {
  const S = sets.length;
  const grid = <T>(): Array<Array<T | null>> => Array.from({ length: S }, () => Array.from({ length: S }, () => null));
  const out: PairValues = { pwmcc: grid<number>(), shared: grid<number>(), mmcs: grid<number>(), match: grid<PairMatch>(), matchedCos: [] };
  for (let a = 0; a < S; a++) {
    for (let b = a + 1; b < S; b++) {
      const p = onePair(sets[a], sets[b], opts);
      out.pwmcc[a][b] = out.pwmcc[b][a] = p.pwmcc;
      out.shared[a][b] = out.shared[b][a] = p.shared;
      if (opts.withMmcs !== false) {
        out.mmcs[a][b] = p.mmcsAB;
        out.mmcs[b][a] = p.mmcsBA;
      }
      out.match[a][b] = p.matchAB;
      out.match[b][a] = p.matchBA;
      for (const c of p.matchedCos) out.matchedCos.push(c);
    }
  }
  return out;
}

export interface OnePair {
  pwmcc: number;
  shared: number;
  mmcsAB: number;
  mmcsBA: number;
  matchAB: PairMatch;
  matchBA: PairMatch;
  matchedCos: number[];
}

/** One pair: shared fraction, PW-MCC from the same decoder assignment, MMCS both ways. */
export function onePair(A: SaeUnitAtoms, B: SaeUnitAtoms, opts: PairOptions): OnePair {
  const sf = sharedFraction(A, B, { tau: opts.tau, taus: [opts.tau], nameA: A.dec.name, nameB: B.dec.name });
  const nA = A.dec.rows;
  const nB = B.dec.rows;
  const colForRow = sf.partnerDec;
  const rowForCol = new Int32Array(nB).fill(-1);
  const cosBA = new Float64Array(nB).fill(NaN);
  const matchedCos: number[] = [];
  let sum = 0;
  for (let i = 0; i < nA; i++) {
    const j = colForRow[i];
    if (j < 0) continue;
    const c = sf.cosDec[i];
    rowForCol[j] = i;
    cosBA[j] = c;
    matchedCos.push(c);
    sum += c;
  }
  let mmcsAB = NaN;
  let mmcsBA = NaN;
  if (opts.withMmcs !== false) {
    const m = mmcs(A.dec, B.dec);
    mmcsAB = m.mmcs_ab;
    mmcsBA = m.mmcs_ba;
  }
  return {
    pwmcc: matchedCos.length > 0 ? sum / matchedCos.length : NaN,
    shared: sf.shared_fraction,
    mmcsAB, mmcsBA,
    matchAB: { colForRow, cosForRow: sf.cosDec },
    matchBA: { colForRow: rowForCol, cosForRow: cosBA },
    matchedCos,
  };
}

/** Upper-triangle values (a < b) of a symmetric pair matrix. */
export function upperValues(m: ReadonlyArray<ReadonlyArray<number | null>>): number[] {
  const out: number[] = [];
  for (let a = 0; a < m.length; a++) for (let b = a + 1; b < m.length; b++) {
    const v = m[a][b];
    if (v !== null && Number.isFinite(v)) out.push(v);
  }
  return out;
}

/** Off-diagonal values (a ≠ b) of a pair matrix. */
export function offDiagonalValues(m: ReadonlyArray<ReadonlyArray<number | null>>): number[] {
  const out: number[] = [];
  for (let a = 0; a < m.length; a++) for (let b = 0; b < m.length; b++) {
    const v = m[a][b];
    if (a !== b && v !== null && Number.isFinite(v)) out.push(v);
  }
  return out;
}
