/**
 * Feature-level views of one cell (docs/SCIENCE.md §3 "Per-feature stability", §4 "Frequency"):
 * - stability by firing frequency: each latent's firing frequency on the evaluation sample (from
 *   training, store.ts `firing`) against its per-feature stability stab_i (metrics/seeds.ts: the
 *   fraction of other seeds where its matched partner has cos ≥ τ), averaged per log-spaced
 *   frequency bin (half-decades from 10^⌊log10(1/N)⌋ to 1), plus a bin [0, 0] of latents that never
 *   fired on the sample;
 * - the histogram of matched decoder cosines pooled over seed pairs, and the same for the random
 *   null's matches (raw counts: the two totals differ; normalise to compare);
 * - the atom map: all seeds' unit decoder atoms, subsampled to ≤ 4000 points with a seeded
 *   permutation, projected on the top-2 principal components of those points (covariance of the
 *   centred points, metrics/linalg.ts `symEig`), each labelled with its consensus cluster (−1: none).
 *
 * Letters: S seeds, M latents, D d_in, P points.
 */
import { Rng } from '../../core/rng.js';
import type { UnitAtoms } from '../../metrics/cosine.js';
import { symEig } from '../../metrics/linalg.js';
import type { SeedStability } from '../../metrics/seeds.js';
import type { CellResult } from '../results.js';

const COS_BINS = 40;
const MAX_MAP_POINTS = 4000;

/** Histogram counts of `values` over `bins` equal bins of [lo, hi] (values outside are clamped). */
export function histogram(
  values: readonly number[],
  bins = COS_BINS,
  lo = -1,
  hi = 1,
): { edges: number[]; counts: number[] } {
  const edges = Array.from({ length: bins + 1 }, (_, i) => Number((lo + ((hi - lo) * i) / bins).toFixed(10)));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)));
    counts[b]++;
  }
  return { edges, counts };
}

/** Matched-cosine histogram of a cell with its random-null counterpart. */
export function matchedCosines(trained: readonly number[], nul: readonly number[]): CellResult['matchedCosines'] {
  const t = histogram(trained);
  return { edges: t.edges, counts: t.counts, nullCounts: histogram(nul).counts };
}

/** Mean per-feature stability by firing-frequency bin. `firing[s]` is seed s's frequencies [M] (or null). */
export function frequencyBins(
  stab: SeedStability,
  firing: ReadonlyArray<Float32Array | null>,
  evalRows: number,
): CellResult['frequencyBins'] {
  const lowest = Math.floor(Math.log10(1 / Math.max(evalRows, 1)) * 2) / 2;
  const edges: number[] = [];
  for (let e = lowest; e <= 1e-9; e += 0.5) edges.push(10 ** e);
  if (edges.length === 0 || edges[edges.length - 1] < 1) edges.push(1);
  const bins = [
    { lo: 0, hi: 0, latents: 0, sum: 0 },
    ...edges.slice(0, -1).map((lo, i) => ({ lo, hi: edges[i + 1], latents: 0, sum: 0 })),
  ];
  stab.stab.forEach((st, s) => {
    const f = firing[s];
    if (!f) return;
    for (let i = 0; i < st.length; i++) {
      const x = f[i];
      let b = 0;
      if (x > 0) {
        b = 1;
        while (b < bins.length - 1 && x >= bins[b].hi) b++;
      }
      bins[b].latents++;
      bins[b].sum += st[i];
    }
  });
  return bins.map((b) => ({
    lo: round(b.lo),
    hi: round(b.hi),
    latents: b.latents,
    stability: b.latents > 0 ? b.sum / b.latents : null,
  }));
}

/** The 2-D PCA map of all seeds' decoder atoms with consensus cluster ids. */
export function atomMap(
  atoms: readonly UnitAtoms[],
  seeds: readonly number[],
  stab: SeedStability | null,
  seed: number,
  key: string,
): CellResult['atomMap'] {
  const D = atoms[0]?.cols ?? 0;
  // Points in (seed, latent) order; above MAX_MAP_POINTS a seeded subsample, kept in that order.
  let pick: Array<[number, number]> = [];
  atoms.forEach((a, s) => {
    for (let i = 0; i < a.rows; i++) pick.push([s, i]);
  });
  if (pick.length > MAX_MAP_POINTS) {
    const perm = Rng.from(seed, 'atom-map', key).permutation(pick.length);
    const all = pick;
    pick = Array.from(perm.subarray(0, MAX_MAP_POINTS))
      .sort((x, y) => x - y)
      .map((k) => all[k]);
  }
  const P = pick.length;
  if (P < 3 || D < 2) return null;
  const row = ([s, i]: [number, number]): Float32Array => atoms[s].data.subarray(i * D, (i + 1) * D);
  // Covariance of the centred points (float64), D × D: O(P·D²) with P ≤ 4000.
  const meanD = new Float64Array(D);
  for (const p of pick) {
    const r = row(p);
    for (let j = 0; j < D; j++) meanD[j] += r[j];
  }
  for (let j = 0; j < D; j++) meanD[j] /= P;
  const covDD = new Float64Array(D * D);
  const xc = new Float64Array(D);
  for (const p of pick) {
    const r = row(p);
    for (let j = 0; j < D; j++) xc[j] = r[j] - meanD[j];
    for (let j = 0; j < D; j++) {
      const v = xc[j];
      if (v === 0) continue;
      const base = j * D;
      for (let k = j; k < D; k++) covDD[base + k] += v * xc[k];
    }
  }
  for (let j = 0; j < D; j++) for (let k = j; k < D; k++) covDD[k * D + j] = covDD[j * D + k] /= P - 1;
  const vec = symEig(covDD, D, true).vectorsNN as Float64Array;
  const cluster = atoms.map((a) => new Int32Array(a.rows).fill(-1));
  stab?.consensus.forEach((c, id) => {
    for (const m of c.members) cluster[m.seed][m.latent] = id;
  });
  const out = { x: [] as number[], y: [] as number[], seed: [] as number[], cluster: [] as number[] };
  for (const p of pick) {
    const r = row(p);
    let px = 0;
    let py = 0;
    for (let j = 0; j < D; j++) {
      const v = r[j] - meanD[j];
      px += v * vec[j];
      py += v * vec[D + j];
    }
    out.x.push(round(px));
    out.y.push(round(py));
    out.seed.push(seeds[p[0]]);
    out.cluster.push(cluster[p[0]][p[1]]);
  }
  return out;
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
