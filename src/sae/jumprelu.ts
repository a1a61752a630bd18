/**
 * JumpReLU SAE (Rajamanoharan et al. 2024b; docs/SCIENCE.md §2 "JumpReLU"):
 *   f = h·1[h > θ_i], θ = exp(log θ) (trained as `log_threshold`, exported as `threshold`),
 *   loss = MSE + λ·mean_b Σ_i H(h_i − θ_i).
 * The step function has zero gradient almost everywhere, so θ learns through straight-through
 * pseudo-derivatives with a rectangle kernel of bandwidth ε (rect(z) = 1 for |z| < ½):
 *   ∂f/∂θ = −(θ/ε)·rect((h − θ)/ε),  ∂H/∂θ = −(1/ε)·rect((h − θ)/ε),
 * while ∂f/∂h = H(h − θ) and ∂H/∂h = 0 (no gradient through the jump into the encoder). The chain
 * rule through θ = exp(log θ) multiplies by θ.
 *
 * Defaults: ε = 0.05 (top of docs/SCIENCE.md §2's 0.001–0.05), θ₀ = 0.1 — ABOVE docs/SCIENCE.md §2's
 * 0.001–0.01, on measurement: husai trains on inputs scaled to E‖x‖² = d, where pre-activations are
 * O(1); a θ₀ of 0.01 sits below the bulk of them, few pre-activations fall in its kernel window, and
 * θ never climbs (exactly-k acceptance data, d 64, 128 features, k 4, width 128, 8192 steps: θ₀ 0.01
 * → L0 109, gt_mcc 0.37; θ₀ 0.01 with ε 0.5 → L0 63, 0.36; θ₀ 0.1 → L0 2.5, gt_mcc 1.00; θ₀ 0.2 →
 * 0.98). λ = 1 (an active latent then costs about as much as a 1-unit squared error; sweep it).
 * Decoder rows are kept at unit norm (as dictionary_learning's JumpReLU trainer does): the L0
 * penalty does not see scale.
 *
 * Letters: B batch rows, D d_in, M d_sae.
 */
import { ScratchPool } from '../nn/scratch.js';
import type { Engine, F32 } from '../engine/types.js';
import { denseDecode, denseDecodeBackward, projectDecoderGrad, renormDecoder } from '../nn/decoder.js';
import { centre, encoderBackward, linearForward } from '../nn/encoder.js';
import { randomDecoder, transposeToEncoder } from './init.js';
import { encodeThreshold } from './infer.js';
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
  tensorShape,
} from './types.js';

const JUMPRELU_DEFAULTS = { initThreshold: 0.1, bandwidth: 0.05, sparsityCoeff: 1 } as const;

class JumpReluStep implements SaeStep {
  readonly recon: F32;
  private readonly xcBD: F32;
  private readonly hBM: F32;
  private readonly fBM: F32;
  private readonly gReconBD: F32;
  private readonly gBM: F32;
  private readonly thetaM: F32;
  private readonly gThetaM: Float64Array;
  private x: F32 | null = null;
  private lambda = 0;

  constructor(
    private readonly sae: Sae,
    readonly batch: number,
    private readonly e: Engine,
    pool: ScratchPool = new ScratchPool(),
  ) {
    const { dIn: D, dSae: M } = sae.cfg;
    const B = batch;
    this.xcBD = pool.f32('xcBD', B * D);
    this.hBM = pool.f32('hBM', B * M);
    this.fBM = pool.f32('fBM', B * M);
    this.recon = pool.f32('recon', B * D);
    this.gReconBD = pool.f32('gReconBD', B * D);
    this.gBM = pool.f32('gBM', B * M);
    this.thetaM = new Float32Array(M);
    this.gThetaM = new Float64Array(M);
  }

  forward(x: F32, opts: StepOptions): LossParts {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const p = this.sae.params;
    this.x = x;
    this.lambda = (this.sae.cfg.sparsityCoeff as number) * opts.sparsityScale;
    centre(e, x, p.b_dec, this.xcBD, B, D);
    linearForward(e, this.xcBD, p.W_enc, p.b_enc, this.hBM, B, D, M);
    for (let i = 0; i < M; i++) this.thetaM[i] = Math.exp(p.log_threshold[i]);
    let active = 0;
    const { hBM: h, fBM: f, thetaM: th } = this;
    for (let r = 0; r < B; r++) {
      const o = r * M;
      for (let i = 0; i < M; i++) {
        const v = h[o + i];
        if (v > th[i]) {
          f[o + i] = v;
          active++;
        } else f[o + i] = 0;
      }
    }
    denseDecode(e, this.fBM, p.W_dec, p.b_dec, this.recon, B, M, D);
    const mse = e.sumSqDiff(this.recon, x.subarray(0, B * D)) / B;
    const sparsity = (this.lambda * active) / B;
    return { loss: mse + sparsity, mse, sparsity, aux: 0, l0: active / B };
  }

