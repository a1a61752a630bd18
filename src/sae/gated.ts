/**
 * Gated SAE (Rajamanoharan et al. 2024a; docs/SCIENCE.md §2 "Gated"):
 * P = (x − b_dec)·W_enc, π = P + b_gate, r = P ⊙ exp(r_mag) + b_mag (= (x − b_dec)(W_enc ⊙ exp(r_mag)) +
 * b_mag),
 *   f = 1[π > 0]·ReLU(r), x̂ = f·W_dec + b_dec,
 *   loss = MSE + λ·mean_b Σ_i ReLU(π_i)‖W_dec,i‖ + mean_b‖ReLU(π)·sg(W_dec) + sg(b_dec) − x‖².
 * The gate's indicator has no gradient: π learns only through the penalty and the auxiliary
 * reconstruction (whose decoder is detached, so it trains the encoder alone); the magnitude path
 * learns through the main MSE. Decoder rows are kept at unit norm (gradient projected, rows
 * renormalised); the penalty still multiplies by ‖W_dec,i‖ as written, which is then 1.
 * Exported as SAELens `gated`: W_enc, b_gate, r_mag, b_mag, W_dec, b_dec (no b_enc).
 *
 * Letters: B batch rows, D d_in, M d_sae.
 */
import type { Mat } from '../core/mat.js';
import { ScratchPool } from '../nn/scratch.js';
import type { Engine, F32 } from '../engine/types.js';
import type { SaeWeights } from './checkpoint/types.js';
import {
  denseDecode,
  denseDecodeBackward,
  normPenaltyGradW,
  projectDecoderGrad,
  renormDecoder,
} from '../nn/decoder.js';
import { centre, encoderBackward, linearForward } from '../nn/encoder.js';
import { centredInputs, tensorOf } from './infer.js';
import { randomDecoder, transposeToEncoder } from './init.js';
import { DEFAULT_L1 } from './relu.js';
import { pickTensors } from './topk.js';
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
  checkNum,
  rejectFields,
  reluFamilyLr,
} from './types.js';

class GatedStep implements SaeStep {
  readonly recon: F32;
  private readonly xcBD: F32;
  private readonly pBM: F32;
  private readonly piBM: F32;
  private readonly rBM: F32;
  private readonly fBM: F32;
  private readonly reluPiBM: F32;
  private readonly auxReconBD: F32;
  private readonly gReconBD: F32;
  private readonly gAuxBD: F32;
  private readonly gFBM: F32;
  private readonly gPiBM: F32;
  private readonly expRM: F32;
  private readonly normsM: F32;
  private readonly colAddM: F32;
  private readonly sumPiM: F32;
  private readonly gSumM: F32;
  private x: F32 | null = null;
  private lambda = 0;
  private auxOn = false;

  constructor(
    private readonly sae: Sae,
    readonly batch: number,
    private readonly e: Engine,
    pool: ScratchPool = new ScratchPool(),
  ) {
    const { dIn: D, dSae: M } = sae.cfg;
    const B = batch;
    const bm = (key: string) => pool.f32(key, B * M);
    this.xcBD = pool.f32('xcBD', B * D);
    this.pBM = bm('pBM');
    this.piBM = bm('piBM');
    this.rBM = bm('rBM');
    this.fBM = bm('fBM');
    this.reluPiBM = bm('reluPiBM');
    this.gFBM = bm('gFBM');
    this.gPiBM = bm('gPiBM');
    this.recon = pool.f32('recon', B * D);
    this.auxReconBD = pool.f32('auxReconBD', B * D);
    this.gReconBD = pool.f32('gReconBD', B * D);
    this.gAuxBD = pool.f32('gAuxBD', B * D);
    this.expRM = new Float32Array(M);
    this.normsM = new Float32Array(M);
    this.colAddM = new Float32Array(M);
    this.sumPiM = new Float32Array(M);
    this.gSumM = new Float32Array(M);
  }

