/**
 * Stability across S seeds of one configuration (docs/SCIENCE.md §3, "Per-feature stability over S
 * seeds" and "Consensus features"). Every seed pair (s, s') is matched once, by default with the
 * exact maximum-weight assignment (assignment.ts) on the signed cosines C = A_s·A_s'ᵀ (cosine.ts);
 * latent i of seed s is *present* in s' iff its partner there has cos ≥ τ. From that:
 * - stab_i = (1/(S−1)) Σ_{s'≠s} 1[present in s'] per latent of every seed;
 * - the histogram "present in m of S seeds" (m = 1 + #seeds it is present in), counting every
 *   (seed, latent) once — a feature found in all S seeds contributes S latents to bin S;
 * - the fraction of latents unique to their seed (present in no other) as the number of seeds S'
 *   grows (S' = 2..S), averaged over seed subsets: all C(S, S') of them when there are at most
 *   `maxSubsets`, else `maxSubsets` uniform random subsets from `seed` (core/rng.ts). One matching
 *   per pair serves every subset;
 * - consensus features: clusters of mutually matched atoms. Nodes are (seed, latent); an edge joins
 *   a matched pair with cos ≥ τ. Plain connected components chain (a~b, b~c, but a≁c) and can even
 *   hold two latents of one seed, so instead edges are taken by decreasing cosine and two clusters
 *   merge only if they share no seed and at least `linkFraction` of the member pairs across them
 *   are edges (default 1: every cluster is a clique of the match graph — all members pairwise
 *   matched at cos ≥ τ). Each cluster reports its members, its mean direction (members sign-aligned
 *   to the first, averaged, normalised) and its spread (mean cosine of the members to that
 *   direction: 1 = identical atoms).
 *
 * Letter legend: S = seeds, N_s = latents of seed s, D = d_in.
 */
