/**
 * BatchTopK SAE (Bussmann et al. 2024; docs/SCIENCE.md §2 "BatchTopK"), and the engine of Matryoshka
 * BatchTopK (Bussmann et al. 2025; matryoshka.ts), which is this step with nested prefix groups.
 *
 * Training: keep the k·B largest ReLU(h) over the whole batch (rows get varying counts), decode
 * sparsely over the padded per-row layout of nn/sparse.ts, loss = Σ over prefixes g of
 * mean_b‖x̂_g − x‖² (x̂_g = b_dec + the latents of prefix g; one prefix = plain MSE) + α·AuxK.
 * Inference: θ = EMA of the smallest kept value; f = h·1[h > θ] — JumpReLU with a uniform θ, which
 * is how it is exported (`threshold` [d_sae]).
 *
 * θ EMA: bias-corrected exponential average (decay `thresholdDecay`, default 0.999) of the batch's
 * smallest kept activation, started after 10% of training so the first, unrepresentative batches do
 * not linger in it (dictionary_learning starts at step 1000 for the same reason).
 *
 * Prefix gradient: latent j in group q appears in every x̂_g with g ≥ q, so its gradient uses
 * S_q = Σ_{g ≥ q} (2/B)(x̂_g − x), accumulated from the last group down; b_dec appears in every x̂_g,
 * so its output gradient is colSum(S_0).
 *
 * Letters: B batch rows, D d_in, M d_sae, K k, G prefix groups, W padded width of a group.
 */
import { ScratchPool } from '../nn/scratch.js';
import type { Engine, F32, I32 } from '../engine/types.js';
import { AuxK } from '../nn/auxk.js';
import { projectDecoderGrad, renormDecoder } from '../nn/decoder.js';
import { type SparseGrad, centre, linearForward, sparseEncoderBackward } from '../nn/encoder.js';
import { GroupedCodes, countSparse, maskByPositive } from '../nn/sparse.js';
import { encodeBatchTopk } from './infer.js';
import { DEFAULT_AUXK_COEFF, initTopkFamily, pickTensors, resolveAuxK } from './topk.js';
import {
  type Architecture,
  type LossParts,
  type Sae,
  type SaeConfig,
  type SaeConfigInput,
  type SaeLensExport,
  type SaeStep,
  type SaeField,
  type SaeLensForm,
  type StepOptions,
  type TensorMap,
  baseConfig,
  checkInt,
  checkNum,
  rejectFields,
  topkFamilyLr,
} from './types.js';

/** Fraction of training after which the θ EMA starts. */
const THRESHOLD_START = 0.1;

export class BatchTopKStep implements SaeStep {
  readonly recon: F32;
  private readonly ends: readonly number[];
  private readonly xcBD: F32;
  private readonly hBM: F32;
  private readonly flatVals: F32;
  private readonly flatIdx: I32;
  private readonly codes: GroupedCodes;
  /** Prefix reconstructions x̂_g, [G][B·D]; the last is `recon`. */
  private readonly reconG: F32[];
  private readonly sBD: F32;
  private readonly gWEncTMD: F32;
  private readonly gValsStore: F32[];
  private readonly thrM: F32;
  private readonly aux: AuxK;
  private x: F32 | null = null;
  private minKept = NaN;

  constructor(
    private readonly sae: Sae,
    readonly batch: number,
    private readonly e: Engine,
    pool: ScratchPool = new ScratchPool(),
  ) {
    const { dIn: D, dSae: M, k, kAux } = sae.cfg;
    const B = batch;
    this.ends = sae.cfg.prefixEnds ?? [M];
    this.xcBD = pool.f32('xcBD', B * D);
    this.hBM = pool.f32('hBM', B * M);
    this.flatVals = pool.f32('flatVals', B * (k as number));
    this.flatIdx = pool.i32('flatIdx', B * (k as number));
    this.codes = new GroupedCodes(B, M, this.ends, pool);
    this.reconG = this.ends.map((_, g) => pool.f32(`reconG${g}`, B * D));
    this.recon = this.reconG[this.ends.length - 1];
    this.sBD = pool.f32('sBD', B * D);
    this.gValsStore = this.ends.map((end, g) => pool.f32(`gVals${g}`, B * (end - (g === 0 ? 0 : this.ends[g - 1]))));
    this.gWEncTMD = pool.f32('gWEncTMD', M * D);
    this.thrM = new Float32Array(M);
    this.aux = new AuxK(B, M, D, kAux as number, pool);
  }

