/**
 * SynthSAEBench-style synthetic data (docs/SCIENCE.md §5, after Chanin et al. 2026): Zipf firing
 * frequencies, a one-level feature hierarchy with mutually exclusive children, low-rank correlated
 * firings, and superposition noise, over G = F random unit rows in R^D.
 *
 * The generative process, per sample:
 * 1. Roots and free features (every feature that is not a child) fire through the Gaussian copula
 *    of data/synthetic/firing.ts with marginals p_i.
 * 2. When parent j fires, at most one of its children fires: child c with probability
 *    q_c = p_c / p_j (one uniform draw against the cumulative q). Children never fire without
 *    their parent, and the marginal of child c is exactly p_j·q_c = p_c.
 * 3. Magnitudes |N(magMean, magStd²)| (default |N(1, 0.15²)|); x = s·G + N(0, noise²·I).
 *
 * Frequencies: p_i = min(pMax, c·(i+1)^−α), Σ p_i = k (the mean number active), so feature 0 is the
 * most frequent. Roles by index: parents are features 0..P−1 (the most frequent — general concepts
 * fire often), parent j's children are P + j·C … P + j·C + C − 1, the rest are free. Under Zipf with
 * α ≥ 1 the children's probabilities sum to at most their parent's; when they would not (α < 1, or
 * the pMax cap), the children's targets are scaled down to fit and `firingProb` reports the
 * adjusted values (Σ p then falls slightly below k).
 *
 * Ours, not the paper's (SynthSAEBench builds deeper trees and compensates probabilities
 * differently): the index-based role assignment, the single hierarchy level, the defaults below,
 * and the copula parametrisation. Random streams from the data seed: 'dictionary', 'correlation',
 * 'codes', 'noise'.
 */
import { Rng } from '../../core/rng.js';
import { CodesBuilder, decodeCodes, randomUnitRows } from './dictionary.js';
import { GaussianCopula, scaleToMean } from './firing.js';
import { fillZigguratNormal, zigguratNormal } from './ziggurat.js';
import type { SyntheticData } from './types.js';
import { checkInt, checkKnown, checkNum, checkPair } from './validate.js';

export interface SynthbenchOptions {
  /** Samples N. */
  n: number;
  /** Data seed. */
  seed: number;
  /** Activation width D (default 128). */
  d?: number;
  /** Ground-truth features F (default 512: 4× superposition). */
  features?: number;
  /** Mean number of active features per sample (default 5). */
  k?: number;
  /** Zipf exponent α of firing frequency against rank, > 0 (default 1). */
  zipfExponent?: number;
  /** Cap on any feature's firing probability, in (0, 1] (default 0.5). */
  pMax?: number;
  /** Number of parent features P (default ⌊F/32⌋; 0 = no hierarchy). */
  parents?: number;
  /** Mutually exclusive children per parent C (default 4). Needs P·(C+1) ≤ F. */
  childrenPerParent?: number;
  /** Copula factor rank R (default 8; 0 = independent). */
  rank?: number;
  /** Copula shared-variance share ρ ∈ [0, 1) (default 0.3). */
  rho?: number;
  /** Mean of the magnitude before folding (default 1). */
  magMean?: number;
  /** Standard deviation of the magnitude before folding (default 0.15). */
  magStd?: number;
  /** Standard deviation of the isotropic Gaussian noise added to x (default 0.01; 0 = none). */
  noise?: number;
}

export type SynthbenchConfig = Required<SynthbenchOptions> & { kind: 'synthbench' };

export interface SynthbenchData extends SyntheticData<SynthbenchConfig> {
  /** Parent of each feature, [F]; −1 for parents and free features. */
  parentOf: Int32Array;
}

const KNOWN = [
  'n',
  'seed',
  'd',
  'features',
  'k',
  'zipfExponent',
  'pMax',
  'parents',
  'childrenPerParent',
  'rank',
  'rho',
  'magMean',
  'magStd',
  'noise',
] as const;

