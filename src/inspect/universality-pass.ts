/**
 * The streamed part of cross-model universality (universality.ts): the activations of both sides
 * read by global row index (data/rows.ts, openRows), one pass over the shared rows that encodes both SAEs chunk by
 * chunk into a co-moment accumulator (metrics/activations.ts) — B's rows in order or, for null (ii)
 * of the file header there, in a shuffled order — and the two pairings read off its correlations:
 * many-to-one (Lan et al.: each live A latent → its max-correlation live B latent, above minCorr)
 * and one-to-one (a maximum-weight assignment on the live block, metrics/assignment.ts).
 */
import { DataError } from '../core/errors.js';
import { ShardRows } from '../data/rows.js';
import { findShards } from '../data/shards.js';
import type { Engine } from '../engine/types.js';
import { ActivationSimilarityAccumulator } from '../metrics/activations.js';
import { linearSumAssignment } from '../metrics/assignment.js';
import type { SaeWeights } from '../sae/checkpoint/index.js';
import { encodeLatents } from '../sae/checkpoint/encode.js';
import type { UniversalityInput } from './universality-types.js';

export function indicesOf(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) out.push(i);
  return out;
}

/**
 * One pass over rows [0, N): A's rows in order, B's rows in order or, with `perm`, row perm[t]
 * of B beside row t of A. Both encoded chunk by chunk into a fresh accumulator.
 */
export function pass(
  a: UniversalityInput,
  b: UniversalityInput,
  ra: ShardRows,
  rb: ShardRows,
  N: number,
  perm: Uint32Array | null,
  chunkRows: number,
  e: Engine,
  progress: (n: number) => void,
): ActivationSimilarityAccumulator {
  const acc = new ActivationSimilarityAccumulator(a.sae.dSae, b.sae.dSae, {
    within: false,
    spectral: false,
    nameA: a.sae.source.path,
    nameB: b.sae.source.path,
  });
  const xA = new Float32Array(chunkRows * ra.d);
  const xB = new Float32Array(chunkRows * rb.d);
  for (let r0 = 0; r0 < N; r0 += chunkRows) {
    const n = Math.min(chunkRows, N - r0);
    ra.read(r0, n, xA);
    if (perm) rb.gather(perm.subarray(r0, r0 + n), xB);
    else rb.read(r0, n, xB);
    const zA = encodeLatents(a.sae, { data: xA.subarray(0, n * ra.d), rows: n, cols: ra.d }, e);
    const zB = encodeLatents(b.sae, { data: xB.subarray(0, n * rb.d), rows: n, cols: rb.d }, e);
    acc.update(zA, zB);
    progress(n);
  }
  return acc;
}

/** Maximum-weight one-to-one assignment on the live block of ρ [M_A × M_B]. */
export function assignLive(
  rhoAB: Float64Array,
  mB: number,
  liveA: number[],
  liveB: number[],
): { meanCorr: number; pairs: Array<{ i: number; j: number; r: number }> } {
  if (liveA.length === 0 || liveB.length === 0) return { meanCorr: NaN, pairs: [] };
  const block = new Float64Array(liveA.length * liveB.length);
  liveA.forEach((i, p) => liveB.forEach((j, q) => (block[p * liveB.length + q] = rhoAB[i * mB + j])));
  const asg = linearSumAssignment(
    { data: block, rows: liveA.length, cols: liveB.length },
    { maximize: true, name: 'live correlation matrix' },
  );
  const pairs = Array.from(asg.rowIdx, (p, t) => ({
    i: liveA[p],
    j: liveB[asg.colIdx[t]],
    r: block[p * liveB.length + asg.colIdx[t]],
  }));
  return { meanCorr: asg.total / pairs.length, pairs };
}

/** Many-to-one pairs (Lan et al.): each live A latent → its max-correlation live B latent, kept when ρ > minCorr. */
export function manyToOne(
  liveA: Uint8Array,
  partner: Int32Array,
  value: Float64Array,
  minCorr: number,
): { a: number[]; b: number[]; r: number[] } {
  const out = { a: [] as number[], b: [] as number[], r: [] as number[] };
  for (let i = 0; i < liveA.length; i++) {
    if (liveA[i] && partner[i] >= 0 && value[i] > minCorr) {
      out.a.push(i);
      out.b.push(partner[i]);
      out.r.push(value[i]);
    }
  }
  return out;
}

/** The activations at `path`, read by global row index, checked against the SAE's input width. */
export function openRows(path: string, sae: SaeWeights): ShardRows {
  const rows = new ShardRows(findShards(path));
  if (rows.d !== sae.dIn) {
    throw new DataError(
      path,
      'd (columns)',
      String(rows.d),
      `${sae.dIn}, the d_in of the SAE at ${sae.source.path}`,
      'pair each SAE with activations of the layer it was trained on',
    );
  }
  return rows;
}
