/**
 * TopK SAE (Gao et al. 2024; docs/SCIENCE.md §1–§2 "TopK"):
 *   h = (x − b_dec)·W_enc + b_enc,  f = scatter(ReLU(topk_k(h))),  x̂ = f·W_dec + b_dec,
 *   loss = MSE + α·AuxK (α = 1/32, k_aux = d_in/2 among dead latents, nn/auxk.ts),
 * with a unit-norm decoder (gradient projected before the step, rows renormalised after).
 *
 * Speed: only B·k codes are non-zero, so the decode and every gradient are sparse engine kernels
 * over B·k entries — including W_enc's (nn/encoder.ts sparseEncoderBackward: xcᵀ·gH restricted to
 * the selected columns). The one dense product left is the forward h = xc·W_enc. b_dec's centring
 * gradient is the cheap −W_enc·colSum(gH).
 *
 * Letters: B batch rows, D d_in, M d_sae, K k.
 */
import type { Rng } from '../core/rng.js';
import { ScratchPool } from '../nn/scratch.js';
import type { Engine, F32, I32 } from '../engine/types.js';
import { AuxK } from '../nn/auxk.js';
import { projectDecoderGrad, renormDecoder } from '../nn/decoder.js';
import { centre, linearForward, sparseEncoderBackward } from '../nn/encoder.js';
import { countSparse, maskByPositive, topkRelu } from '../nn/sparse.js';
import { encodeTopk } from './infer.js';
import { randomDecoder, transposeToEncoder } from './init.js';
import {
  type Architecture,
  type LossParts,
  type Sae,
  type SaeConfig,
  type SaeConfigInput,
  type SaeLensExport,
  type SaeStep,
  type StepOptions,
  type TensorMap,
  baseConfig,
  checkInt,
  checkNum,
  rejectFields,
  tensorShape,
  topkFamilyLr,
} from './types.js';

/** AuxK weight α by default (Gao et al. 2024, §A.2). */
export const DEFAULT_AUXK_COEFF = 1 / 32;

/** AuxK defaults shared by the TopK family (Gao et al. 2024, §A.2). */
export function resolveAuxK(input: SaeConfigInput, dIn: number): { auxKCoeff: number; kAux: number } {
  const auxKCoeff =
    input.auxKCoeff === undefined
      ? DEFAULT_AUXK_COEFF
      : checkNum(input.arch, 'auxKCoeff', input.auxKCoeff, 0, Infinity, true);
  const kAux =
    input.kAux === undefined ? Math.max(1, Math.floor(dIn / 2)) : checkInt(input.arch, 'kAux', input.kAux, 1);
  return { auxKCoeff, kAux };
}

/** Tensors shared by TopK/BatchTopK/Matryoshka: unit-norm random decoder, W_enc = W_decᵀ, zero biases. */
export function initTopkFamily(cfg: SaeConfig, rng: Rng): TensorMap {
  const { dIn: D, dSae: M } = cfg;
  const wDecMD = randomDecoder(rng, M, D, 1);
  return {
    W_enc: transposeToEncoder(wDecMD, M, D),
    b_enc: new Float32Array(M),
    W_dec: wDecMD,
    b_dec: new Float32Array(D),
  };
}

/** SAELens tensors with shapes for the given names. */
export function pickTensors(sae: Sae, names: string[]): Pick<SaeLensExport, 'tensors' | 'shapes'> {
  const tensors: TensorMap = {};
  const shapes: Record<string, number[]> = {};
  for (const n of names) {
    const t = sae.params[n] ?? sae.buffers[n];
    tensors[n] = new Float32Array(t);
    shapes[n] = tensorShape(n, sae.cfg);
  }
  return { tensors, shapes };
}

class TopKStep implements SaeStep {
  readonly recon: F32;
  private readonly xcBD: F32;
  private readonly hBM: F32;
  private readonly valsBK: F32;
  private readonly idxBK: I32;
  private readonly gReconBD: F32;
  private readonly gValsBK: F32;
  private readonly gWEncTMD: F32;
  private readonly aux: AuxK;
  private x: F32 | null = null;

  constructor(
    private readonly sae: Sae,
    readonly batch: number,
    private readonly e: Engine,
    pool: ScratchPool = new ScratchPool(),
  ) {
    const { dIn: D, dSae: M, k, kAux } = sae.cfg;
    const B = batch;
    const K = k as number;
    this.xcBD = pool.f32('xcBD', B * D);
    this.hBM = pool.f32('hBM', B * M);
    this.valsBK = pool.f32('valsBK', B * K);
    this.idxBK = pool.i32('idxBK', B * K);
    this.recon = pool.f32('recon', B * D);
    this.gReconBD = pool.f32('gReconBD', B * D);
    this.gValsBK = pool.f32('gValsBK', B * K);
    this.gWEncTMD = pool.f32('gWEncTMD', M * D);
    this.aux = new AuxK(B, M, D, kAux as number, pool);
  }