  forward(x: F32, opts: StepOptions): LossParts {
    const { e, batch: B, codes } = this;
    const { dIn: D, dSae: M, k, auxKCoeff } = this.sae.cfg;
    const p = this.sae.params;
    const theta = this.sae.buffers.threshold[0];
    this.x = x;
    centre(e, x, p.b_dec, this.xcBD, B, D);
    linearForward(e, this.xcBD, p.W_enc, p.b_enc, this.hBM, B, D, M);
    if (opts.mode === 'eval' && theta > 0) {
      this.thrM.fill(theta);
      codes.fillAboveThreshold(this.hBM, this.thrM);
    } else {
      const n = B * (k as number);
      e.topkRows(this.hBM, 1, B * M, n, this.flatVals, this.flatIdx);
      codes.fillFromFlat(this.flatVals, this.flatIdx, n);
      this.minKept = NaN;
      for (let t = n - 1; t >= 0; t--) {
        if (this.flatVals[t] > 0) {
          this.minKept = this.flatVals[t];
          break;
        }
      }
    }
    // x̂_g = x̂_{g−1} + decode(group g), x̂_{−1} = b_dec
    let loss = 0;
    let prev: F32 | null = null;
    for (let g = 0; g < codes.G; g++) {
      const rg = this.reconG[g];
      if (prev) rg.set(prev);
      else {
        rg.fill(0);
        e.addRowVec(rg, B, D, p.b_dec, 1);
      }
      e.sparseDecode(codes.vals(g), codes.idx(g), B, codes.width[g], p.W_dec, M, D, rg, 1);
      loss += e.sumSqDiff(rg, x.subarray(0, B * D)) / B;
      prev = rg;
    }
    const mse = e.sumSqDiff(this.recon, x.subarray(0, B * D)) / B;
    const aux =
      opts.mode === 'train' ? this.aux.forward(e, this.hBM, opts.dead, x, this.recon, p.W_dec, auxKCoeff as number) : 0;
    return { loss: loss + aux, mse, sparsity: 0, aux: loss - mse + aux, l0: codes.active() / B };
  }

  backward(grads: TensorMap): void {
    const { e, batch: B, codes } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const p = this.sae.params;
    const x = (this.x as F32).subarray(0, B * D);
    grads.W_dec.fill(0);
    this.sBD.fill(0);
    const sparse: SparseGrad[] = [];
    for (let g = codes.G - 1; g >= 0; g--) {
      // S_g = S_{g+1} + (2/B)(x̂_g − x)
      e.axpy(2 / B, this.reconG[g], this.sBD);
      e.axpy(-2 / B, x, this.sBD);
      const W = codes.width[g];
      if (W === 0) continue;
      const vals = codes.vals(g);
      const idx = codes.idx(g);
      const gVals = this.gValsStore[g].subarray(0, B * W);
      e.sparseDecodeGradW(vals, idx, B, W, this.sBD, M, D, grads.W_dec);
      e.sparseDecodeGradVals(this.sBD, idx, B, W, p.W_dec, M, D, gVals);
      maskByPositive(vals, gVals, B * W);
      sparse.push({ gVals, idx, W });
    }
    e.colSum(this.sBD, B, D, grads.b_dec, 1, 0);
    const aux = this.aux.backward(e, p.W_dec, grads.W_dec, null);
    if (aux) sparse.push(aux);
    sparseEncoderBackward(e, this.xcBD, sparse, p.W_enc, this.gWEncTMD, grads.W_enc, grads.b_enc, grads.b_dec, B, D, M);
  }

  countFiring(counts: Int32Array): void {
    const { codes, batch: B } = this;
    for (let g = 0; g < codes.G; g++) countSparse(codes.vals(g), codes.idx(g), B * codes.width[g], counts);
  }

