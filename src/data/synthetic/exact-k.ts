/**
 * Exactly-k synthetic data (docs/SCIENCE.md §5, Song et al. 2025): G = F random unit rows in R^D; each
 * sample has exactly k non-zero codes at k distinct features chosen uniformly at random, with
 * magnitudes |N(0, 1)|; x = s·G. Every feature fires with probability k/F. Regimes (matched,
 * redundant, compressive) are chosen by the SAE width, not here.
 *
 * Random streams (all from the data seed): 'dictionary' draws G; 'codes' draws the supports and
 * magnitudes. Same config → identical bytes. Codes within a row are in draw order (not sorted).
 */
import { Rng } from '../../core/rng.js';
import { decodeCodes, randomUnitRows } from './dictionary.js';
import type { SparseCodes, SyntheticData } from './types.js';
import { checkInt, checkKnown, checkPair } from './validate.js';

export interface ExactKOptions {
  /** Samples N. */
  n: number;
  /** Data seed (separate from any SAE init or data-order seed). */
  seed: number;
  /** Activation width D (default 64). */
  d?: number;
  /** Ground-truth features F (default 128). */
  features?: number;
  /** Non-zero codes per sample, 1 ≤ k ≤ F (default 4). */
  k?: number;
}

export type ExactKConfig = Required<ExactKOptions> & { kind: 'exact-k' };

const KNOWN = ['n', 'seed', 'd', 'features', 'k'] as const;

export function resolveExactK(opts: ExactKOptions): ExactKConfig {
  checkKnown('exact-k', opts, KNOWN);
  const cfg: ExactKConfig = {
    kind: 'exact-k',
    n: checkInt('exact-k', 'n', opts.n, 0),
    seed: checkInt('exact-k', 'seed', opts.seed, Number.MIN_SAFE_INTEGER),
    d: checkInt('exact-k', 'd', opts.d ?? 64, 1),
    features: checkInt('exact-k', 'features', opts.features ?? 128, 1),
    k: checkInt('exact-k', 'k', opts.k ?? 4, 1),
  };
  checkPair(
    'exact-k',
    cfg.k <= cfg.features,
    `k = ${cfg.k} exceeds features = ${cfg.features} (each sample needs k distinct features)`,
  );
  return cfg;
}

export function generateExactK(opts: ExactKOptions): SyntheticData<ExactKConfig> {
  const cfg = resolveExactK(opts);
  const { n, d, features: f, k } = cfg;
  const gt = randomUnitRows(Rng.from(cfg.seed, 'synthetic', 'exact-k', 'dictionary'), f, d);
  const rng = Rng.from(cfg.seed, 'synthetic', 'exact-k', 'codes');

  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) rowPtr[i] = i * k;
  const idxK = new Int32Array(n * k);
  const valK = new Float32Array(n * k);
  // A partial Fisher–Yates shuffle of the first k slots of `pool` draws a uniform k-subset from
  // any starting arrangement, so the pool is reused across samples without resetting: O(k) each.
  const pool = new Int32Array(f);
  for (let i = 0; i < f; i++) pool[i] = i;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const r = j + rng.int(f - j);
      const t = pool[j];
      pool[j] = pool[r];
      pool[r] = t;
      idxK[i * k + j] = pool[j];
    }
  }
  const mags = new Float64Array(n * k);
  rng.fillNormal(mags);
  for (let p = 0; p < mags.length; p++) valK[p] = Math.abs(mags[p]);
  // |N(0,1)| is never exactly 0 in practice; guard so "exactly k non-zeros" holds anyway.
  for (let p = 0; p < valK.length; p++) if (valK[p] === 0) valK[p] = 1.401298464324817e-45; // smallest f32 subnormal

  const codes: SparseCodes = { rowPtr, idxK, valK, features: f };
  return { acts: decodeCodes(codes, gt), gt, codes, firingProb: new Float64Array(f).fill(k / f), config: cfg };
}
