/**
 * Activation similarity between the latents of two SAEs run on the SAME T tokens (docs/SCIENCE.md §3,
 * "Activation similarity", after Bricken et al. 2023 and the universal-features work; plus linear
 * CKA, SVCCA and effective rank from §3 "Subspace"). Streamed: `update(actsA, actsB)` per batch,
 * then `finish()`; memory is O(m_A·m_B + m_A² + m_B²), never O(T·m).
 *
 * What is accumulated, per batch of B tokens (Z = the batch centred on its own mean):
 * - centred co-moments M_AB = Σ (a − ā)(b − b̄)ᵀ (and M_AA, M_BB), merged across batches with the
 *   pairwise update of Chan, Golub & LeVeque (1979): M ← M + Z_AᵀZ_B + (n·B / (n + B))·δ_A δ_Bᵀ,
 *   δ = batch mean − running mean. Each Z_AᵀZ_B is one engine GEMM (float32); the running sums are
 *   float64. This is the numerically safe form of "accumulate Σa, Σb, Σaᵀb and centre at the end":
 *   raw sums lose log₁₀(E[a²]/var a) digits to cancellation when means are large, merged centred
 *   moments do not, and float64 keeps the cross-batch sums exact to ~1e-16 relative;
 * - firing counts n_i = #{t : a_ti ≠ 0} and co-firing counts N_ij = #{t : a_ti ≠ 0 ∧ b_tj ≠ 0}, the
 *   latter as a GEMM of 0/1 masks (exact in float32 for B < 2²⁴, summed in float64).
 * Derived at `finish()`:
 * - Pearson ρ_ij = M_AB,ij / √(M_AA,ii·M_BB,jj), and per latent the max over live partners,
 *   averaged over live latents, both directions. Dead latents (never non-zero) are excluded from
 *   both sides of the max and the average, and counted. A pair with a constant latent scores 0.
 * - Masked correlation (Pearson over the tokens where a_i or b_j fires) for ALL pairs, exactly,
 *   from the same sums: outside its firing set a latent is 0, so the union-masked sums equal the
 *   full sums (Σ_U a_i = Σ a_i, Σ_U a_i² = Σ a_i², Σ_U a_i b_j = Σ a_i b_j, recovered from the
 *   centred moments and means), and |U| = n_i + n_j − N_ij. No candidate set is needed; "fires"
 *   means ≠ 0, as for L0 (docs/SCIENCE.md §1). Fewer than 2 union tokens or a constant side scores 0.
 * - Jaccard J_ij = N_ij / (n_i + n_j − N_ij) (0 when neither fires).
 * - Linear CKA = ‖M_AB‖²_F / (‖M_AA‖_F·‖M_BB‖_F) (centring is already in M).
 * - Effective rank (Roy & Vetterli 2007) = exp(H(σ/Σσ)), σ = √eig(M_AA): the singular values of
 *   the centred activation matrix, from the covariance's eigenvalues (linalg.ts; O(live³)).
 * - SVCCA via subspace.ts `svccaFromEig` on the live-latent blocks of M, sharing the eigendecompositions.
 * `within: false` skips M_AA, M_BB (and so CKA, SVCCA, effective rank) to save memory; `spectral:
 * false` keeps CKA but skips the two O(m³) eigendecompositions.
 *
 * Cost: memory 8·(2·m_A·m_B + m_A² + m_B²) bytes plus a float32 product buffer (≈ 0.6 GB at
 * m_A = m_B = 4096); per batch 4 GEMMs of B·m² (1.8 s for T = 8192, m = 1024 on the native engine).
 * finish() is O(m_A·m_B) without `spectral` (0.1 s at m = 1024) and O(live³) in plain TypeScript
 * with it (≈ 20 s at 1024 live latents per side, mostly two eigendecompositions) — turn `spectral`
 * off beyond a few thousand latents.
 *
 * Letter legend: B = tokens in a batch, T = all tokens, M_A / M_B (mA, mB) = latents of A / B.
 */
