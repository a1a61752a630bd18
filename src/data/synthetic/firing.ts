/**
 * Which features fire: per-feature firing probabilities scaled to a mean number active, and
 * correlated Bernoulli draws with exactly those marginals through a low-rank Gaussian copula
 * (docs/SCIENCE.md §5, correlated and SynthSAEBench-style data).
 *
 * Copula (our parametrisation of "random correlation matrix from a low-rank factor + identity,
 * normalised to unit diagonal"): draw W [F, R] with N(0, 1) entries; feature i's latent Gaussian is
 *   z_i = √ρ · (w_i·u)/‖w_i‖ + √(1−ρ) · e_i,   u ~ N(0, I_R), e ~ N(0, I_F),
 * so Var z_i = 1 and Corr(z_i, z_j) = ρ·cos(w_i, w_j): the correlation matrix is
 * ρ·diag(1/‖w‖)WWᵀdiag(1/‖w‖) + (1−ρ)·I. Feature i fires iff z_i > τ_i = −Φ⁻¹(p_i), so
 * P(fire) = p_i exactly whatever the correlation. ρ = 0 or R = 0 gives independent draws (and
 * uses one uniform per feature instead of a normal). Normals come from the ziggurat sampler:
 * the copula needs F of them per sample.
 */
import type { Rng } from '../../core/rng.js';
import { normalQuantile } from './normal-quantile.js';
import { fillZigguratNormal } from './ziggurat.js';

/**
 * p_i = min(pMax, c·w_i) with c chosen (by bisection) so that Σ p_i = mean. Requires
 * 0 < mean ≤ pMax·#{w_i > 0}; weights must be ≥ 0.
 */
export function scaleToMean(weights: Float64Array, mean: number, pMax = 1): Float64Array {
  const sumAt = (c: number): number => {
    let s = 0;
    for (const w of weights) s += Math.min(pMax, c * w);
    return s;
  };
  let lo = 0;
  let hi = 1;
  while (sumAt(hi) < mean) {
    hi *= 2;
    if (hi > 1e300) throw new RangeError(`scaleToMean: cannot reach a mean of ${mean} with pMax ${pMax}`);
  }
  for (let it = 0; it < 200 && hi - lo > 1e-15 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (sumAt(mid) < mean) lo = mid;
    else hi = mid;
  }
  return weights.map((w) => Math.min(pMax, hi * w));
}

export class GaussianCopula {
  /** √ρ·w_i/‖w_i‖, [F, R] row-major. */
  private readonly aFR: Float64Array;
  /** Thresholds τ_i, [F]. */
  private readonly tauF: Float64Array;
  private readonly b: number;
  private readonly uR: Float64Array;
  private readonly eF: Float64Array;

  /**
   * @param probF target firing probabilities [F]
   * @param rank R, the factor rank (0 ⇒ independent)
   * @param rho ρ ∈ [0, 1), the share of each latent's variance that is shared
   * @param rng draws the factor W (the correlation structure, fixed per dataset)
   */
  constructor(
    readonly probF: Float64Array,
    readonly rank: number,
    readonly rho: number,
    rng: Rng,
  ) {
    const f = probF.length;
    this.tauF = probF.map((p) => -normalQuantile(p));
    this.b = Math.sqrt(1 - rho);
    this.aFR = new Float64Array(f * rank);
    if (rank > 0 && rho > 0) {
      const w = new Float64Array(rank);
      const s = Math.sqrt(rho);
      for (let i = 0; i < f; i++) {
        let n2 = 0;
        do {
          rng.fillNormal(w);
          n2 = w.reduce((a, x) => a + x * x, 0);
        } while (n2 === 0);
        const k = s / Math.sqrt(n2);
        for (let r = 0; r < rank; r++) this.aFR[i * rank + r] = w[r] * k;
      }
    }
    this.uR = new Float64Array(rank);
    this.eF = new Float64Array(f);
  }

  /** The correlation between the latent Gaussians of features i and j (1 when i = j). */
  correlation(i: number, j: number): number {
    if (i === j) return 1;
    let s = 0;
    for (let r = 0; r < this.rank; r++) s += this.aFR[i * this.rank + r] * this.aFR[j * this.rank + r];
    return s;
  }

  /**
   * Draws one sample's firing pattern: calls `onFire(i)` for each firing feature, in increasing i.
   * Only features with `mask[i]` true are considered (all when mask is omitted).
   */
  sample(rng: Rng, onFire: (i: number) => void, mask?: Uint8Array): void {
    const f = this.probF.length;
    const { tauF, probF } = this;
    if (this.rank === 0 || this.rho === 0) {
      for (let i = 0; i < f; i++) if ((mask === undefined || mask[i] === 1) && rng.uniform() < probF[i]) onFire(i);
      return;
    }
    const { uR, eF, aFR, b, rank } = this;
    fillZigguratNormal(rng, uR);
    fillZigguratNormal(rng, eF);
    // |a_i·u| ≤ ‖a_i‖‖u‖ = √ρ‖u‖ =: c, so the shared term can only decide the outcome when
    // τ_i − c < b·e_i ≤ τ_i + c; outside that band the dot product is skipped (exact, just faster).
    let u2 = 0;
    for (let r = 0; r < rank; r++) u2 += uR[r] * uR[r];
    const c = Math.sqrt(this.rho * u2) * (1 + 1e-12);
    for (let i = 0; i < f; i++) {
      if (mask !== undefined && mask[i] === 0) continue;
      let z = b * eF[i];
      const tau = tauF[i];
      if (z + c <= tau) continue;
      if (z - c <= tau) {
        const o = i * rank;
        for (let r = 0; r < rank; r++) z += aFR[o + r] * uR[r];
        if (z <= tau) continue;
      }
      onFire(i);
    }
  }
}