import { ConfigError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { linearSumAssignment } from './assignment.js';
import { type Atoms, type UnitAtoms, cosineMatrix, unitAtoms } from './cosine.js';

/** A one-to-one (partial) matching of seed a's atoms to seed b's. */
export interface PairMatch {
  /** colForRow[i] = the matched atom of b, or −1. [N_a] */
  readonly colForRow: Int32Array;
  /** cosForRow[i] = signed cosine of that pair, NaN when unmatched. [N_a] */
  readonly cosForRow: Float64Array;
}

/** Matches the unit atoms of one seed to another's. */
export type MatchFn = (a: UnitAtoms, b: UnitAtoms) => PairMatch;

/** Default matcher: maximum-weight assignment on the signed cosines (docs/SCIENCE.md §3, σ). */
export function assignmentMatch(a: UnitAtoms, b: UnitAtoms): PairMatch {
  const cosAB = cosineMatrix(a, b);
  const asg = linearSumAssignment(cosAB, { maximize: true, name: `cos(${a.name}, ${b.name})` });
  const cosForRow = new Float64Array(a.rows).fill(NaN);
  for (let i = 0; i < a.rows; i++) {
    const j = asg.colForRow[i];
    if (j >= 0) cosForRow[i] = cosAB.data[i * b.rows + j];
  }
  return { colForRow: asg.colForRow, cosForRow };
}

interface SeedStabilityOptions {
  /** Presence threshold on the matched cosine (default 0.7, as the shared fraction's τ). */
  tau?: number;
  /** Matching function (default {@link assignmentMatch}). */
  match?: MatchFn;
  /** Smallest consensus cluster reported, in seeds (default 2). */
  minSeeds?: number;
  /** Fraction of cross pairs that must be edges for two clusters to merge (default 1 = cliques). */
  linkFraction?: number;
  /** Subsets per S' for the uniqueness curve before sampling kicks in (default 64). */
  maxSubsets?: number;
  /** Seed for sampled subsets (default 0). */
  seed?: number;
}

/** One member of a consensus feature. */
interface SeedLatent {
  readonly seed: number;
  readonly latent: number;
}

export interface ConsensusFeature {
  /** Members ordered by seed; at most one per seed. */
  readonly members: SeedLatent[];
  /** Unit mean direction of the sign-aligned members. [D] */
  readonly direction: Float64Array;
  /** Mean cosine of the (sign-aligned) members to `direction`. */
  readonly spread: number;
}

export interface SeedStability {
  readonly seeds: number;
  readonly tau: number;
  /** stab[s][i] for latent i of seed s. */
  readonly stab: Float64Array[];
  /** presentIn[s][i] ∈ 1..S: seeds latent i of seed s is present in, itself included. */
  readonly presentIn: Int32Array[];
  /** histogram[m] = # (seed, latent) present in exactly m of S seeds; length S + 1, [0] = 0. */
  readonly histogram: Int32Array;
  /**
   * pwmcc[s][t]: PW-MCC between seeds s and t from the same matches (Σ matched cos / min(N_s, N_t),
   * docs/SCIENCE.md §3) — with the default matcher exactly pairwise.ts `pwmcc`; 1 on the diagonal.
   */
  readonly pwmcc: number[][];
  /** Mean stab over all latents of all seeds. */
  readonly meanStability: number;
  /** Fraction unique to one seed for S' = uniqueCurve.seeds[t] seeds (S' = 2..S). */
  readonly uniqueCurve: { readonly seeds: number[]; readonly fractionUnique: number[]; readonly subsets: number[] };
  /** Consensus clusters with ≥ minSeeds members, largest first (then tightest). */
  readonly consensus: ConsensusFeature[];
  /** clusterSizes[m] = # clusters of exactly m members, singletons included; length S + 1. */
  readonly clusterSizes: Int32Array;
}

/**
 * Per-feature stability, presence histogram, uniqueness curve and consensus features of the atom
 * sets `atomsPerSeed` (one [N_s × D] matrix per seed; raw rows are normalised on use).
 */
export function seedStability(atomsPerSeed: readonly Atoms[], opts: SeedStabilityOptions = {}): SeedStability {
  const S = atomsPerSeed.length;
  const tau = opts.tau ?? 0.7;
  const match = opts.match ?? assignmentMatch;
  const minSeeds = opts.minSeeds ?? 2;
  const linkFraction = opts.linkFraction ?? 1;
  const maxSubsets = opts.maxSubsets ?? 64;
  if (S < 2) throw new ConfigError(`seedStability: needs at least 2 seeds, got ${S}`);
  if (!(tau >= -1 && tau <= 1)) throw new ConfigError(`seedStability: tau = ${tau}, expected a number in [−1, 1]`);
  if (!Number.isInteger(minSeeds) || minSeeds < 1)
    throw new ConfigError(`seedStability: minSeeds = ${minSeeds}, expected an integer ≥ 1`);
  if (!(linkFraction > 0 && linkFraction <= 1))
    throw new ConfigError(`seedStability: linkFraction = ${linkFraction}, expected a number in (0, 1]`);
  if (!Number.isInteger(maxSubsets) || maxSubsets < 1)
    throw new ConfigError(`seedStability: maxSubsets = ${maxSubsets}, expected an integer ≥ 1`);
  const atoms = atomsPerSeed.map((a, s) => unitAtoms(a, `atoms of seed ${s}`));
  const D = atoms[0].cols;
  atoms.forEach((a, s) => {
    if (a.cols !== D)
      throw new ShapeError(`seedStability: atoms of seed ${s} are ${fmtShape(a.rows, a.cols)}, seed 0 has d_in = ${D}`);
  });
  const n = atoms.map((a) => a.rows);

  // partner[s][s'][i], cos[s][s'][i], and present[s][s'][i] = partner exists with cos ≥ τ.
  const partner: Int32Array[][] = [];
  const pcos: Float64Array[][] = [];
  const present: Uint8Array[][] = [];
  for (let s = 0; s < S; s++) {
    partner.push([]);
    pcos.push([]);
    present.push([]);
    for (let t = 0; t < S; t++) {
      partner[s].push(new Int32Array(n[s]).fill(-1));
      pcos[s].push(new Float64Array(n[s]).fill(NaN));
      present[s].push(new Uint8Array(n[s]));
    }
  }
  const pwmccSS = Array.from({ length: S }, (_, s) => Array.from({ length: S }, (_, t) => (s === t ? 1 : NaN)));
  for (let s = 0; s < S; s++) {
    for (let t = s + 1; t < S; t++) {
      const m = match(atoms[s], atoms[t]);
      if (m.colForRow.length !== n[s] || m.cosForRow.length !== n[s]) {
        throw new ShapeError(
          `seedStability: match(seed ${s}, seed ${t}) returned ${m.colForRow.length} partners for ${n[s]} atoms`,
        );
      }
      for (let i = 0; i < n[s]; i++) {
        const j = m.colForRow[i];
        if (j < 0) continue;
        if (j >= n[t] || partner[t][s][j] >= 0)
          throw new ShapeError(`seedStability: match(seed ${s}, seed ${t}) is not one-to-one at atom ${i} → ${j}`);
        const c = m.cosForRow[i];
        partner[s][t][i] = j;
        partner[t][s][j] = i;
        pcos[s][t][i] = c;
        pcos[t][s][j] = c;
        const ok = c >= tau ? 1 : 0;
        present[s][t][i] = ok;
        present[t][s][j] = ok;
      }
      let sum = 0;
      for (let i = 0; i < n[s]; i++) if (m.colForRow[i] >= 0) sum += m.cosForRow[i];
      pwmccSS[s][t] = pwmccSS[t][s] = sum / Math.min(n[s], n[t]);
    }
  }

  // Per-latent stability and the presence histogram.
  const stab: Float64Array[] = [];
  const presentIn: Int32Array[] = [];
  const histogram = new Int32Array(S + 1);
  let stabSum = 0;
  let total = 0;
  for (let s = 0; s < S; s++) {
    const st = new Float64Array(n[s]);
    const pi = new Int32Array(n[s]);
    for (let i = 0; i < n[s]; i++) {
      let c = 0;
      for (let t = 0; t < S; t++) if (t !== s) c += present[s][t][i];
      st[i] = c / (S - 1);
      pi[i] = c + 1;
      histogram[c + 1]++;
      stabSum += st[i];
      total++;
    }
    stab.push(st);
    presentIn.push(pi);
  }

  const uniqueCurve = uniqueness(S, n, present, maxSubsets, Rng.from(opts.seed ?? 0, 'seed-subsets'));
  const { consensus, clusterSizes } = clusterConsensus(atoms, n, partner, pcos, present, minSeeds, linkFraction);
  return {
    seeds: S,
    tau,
    stab,
    presentIn,
    histogram,
    pwmcc: pwmccSS,
    meanStability: total > 0 ? stabSum / total : NaN,
    uniqueCurve,
    consensus,
    clusterSizes,
  };
}

/** The fraction of latents unique to their seed within subsets of S' seeds, S' = 2..S. */
function uniqueness(
  S: number,
  n: number[],
  present: Uint8Array[][],
  maxSubsets: number,
  rng: Rng,
): SeedStability['uniqueCurve'] {
  const seeds: number[] = [];
  const fractionUnique: number[] = [];
  const subsetsUsed: number[] = [];
  for (let k = 2; k <= S; k++) {
    const subsets: number[][] = binomial(S, k) <= maxSubsets ? combinations(S, k) : [];
    if (subsets.length === 0) {
      for (let r = 0; r < maxSubsets; r++)
        subsets.push(Array.from(rng.permutation(S).subarray(0, k)).sort((a, b) => a - b));
    }
    let acc = 0;
    for (const sub of subsets) {
      let unique = 0;
      let all = 0;
      for (const s of sub) {
        for (let i = 0; i < n[s]; i++) {
          let found = false;
          for (const t of sub) if (t !== s && present[s][t][i]) found = true;
          if (!found) unique++;
        }
        all += n[s];
      }
      acc += all > 0 ? unique / all : NaN;
    }
    seeds.push(k);
    fractionUnique.push(acc / subsets.length);
    subsetsUsed.push(subsets.length);
  }
  return { seeds, fractionUnique, subsets: subsetsUsed };
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/** All k-subsets of 0..n−1 in lexicographic order. */
function combinations(n: number, k: number): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const rec = (start: number): void => {
    if (cur.length === k) {
      out.push([...cur]);
      return;
    }
    for (let i = start; i <= n - (k - cur.length); i++) {
      cur.push(i);
      rec(i + 1);
      cur.pop();
    }
  };
  rec(0);
  return out;
}

/** Greedy clique-linkage clustering of the match graph (see the file header). */
function clusterConsensus(
  atoms: UnitAtoms[],
  n: number[],
  partner: Int32Array[][],
  pcos: Float64Array[][],
  present: Uint8Array[][],
  minSeeds: number,
  linkFraction: number,
): { consensus: ConsensusFeature[]; clusterSizes: Int32Array } {
  const S = atoms.length;
  const D = atoms[0].cols;
  // Edges (s < t), sorted by cosine descending, ties by (s, i, t) for determinism.
  const edges: { s: number; i: number; t: number; j: number; c: number }[] = [];
  for (let s = 0; s < S; s++) {
    for (let t = s + 1; t < S; t++) {
      for (let i = 0; i < n[s]; i++)
        if (present[s][t][i]) edges.push({ s, i, t, j: partner[s][t][i], c: pcos[s][t][i] });
    }
  }
  edges.sort((x, y) => y.c - x.c || x.s - y.s || x.i - y.i || x.t - y.t);

  // clusterOf[s][i] = cluster id; clusters[id] = members (null once merged away).
  const clusterOf = n.map((ns) => new Int32Array(ns).fill(-1));
  const clusters: (SeedLatent[] | null)[] = [];
  for (let s = 0; s < S; s++) {
    for (let i = 0; i < n[s]; i++) {
      clusterOf[s][i] = clusters.length;
      clusters.push([{ seed: s, latent: i }]);
    }
  }
  const linked = (x: SeedLatent, y: SeedLatent): boolean =>
    x.seed !== y.seed && partner[x.seed][y.seed][x.latent] === y.latent && present[x.seed][y.seed][x.latent] === 1;
  for (const e of edges) {
    const cu = clusterOf[e.s][e.i];
    const cv = clusterOf[e.t][e.j];
    if (cu === cv) continue;
    const U = clusters[cu]!;
    const V = clusters[cv]!;
    const seedsU = new Set(U.map((m) => m.seed));
    if (V.some((m) => seedsU.has(m.seed))) continue;
    let links = 0;
    for (const x of U) for (const y of V) if (linked(x, y)) links++;
    if (links < linkFraction * U.length * V.length) continue;
    for (const y of V) {
      U.push(y);
      clusterOf[y.seed][y.latent] = cu;
    }
    clusters[cv] = null;
  }

  const clusterSizes = new Int32Array(S + 1);
  const consensus: ConsensusFeature[] = [];
  for (const c of clusters) {
    if (!c) continue;
    clusterSizes[c.length]++;
    if (c.length < minSeeds) continue;
    c.sort((x, y) => x.seed - y.seed);
    const rowOf = (m: SeedLatent): Float32Array => atoms[m.seed].data.subarray(m.latent * D, (m.latent + 1) * D);
    const ref = rowOf(c[0]);
    const dir = new Float64Array(D);
    const signs = c.map((m) => {
      const r = rowOf(m);
      let dot = 0;
      for (let k = 0; k < D; k++) dot += r[k] * ref[k];
      const sg = dot < 0 ? -1 : 1;
      for (let k = 0; k < D; k++) dir[k] += sg * r[k];
      return sg;
    });
    let nrm = 0;
    for (let k = 0; k < D; k++) nrm += dir[k] * dir[k];
    nrm = Math.sqrt(nrm);
    if (nrm > 0) for (let k = 0; k < D; k++) dir[k] /= nrm;
    let spread = 0;
    c.forEach((m, t) => {
      const r = rowOf(m);
      let dot = 0;
      for (let k = 0; k < D; k++) dot += r[k] * dir[k];
      spread += signs[t] * dot;
    });
    consensus.push({ members: c, direction: dir, spread: spread / c.length });
  }
  consensus.sort(
    (x, y) =>
      y.members.length - x.members.length ||
      y.spread - x.spread ||
      x.members[0].seed - y.members[0].seed ||
      x.members[0].latent - y.members[0].latent,
  );
  return { consensus, clusterSizes };
}
