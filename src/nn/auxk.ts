/**
 * AuxK auxiliary loss (Gao et al. 2024; docs/SCIENCE.md §2, TopK): take the k_aux largest
 * pre-activations among *dead* latents, ReLU them, decode them without b_dec as ê, and penalise
 * α·s·mean_b‖ê − (x − x̂)‖² with the residual x − x̂ detached and s = min(n_dead / k_aux, 1).
 * It gives dead latents a gradient towards whatever the live ones fail to explain.
 *
 * Letters: B batch rows, D d_in, M d_sae, A k_aux actually used (≤ n_dead), N n_dead.
 */
import type { Engine, F32, I32 } from '../engine/types.js';
import type { SparseGrad } from './encoder.js';
import type { ScratchPool } from './scratch.js';
import { maskByPositive } from './sparse.js';

export class AuxK {
  private readonly hDeadBN: F32;
  private readonly deadN: Int32Array;
  private readonly valsBA: F32;
  private readonly idxBA: I32;
  private readonly residBD: F32;
  private readonly eHatBD: F32;
  private readonly gValsBA: F32;
  /** k_aux used by the last forward (0: inactive, backward does nothing). */
  private a = 0;
  private coeff = 0;

  constructor(
    readonly B: number,
    readonly M: number,
    readonly D: number,
    /** k_aux: how many dead latents per row may reconstruct the residual. */
    readonly kAux: number,
    pool: ScratchPool,
  ) {
    const A = Math.min(kAux, M);
    this.hDeadBN = pool.f32('auxk.hDeadBN', B * M);
    this.deadN = new Int32Array(M);
    this.valsBA = pool.f32('auxk.valsBA', B * A);
    this.idxBA = pool.i32('auxk.idxBA', B * A);
    this.residBD = pool.f32('auxk.residBD', B * D);
    this.eHatBD = pool.f32('auxk.eHatBD', B * D);
    this.gValsBA = pool.f32('auxk.gValsBA', B * A);
  }

  /**
   * Returns α·s·AuxK (0 when no latent is dead). hBM: pre-activations; dead: 1 per dead latent;
   * x, recon: [B,D] input and main reconstruction.
   */
  forward(e: Engine, hBM: F32, dead: Uint8Array | null, xBD: F32, reconBD: F32, wDecMD: F32, alpha: number): number {
    const { B, M, D } = this;
    this.a = 0;
    if (!dead || alpha === 0) return 0;
    let n = 0;
    for (let j = 0; j < M; j++) if (dead[j]) this.deadN[n++] = j;
    if (n === 0) return 0;
    const a = Math.min(this.kAux, n);
    const scale = Math.min(n / this.kAux, 1);
    // Gather the dead columns into a compact [B, N] block, select per row, map indices back.
    const hDead = this.hDeadBN.subarray(0, B * n);
    for (let r = 0; r < B; r++) {
      const src = r * M;
      const dst = r * n;
      for (let c = 0; c < n; c++) hDead[dst + c] = hBM[src + this.deadN[c]];
    }
    const vals = this.valsBA.subarray(0, B * a);
    const idx = this.idxBA.subarray(0, B * a);
    e.topkRows(hDead, B, n, a, vals, idx);
    e.relu(vals, vals);
    for (let t = 0; t < B * a; t++) idx[t] = this.deadN[idx[t]];
    // residual (detached) and ê
    this.residBD.set(xBD.subarray(0, B * D));
    e.axpy(-1, reconBD, this.residBD);
    e.sparseDecode(vals, idx, B, a, wDecMD, M, D, this.eHatBD, 0);
    const loss = e.sumSqDiff(this.eHatBD, this.residBD) / B;
    this.a = a;
    this.coeff = alpha * scale;
    return this.coeff * loss;
  }

  /**
   * Adds the AuxK gradient into gWDecMD and returns ∂(α·s·AuxK)/∂h as a sparse code (ReLU-masked,
   * [B, A]); when gHBM is given it is also added there densely. Null when the last forward was inactive.
   */
  backward(e: Engine, wDecMD: F32, gWDecMD: F32, gHBM: F32 | null): SparseGrad | null {
    const { B, M, D, a } = this;
    if (a === 0) return null;
    const vals = this.valsBA.subarray(0, B * a);
    const idx = this.idxBA.subarray(0, B * a);
    const gVals = this.gValsBA.subarray(0, B * a);
    // gÊ = coeff·(2/B)(ê − resid), written over eHat (not needed afterwards).
    const gE = this.eHatBD;
    e.axpy(-1, this.residBD, gE);
    e.scale(gE, (2 * this.coeff) / B);
    e.sparseDecodeGradW(vals, idx, B, a, gE, M, D, gWDecMD);
    e.sparseDecodeGradVals(gE, idx, B, a, wDecMD, M, D, gVals);
    maskByPositive(vals, gVals, B * a);
    if (gHBM) {
      for (let r = 0; r < B; r++) {
        for (let j = 0; j < a; j++) {
          const t = r * a + j;
          if (gVals[t] !== 0) gHBM[r * M + idx[t]] += gVals[t];
        }
      }
    }
    return { gVals, idx, W: a };
  }

  /** Marks with bit `bit` the latents used by the last forward in a [B,M] pattern (tests). */
  markPattern(pattern: Uint8Array, bit: number): void {
    const { B, M, a } = this;
    for (let t = 0; t < B * a; t++) if (this.valsBA[t] > 0) pattern[Math.floor(t / a) * M + this.idxBA[t]] |= bit;
  }
}