  forward(x: F32, opts: StepOptions): LossParts {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const p = this.sae.params;
    this.x = x;
    this.lambda = (this.sae.cfg.sparsityCoeff as number) * opts.sparsityScale;
    centre(e, x, p.b_dec, this.xcBD, B, D);
    linearForward(e, this.xcBD, p.W_enc, null, this.pBM, B, D, M);
    for (let i = 0; i < M; i++) this.expRM[i] = Math.exp(p.r_mag[i]);
    const { pBM: P, piBM: pi, rBM: r, fBM: f, reluPiBM: rp, expRM: ex } = this;
    const { b_gate: bGate, b_mag: bMag } = p;
    let active = 0;
    for (let b = 0; b < B; b++) {
      const o = b * M;
      for (let i = 0; i < M; i++) {
        const g = P[o + i] + bGate[i];
        const m = P[o + i] * ex[i] + bMag[i];
        pi[o + i] = g;
        r[o + i] = m;
        rp[o + i] = g > 0 ? g : 0;
        const on = g > 0 && m > 0;
        f[o + i] = on ? m : 0;
        if (on) active++;
      }
    }
    denseDecode(e, f, p.W_dec, p.b_dec, this.recon, B, M, D);
    const mse = e.sumSqDiff(this.recon, x.subarray(0, B * D)) / B;
    e.rowNorms(p.W_dec, M, D, this.normsM);
    e.colSum(rp, B, M, this.sumPiM, 1, 0);
    let pen = 0;
    for (let i = 0; i < M; i++) pen += this.sumPiM[i] * this.normsM[i];
    const sparsity = (this.lambda * pen) / B;
    this.auxOn = opts.mode === 'train';
    let aux = 0;
    if (this.auxOn) {
      denseDecode(e, rp, p.W_dec, p.b_dec, this.auxReconBD, B, M, D);
      aux = e.sumSqDiff(this.auxReconBD, x.subarray(0, B * D)) / B;
    }
    return { loss: mse + sparsity + aux, mse, sparsity, aux, l0: active / B };
  }

  backward(grads: TensorMap): void {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const p = this.sae.params;
    const x = (this.x as F32).subarray(0, B * D);
    this.gReconBD.set(this.recon);
    e.axpy(-1, x, this.gReconBD);
    e.scale(this.gReconBD, 2 / B);
    denseDecodeBackward(e, this.fBM, this.gReconBD, p.W_dec, grads.W_dec, this.gFBM, grads.b_dec, B, M, D);
    // Magnitude path: gR = gF·1[π>0]·1[r>0]; ∂r/∂r_mag_i = P·exp(r_mag_i); ∂r/∂P = exp(r_mag_i).
    const { pBM: P, piBM: pi, rBM: r, gFBM: g, expRM: ex } = this;
    const gRMag = grads.r_mag;
    gRMag.fill(0);
    for (let b = 0; b < B; b++) {
      const o = b * M;
      for (let i = 0; i < M; i++) {
        const gr = pi[o + i] > 0 && r[o + i] > 0 ? g[o + i] : 0;
        g[o + i] = gr;
        gRMag[i] += gr * P[o + i];
      }
    }
    e.colSum(g, B, M, grads.b_mag, 1, 0);
    for (let i = 0; i < M; i++) gRMag[i] *= ex[i];
    for (let b = 0; b < B; b++) for (let i = 0; i < M; i++) g[b * M + i] *= ex[i];
    // Gate path: aux reconstruction with the decoder detached, plus the norm-weighted penalty.
    const c = this.lambda / B;
    for (let i = 0; i < M; i++) this.colAddM[i] = c * this.normsM[i];
    if (this.auxOn) {
      this.gAuxBD.set(this.auxReconBD);
      e.axpy(-1, x, this.gAuxBD);
      e.scale(this.gAuxBD, 2 / B);
      e.gemm(false, true, B, M, D, 1, this.gAuxBD, D, p.W_dec, D, 0, this.gPiBM, M);
    } else this.gPiBM.fill(0);
    e.reluBackward(pi, this.gPiBM, this.gPiBM, B, M, this.colAddM);
    e.colSum(this.gPiBM, B, M, grads.b_gate, 1, 0);
    e.axpy(1, this.gPiBM, g); // g is now ∂L/∂P
    normPenaltyGradW(p.W_dec, this.normsM, this.sumPiM, c, grads.W_dec, M, D);
    encoderBackward(e, this.xcBD, g, p.W_enc, grads.W_enc, this.gSumM, grads.b_dec, B, D, M);
  }