  forward(x: F32, opts: StepOptions): LossParts {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M, k, auxKCoeff } = this.sae.cfg;
    const K = k as number;
    const p = this.sae.params;
    this.x = x;
    centre(e, x, p.b_dec, this.xcBD, B, D);
    linearForward(e, this.xcBD, p.W_enc, p.b_enc, this.hBM, B, D, M);
    topkRelu(e, this.hBM, B, M, K, this.valsBK, this.idxBK);
    e.sparseDecode(this.valsBK, this.idxBK, B, K, p.W_dec, M, D, this.recon, 0);
    e.addRowVec(this.recon, B, D, p.b_dec, 1);
    const mse = e.sumSqDiff(this.recon, x.subarray(0, B * D)) / B;
    const aux =
      opts.mode === 'train' ? this.aux.forward(e, this.hBM, opts.dead, x, this.recon, p.W_dec, auxKCoeff as number) : 0;
    let active = 0;
    for (let t = 0; t < B * K; t++) if (this.valsBK[t] > 0) active++;
    return { loss: mse + aux, mse, sparsity: 0, aux, l0: active / B };
  }

  backward(grads: TensorMap): void {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M, k } = this.sae.cfg;
    const K = k as number;
    const p = this.sae.params;
    const x = this.x as F32;
    // gRecon = (2/B)(x̂ − x)
    this.gReconBD.set(this.recon);
    e.axpy(-1, x.subarray(0, B * D), this.gReconBD);
    e.scale(this.gReconBD, 2 / B);
    grads.W_dec.fill(0);
    e.sparseDecodeGradW(this.valsBK, this.idxBK, B, K, this.gReconBD, M, D, grads.W_dec);
    e.colSum(this.gReconBD, B, D, grads.b_dec, 1, 0);
    e.sparseDecodeGradVals(this.gReconBD, this.idxBK, B, K, p.W_dec, M, D, this.gValsBK);
    maskByPositive(this.valsBK, this.gValsBK, B * K);
    const main = { gVals: this.gValsBK, idx: this.idxBK, W: K };
    const aux = this.aux.backward(e, p.W_dec, grads.W_dec, null);
    sparseEncoderBackward(
      e,
      this.xcBD,
      aux ? [main, aux] : [main],
      p.W_enc,
      this.gWEncTMD,
      grads.W_enc,
      grads.b_enc,
      grads.b_dec,
      B,
      D,
      M,
    );
  }

  countFiring(counts: Int32Array): void {
    countSparse(this.valsBK, this.idxBK, this.batch * (this.sae.cfg.k as number), counts);
  }

  constrainGrads(grads: TensorMap): void {
    projectDecoderGrad(this.e, this.sae.params.W_dec, grads.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  afterUpdate(): void {
    renormDecoder(this.e, this.sae.params.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  activePattern(): Uint8Array {
    const { dSae: M, k } = this.sae.cfg;
    const K = k as number;
    const pat = new Uint8Array(this.batch * M);
    for (let t = 0; t < this.batch * K; t++) if (this.valsBK[t] > 0) pat[Math.floor(t / K) * M + this.idxBK[t]] |= 1;
    this.aux.markPattern(pat, 2);
    // The (k+1)-th value must stay below the k-th: record membership of the top k even at ≤ 0.
    for (let t = 0; t < this.batch * K; t++) pat[Math.floor(t / K) * M + this.idxBK[t]] |= 4;
    return pat;
  }
}

export const topk: Architecture<'topk', 'topk'> = {
  name: 'topk',
  fields: ['k', 'auxKCoeff', 'kAux'],
  defaults: { auxKCoeff: DEFAULT_AUXK_COEFF },
  saeLens: { name: 'topk', tensors: [{ name: 'b_enc', required: true }], k: 'integer', encode: encodeTopk },
  resolve(input: SaeConfigInput): SaeConfig {
    rejectFields(input, topk.fields);
    const base = baseConfig(input);
    const k = checkInt('topk', 'k', input.k, 1, base.dSae);
    return { ...base, k, ...resolveAuxK(input, base.dIn) };
  },
  defaultLr: (cfg) => topkFamilyLr(cfg.dSae),
  init: (cfg, rng) => ({ cfg, params: initTopkFamily(cfg, rng), buffers: {} }),
  createStep: (sae, batch, engine, pool) => new TopKStep(sae, batch, engine, pool),
  exportSaeLens: (sae: Sae): SaeLensExport => pickTensors(sae, ['W_enc', 'b_enc', 'W_dec', 'b_dec']),
};