  backward(grads: TensorMap): void {
    const { e, batch: B } = this;
    const { dIn: D, dSae: M } = this.sae.cfg;
    const eps = this.sae.cfg.bandwidth as number;
    const p = this.sae.params;
    this.gReconBD.set(this.recon);
    e.axpy(-1, (this.x as F32).subarray(0, B * D), this.gReconBD);
    e.scale(this.gReconBD, 2 / B);
    denseDecodeBackward(e, this.fBM, this.gReconBD, p.W_dec, grads.W_dec, this.gBM, grads.b_dec, B, M, D);
    // One pass over [B,M]: θ pseudo-gradients from the pre-jump gF, then gH = gF·H(h − θ) in place.
    const { hBM: h, gBM: g, thetaM: th, gThetaM: gTh } = this;
    const l0Grad = this.lambda / B;
    gTh.fill(0);
    for (let r = 0; r < B; r++) {
      const o = r * M;
      for (let i = 0; i < M; i++) {
        const v = h[o + i];
        if (Math.abs(v - th[i]) < eps / 2) gTh[i] -= (th[i] * g[o + i] + l0Grad) / eps;
        if (!(v > th[i])) g[o + i] = 0;
      }
    }
    for (let i = 0; i < M; i++) grads.log_threshold[i] = th[i] * gTh[i];
    encoderBackward(e, this.xcBD, this.gBM, p.W_enc, grads.W_enc, grads.b_enc, grads.b_dec, B, D, M);
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

  /** bit 0: active (h > θ); bit 1: inside the rectangle kernel's window. */
  activePattern(): Uint8Array {
    const M = this.sae.cfg.dSae;
    const eps = this.sae.cfg.bandwidth as number;
    const pat = new Uint8Array(this.hBM.length);
    for (let t = 0; t < pat.length; t++) {
      const th = this.thetaM[t % M];
      pat[t] = (this.hBM[t] > th ? 1 : 0) | (Math.abs(this.hBM[t] - th) < eps / 2 ? 2 : 0);
    }
    return pat;
  }
}

export const jumprelu: Architecture<'jumprelu', 'jumprelu'> = {
  name: 'jumprelu',
  fields: ['sparsityCoeff', 'initThreshold', 'bandwidth'],
  defaults: JUMPRELU_DEFAULTS,
  saeLens: {
    name: 'jumprelu',
    tensors: [
      { name: 'b_enc', required: true },
      { name: 'threshold', required: true },
    ],
    k: null,
    encode: encodeThreshold,
  },
  resolve(input: SaeConfigInput): SaeConfig {
    rejectFields(input, jumprelu.fields);
    const d = JUMPRELU_DEFAULTS;
    return {
      ...baseConfig(input),
      sparsityCoeff:
        input.sparsityCoeff === undefined
          ? d.sparsityCoeff
          : checkNum('jumprelu', 'sparsityCoeff', input.sparsityCoeff, 0, Infinity, true),
      initThreshold:
        input.initThreshold === undefined
          ? d.initThreshold
          : checkNum('jumprelu', 'initThreshold', input.initThreshold, 0),
      bandwidth: input.bandwidth === undefined ? d.bandwidth : checkNum('jumprelu', 'bandwidth', input.bandwidth, 0),
    };
  },
  defaultLr: (cfg) => reluFamilyLr(cfg.dSae),
  init(cfg, rng): Sae {
    const { dIn: D, dSae: M } = cfg;
    const wDecMD = randomDecoder(rng, M, D, 1);
    const logThresholdM = new Float32Array(M).fill(Math.log(cfg.initThreshold as number));
    return {
      cfg,
      params: {
        W_enc: transposeToEncoder(wDecMD, M, D),
        b_enc: new Float32Array(M),
        W_dec: wDecMD,
        b_dec: new Float32Array(D),
        log_threshold: logThresholdM,
      },
      buffers: {},
    };
  },
  createStep: (sae, batch, engine, pool) => new JumpReluStep(sae, batch, engine, pool),
  exportSaeLens(sae: Sae): SaeLensExport {
    const out = pickTensors(sae, ['W_enc', 'b_enc', 'W_dec', 'b_dec']);
    out.tensors.threshold = Float32Array.from(sae.params.log_threshold, Math.exp);
    out.shapes.threshold = tensorShape('threshold', sae.cfg);
    return out;
  },
};