  countFiring(counts: Int32Array): void {
    this.e.colNonzeroCount(this.fBM, this.batch, this.sae.cfg.dSae, counts);
  }

  constrainGrads(grads: TensorMap): void {
    projectDecoderGrad(this.e, this.sae.params.W_dec, grads.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  afterUpdate(): void {
    renormDecoder(this.e, this.sae.params.W_dec, this.sae.cfg.dSae, this.sae.cfg.dIn);
  }

  /** bit 0: f ≠ 0; bit 1: π > 0; bit 2: r > 0. */
  activePattern(): Uint8Array {
    const pat = new Uint8Array(this.piBM.length);
    for (let t = 0; t < pat.length; t++)
      pat[t] = (this.fBM[t] !== 0 ? 1 : 0) | (this.piBM[t] > 0 ? 2 : 0) | (this.rBM[t] > 0 ? 4 : 0);
    return pat;
  }
}

/**
 * SAELens' gated inference on loaded weights:
 * f = [xc·W_enc + b_gate > 0] · ReLU(xc·(W_enc ⊙ exp(r_mag)) + b_mag), xc = x − b_dec.
 */
function encodeGated(w: SaeWeights, xND: Mat, e: Engine): Mat {
  const { dIn: D, dSae: M } = w;
  const N = xND.rows;
  const wEncDM = tensorOf(w, 'W_enc') as Float32Array;
  const rMagM = tensorOf(w, 'r_mag') as Float32Array;
  const xcND = centredInputs(w, xND, e);
  const wMagDM = new Float32Array(D * M);
  for (let d = 0; d < D; d++) for (let m = 0; m < M; m++) wMagDM[d * M + m] = wEncDM[d * M + m] * Math.exp(rMagM[m]);
  const gateNM = new Float32Array(N * M);
  const magNM = new Float32Array(N * M);
  e.gemm(false, false, N, M, D, 1, xcND, D, wEncDM, M, 0, gateNM, M);
  e.addRowVec(gateNM, N, M, tensorOf(w, 'b_gate') as Float32Array, 1);
  e.gemm(false, false, N, M, D, 1, xcND, D, wMagDM, M, 0, magNM, M);
  e.addRowVec(magNM, N, M, tensorOf(w, 'b_mag') as Float32Array, 1);
  for (let i = 0; i < magNM.length; i++) magNM[i] = gateNM[i] > 0 && magNM[i] > 0 ? magNM[i] : 0;
  return { data: magNM, rows: N, cols: M };
}

export const gated: Architecture<'gated', 'gated'> = {
  name: 'gated',
  fields: ['sparsityCoeff'],
  defaults: { sparsityCoeff: DEFAULT_L1 },
  saeLens: {
    name: 'gated',
    tensors: ['b_gate', 'b_mag', 'r_mag'].map((name) => ({ name, required: true })),
    k: null,
    encode: encodeGated,
  },
  resolve(input: SaeConfigInput): SaeConfig {
    rejectFields(input, gated.fields);
    const sparsityCoeff =
      input.sparsityCoeff === undefined
        ? DEFAULT_L1
        : checkNum('gated', 'sparsityCoeff', input.sparsityCoeff, 0, Infinity, true);
    return { ...baseConfig(input), sparsityCoeff };
  },
  defaultLr: (cfg) => reluFamilyLr(cfg.dSae),
  init(cfg, rng): Sae {
    const { dIn: D, dSae: M } = cfg;
    const wDecMD = randomDecoder(rng, M, D, 1);
    const zM = () => new Float32Array(M);
    return {
      cfg,
      params: {
        W_enc: transposeToEncoder(wDecMD, M, D),
        b_gate: zM(),
        r_mag: zM(),
        b_mag: zM(),
        W_dec: wDecMD,
        b_dec: new Float32Array(D),
      },
      buffers: {},
    };
  },
  createStep: (sae, batch, engine, pool) => new GatedStep(sae, batch, engine, pool),
  exportSaeLens: (sae: Sae): SaeLensExport => pickTensors(sae, ['W_enc', 'b_gate', 'r_mag', 'b_mag', 'W_dec', 'b_dec']),
};
