/**
 * Sparse codes: TopK selection per row, BatchTopK selection over a whole batch, and the padded
 * per-row layout that lets the engine's sparse decode kernels (B·k entries instead of B·m, docs/SCIENCE.md
 * §2 "our main speed lever") serve selections whose size varies from row to row.
 *
 * Letters: B batch rows, D d_in, M d_sae, K k (entries per row), W padded width of a row.
 *
 * Padded layout: row r holds its entries in valsBW[r·W … r·W + W); unused slots hold value 0 and
 * index 0, which decode to nothing and whose gradients are masked by `maskByPositive`.
 */
import type { Engine, F32, I32 } from '../engine/types.js';
import type { ScratchPool } from './scratch.js';

/** f = scatter(ReLU(topk_k(h))) kept sparse: the k largest of each row, negatives zeroed. */
export function topkRelu(e: Engine, hBM: F32, B: number, M: number, K: number, valsBK: F32, idxBK: I32): void {
  e.topkRows(hBM, B, M, K, valsBK, idxBK);
  e.relu(valsBK, valsBK);
}

/** gVals[t] ← 0 where vals[t] ≤ 0 (ReLU mask on sparse codes; also clears padding slots). */
export function maskByPositive(vals: F32, gVals: F32, n: number): void {
  for (let t = 0; t < n; t++) if (!(vals[t] > 0)) gVals[t] = 0;
}

/** counts[idx[t]] += 1 for every positive entry; returns the number of positive entries. */
export function countSparse(vals: F32, idx: I32, n: number, counts: Int32Array): number {
  let active = 0;
  for (let t = 0; t < n; t++) {
    if (vals[t] > 0) {
      counts[idx[t]]++;
      active++;
    }
  }
  return active;
}

/** gHBM[r, idx[r,j]] += gVals[r,j] for a [B,W] padded code (adds, unlike engine.scatterRows). */
export function scatterAddRows(gVals: F32, idx: I32, B: number, W: number, gHBM: F32, M: number): void {
  for (let r = 0; r < B; r++) {
    const o = r * W;
    const h = r * M;
    for (let j = 0; j < W; j++) {
      const g = gVals[o + j];
      if (g !== 0) gHBM[h + idx[o + j]] += g;
    }
  }
}

/**
 * Sparse codes split into G nested groups of latents (Matryoshka prefixes; G = 1 for plain
 * BatchTopK): group g owns latents [ends[g−1], ends[g]). Buffers are sized for the worst case (every
 * latent of a group active in every row) once, so selection never allocates.
 */
export class GroupedCodes {
  readonly G: number;
  /** Padded width of each group's rows after the last fill. */
  readonly width: Int32Array;
  private readonly valsStore: F32[];
  private readonly idxStore: I32[];
  private readonly groupOfM: Int32Array;
  private readonly countGB: Int32Array;

  constructor(
    readonly B: number,
    readonly M: number,
    readonly ends: readonly number[],
    pool: ScratchPool,
  ) {
    this.G = ends.length;
    this.width = new Int32Array(this.G);
    this.valsStore = [];
    this.idxStore = [];
    this.groupOfM = new Int32Array(M);
    let start = 0;
    for (let g = 0; g < this.G; g++) {
      const size = ends[g] - start;
      this.valsStore.push(pool.f32(`codes.vals${g}`, B * size));
      this.idxStore.push(pool.i32(`codes.idx${g}`, B * size));
      this.groupOfM.fill(g, start, ends[g]);
      start = ends[g];
    }
    this.countGB = new Int32Array(this.G * B);
  }

  /** Group g's values, [B, width[g]]. */
  vals(g: number): F32 {
    return this.valsStore[g].subarray(0, this.B * this.width[g]);
  }

  /** Group g's latent indices, [B, width[g]]. */
  idx(g: number): I32 {
    return this.idxStore[g].subarray(0, this.B * this.width[g]);
  }

  /**
   * Fills the groups from n flat entries (row r = flatIdx / M, latent = flatIdx mod M); entries with
   * value ≤ 0 are dropped. Two passes: count per (group, row) to size the padding, then place.
   */
  fillFromFlat(flatVals: F32, flatIdx: I32, n: number): void {
    const { B, M } = this;
    this.countGB.fill(0);
    for (let t = 0; t < n; t++) {
      if (!(flatVals[t] > 0)) continue;
      const r = Math.floor(flatIdx[t] / M);
      this.countGB[this.groupOfM[flatIdx[t] - r * M] * B + r]++;
    }
    this.prepare();
    for (let t = 0; t < n; t++) {
      const v = flatVals[t];
      if (!(v > 0)) continue;
      const r = Math.floor(flatIdx[t] / M);
      const j = flatIdx[t] - r * M;
      this.place(r, j, v);
    }
  }

  /** Fills the groups with every h[r, j] > thrM[j] (JumpReLU-style inference rule). */
  fillAboveThreshold(hBM: F32, thrM: F32): void {
    const { B, M } = this;
    this.countGB.fill(0);
    for (let r = 0; r < B; r++) {
      const o = r * M;
      for (let j = 0; j < M; j++) if (hBM[o + j] > thrM[j] && hBM[o + j] > 0) this.countGB[this.groupOfM[j] * B + r]++;
    }
    this.prepare();
    for (let r = 0; r < B; r++) {
      const o = r * M;
      for (let j = 0; j < M; j++) if (hBM[o + j] > thrM[j] && hBM[o + j] > 0) this.place(r, j, hBM[o + j]);
    }
  }

  /** Number of positive entries across all groups. */
  active(): number {
    let s = 0;
    for (let t = 0; t < this.countGB.length; t++) s += this.countGB[t];
    return s;
  }

  private prepare(): void {
    const { B, G } = this;
    for (let g = 0; g < G; g++) {
      let w = 0;
      for (let r = 0; r < B; r++) w = Math.max(w, this.countGB[g * B + r]);
      this.width[g] = w;
      this.vals(g).fill(0);
      this.idx(g).fill(0);
    }
    this.countGB.fill(0); // reused as per-row fill pointers by place()
  }

  private place(r: number, j: number, v: number): void {
    const g = this.groupOfM[j];
    const slot = this.countGB[g * this.B + r]++;
    const at = r * this.width[g] + slot;
    this.valsStore[g][at] = v;
    this.idxStore[g][at] = j;
  }
}