export function resolveSynthbench(opts: SynthbenchOptions): SynthbenchConfig {
  const K = 'synthbench';
  checkKnown(K, opts, KNOWN);
  const features = checkInt(K, 'features', opts.features ?? 512, 1);
  const cfg: SynthbenchConfig = {
    kind: 'synthbench',
    n: checkInt(K, 'n', opts.n, 0),
    seed: checkInt(K, 'seed', opts.seed, Number.MIN_SAFE_INTEGER),
    d: checkInt(K, 'd', opts.d ?? 128, 1),
    features,
    k: checkNum(K, 'k', opts.k ?? 5, 0, Number.MAX_VALUE, { minOpen: true }),
    zipfExponent: checkNum(K, 'zipfExponent', opts.zipfExponent ?? 1, 0, 100, { minOpen: true }),
    pMax: checkNum(K, 'pMax', opts.pMax ?? 0.5, 0, 1, { minOpen: true }),
    parents: checkInt(K, 'parents', opts.parents ?? Math.floor(features / 32), 0),
    childrenPerParent: checkInt(K, 'childrenPerParent', opts.childrenPerParent ?? 4, 1),
    rank: checkInt(K, 'rank', opts.rank ?? 8, 0),
    rho: checkNum(K, 'rho', opts.rho ?? 0.3, 0, 1, { maxOpen: true }),
    magMean: checkNum(K, 'magMean', opts.magMean ?? 1, -1e6, 1e6),
    magStd: checkNum(K, 'magStd', opts.magStd ?? 0.15, 0, 1e6),
    noise: checkNum(K, 'noise', opts.noise ?? 0.01, 0, 1e6),
  };
  checkPair(K, cfg.magMean !== 0 || cfg.magStd > 0, 'magMean = 0 with magStd = 0 makes every magnitude 0');
  const used = cfg.parents * (cfg.childrenPerParent + 1);
  checkPair(
    K,
    used <= features,
    `parents × (childrenPerParent + 1) = ${cfg.parents} × ${cfg.childrenPerParent + 1} = ${used} exceeds features ` +
      `= ${features}`,
  );
  checkPair(
    K,
    cfg.k <= cfg.pMax * features,
    `k = ${cfg.k} exceeds pMax × features = ${cfg.pMax * features} (no firing probabilities can reach that mean)`,
  );
  return cfg;
}

/** Feature roles and final marginal firing probabilities for a resolved config. */
function synthbenchStructure(cfg: SynthbenchConfig): { parentOf: Int32Array; firingProb: Float64Array } {
  const f = cfg.features;
  const w = new Float64Array(f);
  for (let i = 0; i < f; i++) w[i] = (i + 1) ** -cfg.zipfExponent;
  const p = scaleToMean(w, cfg.k, cfg.pMax);
  const parentOf = new Int32Array(f).fill(-1);
  const { parents: np, childrenPerParent: nc } = cfg;
  for (let j = 0; j < np; j++) {
    let sum = 0;
    for (let m = 0; m < nc; m++) {
      const c = np + j * nc + m;
      parentOf[c] = j;
      sum += p[c];
    }
    if (sum > p[j]) for (let m = 0; m < nc; m++) p[np + j * nc + m] *= p[j] / sum;
  }
  return { parentOf, firingProb: p };
}

export function generateSynthbench(opts: SynthbenchOptions): SynthbenchData {
  const cfg = resolveSynthbench(opts);
  const { n, d, features: f, parents: np, childrenPerParent: nc } = cfg;
  const seedParts = [cfg.seed, 'synthetic', 'synthbench'] as const;
  const gt = randomUnitRows(Rng.from(...seedParts, 'dictionary'), f, d);
  const { parentOf, firingProb } = synthbenchStructure(cfg);
  const notChild = Uint8Array.from(parentOf, (pa) => (pa < 0 ? 1 : 0));
  const copula = new GaussianCopula(firingProb, cfg.rank, cfg.rho, Rng.from(...seedParts, 'correlation'));
  const rng = Rng.from(...seedParts, 'codes');

  const magnitude = (): number => {
    for (;;) {
      const m = Math.abs(cfg.magMean + cfg.magStd * zigguratNormal(rng));
      if (Math.fround(m) > 0) return m;
    }
  };
  const b = new CodesBuilder(n, f, cfg.k);
  const fire = (i: number): void => {
    b.push(i, magnitude());
    if (i >= np) return;
    // Parent i fired: at most one child, child c with probability p_c / p_i.
    const v = rng.uniform() * firingProb[i];
    let cum = 0;
    for (let m = 0; m < nc; m++) {
      const c = np + i * nc + m;
      cum += firingProb[c];
      if (v < cum) {
        b.push(c, magnitude());
        break;
      }
    }
  };
  for (let s = 0; s < n; s++) {
    copula.sample(rng, fire, notChild);
    b.endRow();
  }
  const codes = b.finish();
  const acts = decodeCodes(codes, gt);
  if (cfg.noise > 0) {
    const noise = Rng.from(...seedParts, 'noise');
    const rowD = new Float64Array(d);
    for (let s = 0; s < n; s++) {
      fillZigguratNormal(noise, rowD, 0, cfg.noise);
      for (let j = 0; j < d; j++) acts.data[s * d + j] += rowD[j];
    }
  }
  return { acts, gt, codes, firingProb, parentOf, config: cfg };
}