import { ConfigError, DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { getEngine } from '../engine/index.js';
import { symEig } from './linalg.js';
import { type SvccaResult, svccaFromEig } from './subspace.js';

interface ActivationSimilarityOptions {
  /** Accumulate within-SAE co-moments M_AA, M_BB (CKA, SVCCA, effective rank); default true. */
  within?: boolean;
  /** Compute effective rank and SVCCA at finish() (O(m³) each); default true. Needs `within`. */
  spectral?: boolean;
  /** SVCCA's PCA variance fraction (default 0.99). */
  svccaVarianceKept?: number;
  /** Names for error messages (defaults 'A', 'B'). */
  nameA?: string;
  nameB?: string;
}

/** Per-latent best partner on the other side, for one direction. */
export interface PerLatentMax {
  /** value[i] = max over live partners j of the score; NaN for a dead latent. [M] */
  readonly value: Float64Array;
  /** partner[i] = the first j attaining it; −1 for a dead latent (or when the other side is all dead). [M] */
  readonly partner: Int32Array;
  /** Mean of `value` over live latents; NaN when there are none. */
  readonly mean: number;
}

/** Both directions: ab = for each latent of A its best in B; ba = the reverse. */
export interface BothWays {
  readonly ab: PerLatentMax;
  readonly ba: PerLatentMax;
}

export interface ActivationSimilarity {
  readonly tokens: number;
  readonly mA: number;
  readonly mB: number;
  /** Latents that never fired (excluded from every average) and the live masks. */
  readonly deadA: number;
  readonly deadB: number;
  readonly liveA: Uint8Array;
  readonly liveB: Uint8Array;
  /** Firing frequency n_i / T per latent. */
  readonly freqA: Float64Array;
  readonly freqB: Float64Array;
  /** Max Pearson correlation per latent (Bricken et al. 2023). */
  readonly pearson: BothWays;
  /** Max masked correlation (tokens where either latent fires). */
  readonly masked: BothWays;
  /** Max Jaccard of firing sets. */
  readonly jaccard: BothWays;
  /** Linear CKA on centred activations; NaN without `within` or with no variance. */
  readonly cka: number;
  /** exp(entropy of σ/Σσ) of each centred activation matrix; NaN when not computed. */
  readonly effectiveRankA: number;
  readonly effectiveRankB: number;
  /** SVCCA on the live latents; null when not computed. */
  readonly svcca: SvccaResult | null;
}

/** Streaming accumulator; see the file header. `finish()` does not consume it: more batches may follow. */
export class ActivationSimilarityAccumulator {
  private n = 0;
  private readonly meanA: Float64Array;
  private readonly meanB: Float64Array;
  private readonly m2A: Float64Array;
  private readonly m2B: Float64Array;
  private readonly fireA: Float64Array;
  private readonly fireB: Float64Array;
  /** Centred co-moments [mA × mB], [mA × mA], [mB × mB] (the last two only with `within`). */
  private readonly comAB: Float64Array;
  private readonly comAA: Float64Array | null;
  private readonly comBB: Float64Array | null;
  /** Co-firing counts [mA × mB]. */
  private readonly coFire: Float64Array;
  private scratch: { rows: number; zA: Float32Array; zB: Float32Array; fA: Float32Array; fB: Float32Array } | null =
    null;
  private readonly prod: Float32Array;
  private readonly opts: Required<Omit<ActivationSimilarityOptions, 'nameA' | 'nameB'>> & {
    nameA: string;
    nameB: string;
  };

  constructor(
    readonly mA: number,
    readonly mB: number,
    opts: ActivationSimilarityOptions = {},
  ) {
    for (const [k, v] of [
      ['mA', mA],
      ['mB', mB],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new ConfigError(`ActivationSimilarityAccumulator: ${k} = ${v}, expected an integer ≥ 1`);
    }
    this.opts = {
      within: opts.within ?? true,
      spectral: opts.spectral ?? true,
      svccaVarianceKept: opts.svccaVarianceKept ?? 0.99,
      nameA: opts.nameA ?? 'A',
      nameB: opts.nameB ?? 'B',
    };
    const v = this.opts.svccaVarianceKept;
    if (!(v > 0 && v <= 1)) throw new ConfigError(`svccaVarianceKept = ${v}, expected a number in (0, 1]`);
    this.meanA = new Float64Array(mA);
    this.meanB = new Float64Array(mB);
    this.m2A = new Float64Array(mA);
    this.m2B = new Float64Array(mB);
    this.fireA = new Float64Array(mA);
    this.fireB = new Float64Array(mB);
    this.comAB = new Float64Array(mA * mB);
    this.coFire = new Float64Array(mA * mB);
    this.comAA = this.opts.within ? new Float64Array(mA * mA) : null;
    this.comBB = this.opts.within ? new Float64Array(mB * mB) : null;
    this.prod = new Float32Array(Math.max(mA * mB, this.opts.within ? Math.max(mA * mA, mB * mB) : 0));
  }

  /** Tokens seen so far. */
  get tokens(): number {
    return this.n;
  }

  /** Adds one batch: actsA [B × mA] and actsB [B × mB], row t of both = the same token. */
  update(actsA: Mat, actsB: Mat): void {
    const { mA, mB } = this;
    const { nameA, nameB } = this.opts;
    if (actsA.cols !== mA || actsB.cols !== mB || actsA.rows !== actsB.rows) {
      throw new ShapeError(
        `ActivationSimilarityAccumulator.update: got ${nameA} ${fmtShape(actsA.rows, actsA.cols)} and ${nameB} ` +
          `${fmtShape(actsB.rows, actsB.cols)}, expected [B×${mA}] and [B×${mB}] with the same B`,
      );
    }
    const B = actsA.rows;
    if (B === 0) return;
    if (actsA.data.length !== B * mA || actsB.data.length !== B * mB)
      throw new ShapeError('ActivationSimilarityAccumulator.update: data length does not match rows × cols');
    const s = this.buffers(B);
    const batchA = centreBatch(actsA.data, B, mA, s.zA, s.fA, this.fireA, `activations of ${nameA}`);
    const batchB = centreBatch(actsB.data, B, mB, s.zB, s.fB, this.fireB, `activations of ${nameB}`);

    const nOld = this.n;
    const nNew = nOld + B;
    const f = (nOld * B) / nNew;
    const dA = new Float64Array(mA);
    const dB = new Float64Array(mB);
    for (let i = 0; i < mA; i++) dA[i] = batchA.mean[i] - this.meanA[i];
    for (let j = 0; j < mB; j++) dB[j] = batchB.mean[j] - this.meanB[j];

    const engine = getEngine();
    const prod = this.prod;
    engine.gemm(true, false, mA, mB, B, 1, s.zA, mA, s.zB, mB, 0, prod, mB);
    mergeMoments(this.comAB, prod, mA, mB, f, dA, dB);
    if (this.comAA && this.comBB) {
      engine.gemm(true, false, mA, mA, B, 1, s.zA, mA, s.zA, mA, 0, prod, mA);
      mergeMoments(this.comAA, prod, mA, mA, f, dA, dA);
      engine.gemm(true, false, mB, mB, B, 1, s.zB, mB, s.zB, mB, 0, prod, mB);
      mergeMoments(this.comBB, prod, mB, mB, f, dB, dB);
    }
    engine.gemm(true, false, mA, mB, B, 1, s.fA, mA, s.fB, mB, 0, prod, mB);
    for (let x = 0; x < mA * mB; x++) this.coFire[x] += prod[x];

    for (let i = 0; i < mA; i++) {
      this.m2A[i] += batchA.m2[i] + f * dA[i] * dA[i];
      this.meanA[i] += (dA[i] * B) / nNew;
    }
    for (let j = 0; j < mB; j++) {
      this.m2B[j] += batchB.m2[j] + f * dB[j] * dB[j];
      this.meanB[j] += (dB[j] * B) / nNew;
    }
    this.n = nNew;
  }

  private buffers(B: number): NonNullable<ActivationSimilarityAccumulator['scratch']> {
    if (!this.scratch || this.scratch.rows < B) {
      const { mA, mB } = this;
      this.scratch = {
        rows: B,
        zA: new Float32Array(B * mA),
        zB: new Float32Array(B * mB),
        fA: new Float32Array(B * mA),
        fB: new Float32Array(B * mB),
      };
    }
    const s = this.scratch;
    const { mA, mB } = this;
    return {
      rows: B,
      zA: s.zA.subarray(0, B * mA),
      zB: s.zB.subarray(0, B * mB),
      fA: s.fA.subarray(0, B * mA),
      fB: s.fB.subarray(0, B * mB),
    };
  }

  private checkReady(what: string): void {
    if (this.n < 2)
      throw new ConfigError(`ActivationSimilarityAccumulator.${what}: needs at least 2 tokens, got ${this.n}`);
  }

  /** Pearson ρ for every pair [mA × mB] (0 where a latent is constant). */
  pearsonMatrix(): Float64Array {
    this.checkReady('pearsonMatrix');
    return this.fillMatrix(this.pearsonAt());
  }

  /** Masked correlation (tokens where either latent fires) for every pair [mA × mB]. */
  maskedPearsonMatrix(): Float64Array {
    this.checkReady('maskedPearsonMatrix');
    return this.fillMatrix(this.maskedAt());
  }

  /** Jaccard of firing sets for every pair [mA × mB]. */
  jaccardMatrix(): Float64Array {
    this.checkReady('jaccardMatrix');
    return this.fillMatrix(this.jaccardAt());
  }

  private fillMatrix(at: (i: number, j: number) => number): Float64Array {
    const out = new Float64Array(this.mA * this.mB);
    for (let i = 0; i < this.mA; i++) for (let j = 0; j < this.mB; j++) out[i * this.mB + j] = at(i, j);
    return out;
  }

  private pearsonAt(): (i: number, j: number) => number {
    const { comAB, m2A, m2B, mB } = this;
    return (i, j) => {
      const den = Math.sqrt(m2A[i] * m2B[j]);
      return den > 0 ? clip1(comAB[i * mB + j] / den) : 0;
    };
  }

  private maskedAt(): (i: number, j: number) => number {
    const { comAB, m2A, m2B, meanA, meanB, fireA, fireB, coFire, mB, n } = this;
    return (i, j) => {
      const u = fireA[i] + fireB[j] - coFire[i * mB + j];
      if (u < 2) return 0;
      const sa = n * meanA[i];
      const sb = n * meanB[j];
      const saa = m2A[i] + sa * meanA[i];
      const sbb = m2B[j] + sb * meanB[j];
      const sab = comAB[i * mB + j] + sa * meanB[j];
      const ma = sa / u;
      const mb = sb / u;
      const va = saa / u - ma * ma;
      const vb = sbb / u - mb * mb;
      // Relative guard: a latent constant on the union has va ≈ 0 up to rounding of saa/u.
      if (!(va > 1e-12 * (saa / u)) || !(vb > 1e-12 * (sbb / u))) return 0;
      return clip1((sab / u - ma * mb) / Math.sqrt(va * vb));
    };
  }

  private jaccardAt(): (i: number, j: number) => number {
    const { fireA, fireB, coFire, mB } = this;
    return (i, j) => {
      const c = coFire[i * mB + j];
      const u = fireA[i] + fireB[j] - c;
      return u > 0 ? c / u : 0;
    };
  }

  /** All metrics of the file header from the tokens seen so far. */
  finish(): ActivationSimilarity {
    this.checkReady('finish');
    const { mA, mB, n } = this;
    const liveA = new Uint8Array(mA);
    const liveB = new Uint8Array(mB);
    const freqA = new Float64Array(mA);
    const freqB = new Float64Array(mB);
    for (let i = 0; i < mA; i++) {
      liveA[i] = this.fireA[i] > 0 ? 1 : 0;
      freqA[i] = this.fireA[i] / n;
    }
    for (let j = 0; j < mB; j++) {
      liveB[j] = this.fireB[j] > 0 ? 1 : 0;
      freqB[j] = this.fireB[j] / n;
    }
    const deadA = mA - liveA.reduce((s, x) => s + x, 0);
    const deadB = mB - liveB.reduce((s, x) => s + x, 0);

    let cka = NaN;
    let effectiveRankA = NaN;
    let effectiveRankB = NaN;
    let svcca: SvccaResult | null = null;
    if (this.comAA && this.comBB) {
      const den = Math.sqrt(sumSq(this.comAA) * sumSq(this.comBB));
      cka = den > 0 ? sumSq(this.comAB) / den : NaN;
      if (this.opts.spectral) {
        const idxA = liveIndex(liveA);
        const idxB = liveIndex(liveB);
        // One eigendecomposition per side serves both the effective rank and SVCCA's PCA.
        const eigA = symEig(subBlock(this.comAA, mA, idxA, idxA), idxA.length);
        const eigB = symEig(subBlock(this.comBB, mB, idxB, idxB), idxB.length);
        effectiveRankA = effectiveRankFromEigenvalues(eigA.values);
        effectiveRankB = effectiveRankFromEigenvalues(eigB.values);
        if (idxA.length > 0 && idxB.length > 0) {
          svcca = svccaFromEig(eigA, eigB, subBlock(this.comAB, mB, idxA, idxB), {
            varianceKept: this.opts.svccaVarianceKept,
          });
        }
      }
    }
    return {
      tokens: n,
      mA,
      mB,
      deadA,
      deadB,
      liveA,
      liveB,
      freqA,
      freqB,
      pearson: maxBothWays(mA, mB, liveA, liveB, this.pearsonAt()),
      masked: maxBothWays(mA, mB, liveA, liveB, this.maskedAt()),
      jaccard: maxBothWays(mA, mB, liveA, liveB, this.jaccardAt()),
      cka,
      effectiveRankA,
      effectiveRankB,
      svcca,
    };
  }
}

/**
 * One-shot convenience: streams full activation matrices [T × mA], [T × mB] through the
 * accumulator in batches of `batchRows` (default 4096).
 */
export function activationSimilarity(
  actsA: Mat,
  actsB: Mat,
  opts: ActivationSimilarityOptions & { batchRows?: number } = {},
): ActivationSimilarity {
  const bs = opts.batchRows ?? 4096;
  if (!Number.isInteger(bs) || bs < 1)
    throw new ConfigError(`activationSimilarity: batchRows = ${bs}, expected an integer ≥ 1`);
  if (actsA.rows !== actsB.rows)
    throw new ShapeError(`activationSimilarity: A has ${actsA.rows} tokens, B has ${actsB.rows}`);
  const acc = new ActivationSimilarityAccumulator(actsA.cols, actsB.cols, opts);
  for (let r0 = 0; r0 < actsA.rows; r0 += bs) {
    const r1 = Math.min(actsA.rows, r0 + bs);
    acc.update(
      { data: actsA.data.subarray(r0 * actsA.cols, r1 * actsA.cols), rows: r1 - r0, cols: actsA.cols },
      { data: actsB.data.subarray(r0 * actsB.cols, r1 * actsB.cols), rows: r1 - r0, cols: actsB.cols },
    );
  }
  return acc.finish();
}

/** Effective rank exp(H(p)), p = σ / Σσ, of singular values σ (zeros allowed; NaN if all zero). */
export function effectiveRank(singularValues: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const s = singularValues[i];
    if (!(s >= 0)) throw new ConfigError(`effectiveRank: singular value ${i} is ${s}, expected ≥ 0`);
    total += s;
  }
  if (!(total > 0)) return NaN;
  let h = 0;
  for (let i = 0; i < singularValues.length; i++) {
    const p = singularValues[i] / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Effective rank of Z from its Gram ZᵀZ [N × N]: σ = √max(λ, 0) (linalg.ts symEig, values only). */
export function effectiveRankFromGram(gramNN: ArrayLike<number>, n: number): number {
  return effectiveRankFromEigenvalues(symEig(gramNN, n, false).values);
}

/** Effective rank from the eigenvalues λ of ZᵀZ (σ = √max(λ, 0)); NaN when empty or all zero. */
function effectiveRankFromEigenvalues(values: ArrayLike<number>): number {
  return effectiveRank(Array.from(values, (l) => Math.sqrt(Math.max(l, 0))));
}

// ── helpers ──────────────────────────────────

/**
 * Batch mean (float64), centred copy z = x − mean (float32, for the GEMM), 0/1 firing mask,
 * firing counts (accumulated into `fire`) and the batch's Σ(x − mean)² in float64.
 */
function centreBatch(
  x: Float32Array,
  B: number,
  m: number,
  z: Float32Array,
  mask: Float32Array,
  fire: Float64Array,
  name: string,
): { mean: Float64Array; m2: Float64Array } {
  const mean = new Float64Array(m);
  for (let r = 0; r < B; r++) {
    const o = r * m;
    for (let i = 0; i < m; i++) {
      const v = x[o + i];
      if (!Number.isFinite(v)) throw new DataError(name, `batch row ${r}, latent ${i}`, String(v), 'a finite number');
      mean[i] += v;
      if (v !== 0) {
        mask[o + i] = 1;
        fire[i]++;
      } else {
        mask[o + i] = 0;
      }
    }
  }
  for (let i = 0; i < m; i++) mean[i] /= B;
  const m2 = new Float64Array(m);
  for (let r = 0; r < B; r++) {
    const o = r * m;
    for (let i = 0; i < m; i++) {
      const d = x[o + i] - mean[i];
      z[o + i] = d;
      m2[i] += d * d;
    }
  }
  return { mean, m2 };
}

/** com[i, j] += prod[i, j] + f·dl[i]·dr[j] (Chan et al. pairwise merge). */
function mergeMoments(
  com: Float64Array,
  prod: Float32Array,
  rows: number,
  cols: number,
  f: number,
  dl: Float64Array,
  dr: Float64Array,
): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    const fi = f * dl[i];
    for (let j = 0; j < cols; j++) com[o + j] += prod[o + j] + fi * dr[j];
  }
}

function maxBothWays(
  mA: number,
  mB: number,
  liveA: Uint8Array,
  liveB: Uint8Array,
  at: (i: number, j: number) => number,
): BothWays {
  const abV = new Float64Array(mA).fill(NaN);
  const abP = new Int32Array(mA).fill(-1);
  const baV = new Float64Array(mB).fill(NaN);
  const baP = new Int32Array(mB).fill(-1);
  const colBest = new Float64Array(mB).fill(-Infinity);
  for (let i = 0; i < mA; i++) {
    if (!liveA[i]) continue;
    let best = -Infinity;
    let arg = -1;
    for (let j = 0; j < mB; j++) {
      if (!liveB[j]) continue;
      const v = at(i, j);
      if (v > best) {
        best = v;
        arg = j;
      }
      if (v > colBest[j]) {
        colBest[j] = v;
        baP[j] = i;
      }
    }
    if (arg >= 0) {
      abV[i] = best;
      abP[i] = arg;
    }
  }
  for (let j = 0; j < mB; j++) if (baP[j] >= 0) baV[j] = colBest[j];
  return {
    ab: { value: abV, partner: abP, mean: liveMean(abV, liveA) },
    ba: { value: baV, partner: baP, mean: liveMean(baV, liveB) },
  };
}

function liveMean(v: Float64Array, live: Uint8Array): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < v.length; i++) {
    if (live[i] && !Number.isNaN(v[i])) {
      s += v[i];
      c++;
    }
  }
  return c > 0 ? s / c : NaN;
}

function liveIndex(live: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < live.length; i++) if (live[i]) out.push(i);
  return out;
}

function subBlock(x: Float64Array, cols: number, rowsIdx: number[], colsIdx: number[]): Float64Array {
  const out = new Float64Array(rowsIdx.length * colsIdx.length);
  for (let a = 0; a < rowsIdx.length; a++) {
    const o = rowsIdx[a] * cols;
    for (let b = 0; b < colsIdx.length; b++) out[a * colsIdx.length + b] = x[o + colsIdx[b]];
  }
  return out;
}

function sumSq(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

function clip1(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}