  constrainGrads(grads: TensorMap): void {
    projectDecoderGrad(this.e, this.sae.params.W_dec, grads.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  afterUpdate(step: number, totalSteps: number): void {
    renormDecoder(this.e, this.sae.params.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
    if (step <= THRESHOLD_START * totalSteps || !(this.minKept > 0)) return;
    // buffers.threshold_ema = [raw EMA, decay^n]; threshold = raw / (1 − decay^n) (bias-corrected).
    const st = this.sae.buffers.threshold_ema;
    const decay = this.sae.cfg.thresholdDecay as number;
    st[0] = decay * st[0] + (1 - decay) * this.minKept;
    st[1] = st[1] === 0 ? decay : st[1] * decay;
    this.sae.buffers.threshold.fill(st[0] / (1 - st[1]));
  }

  activePattern(): Uint8Array {
    const { codes, batch: B } = this;
    const M = this.sae.cfg.dSae;
    const pat = new Uint8Array(B * M);
    for (let g = 0; g < codes.G; g++) {
      const W = codes.width[g];
      const vals = codes.vals(g);
      const idx = codes.idx(g);
      for (let t = 0; t < B * W; t++) if (vals[t] > 0) pat[Math.floor(t / W) * M + idx[t]] |= 1;
    }
    this.aux.markPattern(pat, 2);
    return pat;
  }
}

/** The config fields BatchTopK and Matryoshka share, and their constant defaults. */
export const BATCHTOPK_FIELDS: readonly SaeField[] = ['k', 'auxKCoeff', 'kAux', 'thresholdDecay'];
export const BATCHTOPK_DEFAULTS = { auxKCoeff: DEFAULT_AUXK_COEFF, thresholdDecay: 0.999 } as const;

/**
 * The SAELens form of BatchTopK and Matryoshka under `name`: a per-latent `threshold` (exports; SAELens training
 * checkpoints a scalar topk_threshold).
 */
export function batchTopKForm<S extends string>(name: S): SaeLensForm<S> {
  return {
    name,
    tensors: [
      { name: 'b_enc', required: true },
      { name: 'threshold', required: false },
      { name: 'topk_threshold', scalar: true, required: false },
    ],
    k: 'number',
    encode: encodeBatchTopk,
  };
}

/** Resolves the fields BatchTopK and Matryoshka share (`fields`: the architecture's whole list). */
export function resolveBatchTopK(input: SaeConfigInput, fields: readonly SaeField[]): SaeConfig {
  rejectFields(input, fields);
  const base = baseConfig(input);
  const k = checkInt(input.arch, 'k', input.k, 1, base.dSae);
  const thresholdDecay =
    input.thresholdDecay === undefined
      ? BATCHTOPK_DEFAULTS.thresholdDecay
      : checkNum(input.arch, 'thresholdDecay', input.thresholdDecay, 0, 1, true);
  if (thresholdDecay >= 1) checkNum(input.arch, 'thresholdDecay', thresholdDecay, 0, 0.999999999);
  return { ...base, k, thresholdDecay, ...resolveAuxK(input, base.dIn) };
}

/** Tensors + the θ buffers (threshold [M], uniform; threshold_ema [2] = raw EMA, decay^n). */
export function initBatchTopK(cfg: SaeConfig, rng: import('../core/rng.js').Rng): Sae {
  return {
    cfg,
    params: initTopkFamily(cfg, rng),
    buffers: { threshold: new Float32Array(cfg.dSae), threshold_ema: new Float32Array(2) },
  };
}

export function exportBatchTopK(sae: Sae): SaeLensExport {
  return pickTensors(sae, ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'threshold']);
}

export const batchtopk: Architecture<'batchtopk', 'batchtopk'> = {
  name: 'batchtopk',
  fields: BATCHTOPK_FIELDS,
  defaults: BATCHTOPK_DEFAULTS,
  saeLens: batchTopKForm('batchtopk'),
  resolve: (input) => resolveBatchTopK(input, BATCHTOPK_FIELDS),
  defaultLr: (cfg) => topkFamilyLr(cfg.dSae),
  init: initBatchTopK,
  createStep: (sae, batch, engine, pool) => new BatchTopKStep(sae, batch, engine, pool),
  exportSaeLens: exportBatchTopK,
};
