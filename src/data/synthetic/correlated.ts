/**
 * Correlated, decaying synthetic data (docs/SCIENCE.md §5, after Sharkey et al. 2022, "Taking features
 * out of superposition with sparse autoencoders"): F = 512 features in D = 256 by default; feature
 * i fires with probability p_i ∝ decay^i (decay 0.99), scaled so that Σ p_i = k (about 5 active
 * per sample); firings are correlated through a Gaussian copula (data/synthetic/firing.ts) whose
 * thresholds keep each marginal exactly p_i; magnitudes U(0,1)·U(0,1); x = s·G with G random unit
 * rows.
 *
 * Ours, not the paper's: the copula's parametrisation (rank R = 8 factor, shared-variance share
 * ρ = 0.5 by default) and the exact scaling rule (Σ p = k, capped at 1). Random streams from the
 * data seed: 'dictionary' (G), 'correlation' (the factor W), 'codes' (firings and magnitudes).
 */
import { Rng } from '../../core/rng.js';
import { CodesBuilder, decodeCodes, randomUnitRows } from './dictionary.js';
import { GaussianCopula, scaleToMean } from './firing.js';
import type { SyntheticData } from './types.js';
import { checkInt, checkKnown, checkNum, checkPair } from './validate.js';

export interface CorrelatedOptions {
  /** Samples N. */
  n: number;
  /** Data seed. */
  seed: number;
  /** Activation width D (default 256). */
  d?: number;
  /** Ground-truth features F (default 512). */
  features?: number;
  /** Mean number of active features per sample, 0 < k ≤ F (default 5). */
  k?: number;
  /** Geometric decay of firing probability with feature index, in (0, 1] (default 0.99). */
  decay?: number;
  /** Copula factor rank R (default 8; 0 = independent firings). */
  rank?: number;
  /** Share of each copula latent's variance that is shared through the factor, ρ ∈ [0, 1) (default 0.5). */
  rho?: number;
}

export type CorrelatedConfig = Required<CorrelatedOptions> & { kind: 'correlated' };

const KNOWN = ['n', 'seed', 'd', 'features', 'k', 'decay', 'rank', 'rho'] as const;

export function resolveCorrelated(opts: CorrelatedOptions): CorrelatedConfig {
  const K = 'correlated';
  checkKnown(K, opts, KNOWN);
  const cfg: CorrelatedConfig = {
    kind: 'correlated',
    n: checkInt(K, 'n', opts.n, 0),
    seed: checkInt(K, 'seed', opts.seed, Number.MIN_SAFE_INTEGER),
    d: checkInt(K, 'd', opts.d ?? 256, 1),
    features: checkInt(K, 'features', opts.features ?? 512, 1),
    k: checkNum(K, 'k', opts.k ?? 5, 0, Number.MAX_VALUE, { minOpen: true }),
    decay: checkNum(K, 'decay', opts.decay ?? 0.99, 0, 1, { minOpen: true }),
    rank: checkInt(K, 'rank', opts.rank ?? 8, 0),
    rho: checkNum(K, 'rho', opts.rho ?? 0.5, 0, 1, { maxOpen: true }),
  };
  checkPair(
    K,
    cfg.k <= cfg.features,
    `k = ${cfg.k} exceeds features = ${cfg.features} (k is the mean number active, at most all of them)`,
  );
  return cfg;
}

/** Firing probabilities p_i = min(1, c·decay^i), Σ p_i = k. */
export function correlatedFiringProb(cfg: Pick<CorrelatedConfig, 'features' | 'k' | 'decay'>): Float64Array {
  const w = new Float64Array(cfg.features);
  for (let i = 0; i < cfg.features; i++) w[i] = cfg.decay ** i;
  return scaleToMean(w, cfg.k);
}

export function generateCorrelated(opts: CorrelatedOptions): SyntheticData<CorrelatedConfig> {
  const cfg = resolveCorrelated(opts);
  const { n, d, features: f } = cfg;
  const gt = randomUnitRows(Rng.from(cfg.seed, 'synthetic', 'correlated', 'dictionary'), f, d);
  const probF = correlatedFiringProb(cfg);
  const copula = new GaussianCopula(
    probF,
    cfg.rank,
    cfg.rho,
    Rng.from(cfg.seed, 'synthetic', 'correlated', 'correlation'),
  );
  const rng = Rng.from(cfg.seed, 'synthetic', 'correlated', 'codes');

  const b = new CodesBuilder(n, f, cfg.k);
  // U(0,1]·U(0,1]: the same law as U(0,1)·U(0,1) but never exactly 0, so every stored code is > 0.
  const fire = (i: number): void => b.push(i, (1 - rng.uniform()) * (1 - rng.uniform()));
  for (let s = 0; s < n; s++) {
    copula.sample(rng, fire);
    b.endRow();
  }
  const codes = b.finish();
  return { acts: decodeCodes(codes, gt), gt, codes, firingProb: probF, config: cfg };
}
