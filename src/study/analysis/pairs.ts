/**
 * All seed pairs of one cell, matched once (docs/SCIENCE.md §3): for every pair (a, b), a < b, the
 * Paulo & Belrose shared-fraction assignments (metrics/pairwise.ts `sharedFraction`, two
 * independent assignments, encoder and decoder), whose decoder assignment gives PW-MCC's matching,
 * the matched cosines and partners (reused by the per-feature stability, the frequency bins and the
 * cosine histogram); then every metric of the table (metric-table.ts) on that one matching, into a
 * [S][S] matrix per metric key (directed metrics fill both triangles). The same computation serves
 * trained SAEs, checkpoints and the untrained-SAE null.
 *
 * Letters: S seeds, M latents (d_sae), D d_in.
 */
import { unitAtoms, unitColumns } from '../../metrics/cosine.js';
import { type SharedFractionResult, sharedFraction } from '../../metrics/pairwise.js';
import type { PairMatch } from '../../metrics/seeds.js';
import type { DecoderMatch, MetricTable, PairInput, PairValue, SaeUnitAtoms } from './metric-table.js';

export type { SaeUnitAtoms } from './metric-table.js';

/** Atoms from W_dec [M, D] and W_enc [D, M] (docs/SCIENCE.md §1). */
export function atomsFromWeights(
  wDecMD: Float32Array,
  wEncDM: Float32Array,
  M: number,
  D: number,
  name: string,
): SaeUnitAtoms {
  return {
    dec: unitAtoms({ data: wDecMD, rows: M, cols: D }, `decoder atoms of ${name}`),
    enc: unitColumns({ data: wEncDM, rows: D, cols: M }, `encoder atoms of ${name}`),
  };
}

export type PairMatrix = Array<Array<number | null>>;

export interface PairValues {
  /**
   * Per metric key: values[key][a][b] (symmetric metrics: both triangles equal; directed: a → b; null on the
   * diagonal).
   */
  values: Map<string, PairMatrix>;
  /** Decoder matches per ordered pair, for seedStability: match[a][b] (a ≠ b). */
  match: Array<Array<PairMatch | null>>;
  /** Matched decoder cosines pooled over pairs (a < b). */
  matchedCos: number[];
  /** Keys of the metrics whose pair values came directed ({ab, ba}): averaged over ordered pairs. */
  directed: Set<string>;
}

/** Matches every pair of `sets` (one per seed) and evaluates every metric of `metrics` on it. */
export function allPairs(sets: readonly SaeUnitAtoms[], tau: number, metrics: MetricTable): PairValues {
  const S = sets.length;
  const grid = <T>(): Array<Array<T | null>> => Array.from({ length: S }, () => Array.from({ length: S }, () => null));
  const out: PairValues = {
    values: new Map(metrics.map((m) => [m.key, grid<number>()])),
    match: grid<PairMatch>(),
    matchedCos: [],
    directed: new Set(),
  };
  for (let a = 0; a < S; a++) {
    for (let b = a + 1; b < S; b++) {
      const p = onePair(sets[a], sets[b], tau, metrics);
      for (const m of metrics) {
        const mat = out.values.get(m.key) as PairMatrix;
        const v = p.values.get(m.key) as PairValue;
        mat[a][b] = typeof v === 'number' ? v : v.ab;
        mat[b][a] = typeof v === 'number' ? v : v.ba;
        if (typeof v !== 'number') out.directed.add(m.key);
      }
      out.match[a][b] = p.matchAB;
      out.match[b][a] = p.matchBA;
      for (const c of p.matchedCos) out.matchedCos.push(c);
    }
  }
  return out;
}

interface OnePair {
  values: Map<string, PairValue>;
  matchAB: PairMatch;
  matchBA: PairMatch;
  matchedCos: number[];
}

/** One pair: the shared-fraction assignments, PW-MCC's decoder matching from them, every metric of `metrics`. */
export function onePair(A: SaeUnitAtoms, B: SaeUnitAtoms, tau: number, metrics: MetricTable): OnePair {
  const sf = sharedFraction(A, B, { tau, taus: [tau], nameA: A.dec.name, nameB: B.dec.name });
  const nB = B.dec.rows;
  const colForRow = sf.partnerDec;
  const rowForCol = new Int32Array(nB).fill(-1);
  const cosBA = new Float64Array(nB).fill(NaN);
  const matchedCos: number[] = [];
  let sum = 0;
  for (let i = 0; i < A.dec.rows; i++) {
    const j = colForRow[i];
    if (j < 0) continue;
    const c = sf.cosDec[i];
    rowForCol[j] = i;
    cosBA[j] = c;
    matchedCos.push(c);
    sum += c;
  }
  const decoder: DecoderMatch = { mean: matchedCos.length > 0 ? sum / matchedCos.length : NaN, matchedCos };
  const input: PairInput = { a: A, b: B, tau, decoderMatch: () => decoder, shared: (): SharedFractionResult => sf };
  return {
    values: new Map(metrics.map((m) => [m.key, m.pair(input)])),
    matchAB: { colForRow, cosForRow: sf.cosDec },
    matchBA: { colForRow: rowForCol, cosForRow: cosBA },
    matchedCos,
  };
}

/** Upper-triangle values (a < b) of a symmetric pair matrix. */
export function upperValues(m: ReadonlyArray<ReadonlyArray<number | null>>): number[] {
  const out: number[] = [];
  for (let a = 0; a < m.length; a++)
    for (let b = a + 1; b < m.length; b++) {
      const v = m[a][b];
      if (v !== null && Number.isFinite(v)) out.push(v);
    }
  return out;
}

/** Off-diagonal values (a ≠ b) of a pair matrix. */
export function offDiagonalValues(m: ReadonlyArray<ReadonlyArray<number | null>>): number[] {
  const out: number[] = [];
  for (let a = 0; a < m.length; a++)
    for (let b = 0; b < m.length; b++) {
      const v = m[a][b];
      if (a !== b && v !== null && Number.isFinite(v)) out.push(v);
    }
  return out;
}
