/**
 * Exactly-k synthetic data for the SAE tests (docs/SCIENCE.md §5, Song et al.): G = n_gt random unit
 * rows in R^d; each sample has exactly k non-zero codes with magnitudes |N(0,1)|; x = s·G. Generated
 * in the test with Rng (sae/ tests stay independent of data/), served by an in-memory BatchStream
 * whose order is a seeded shuffle per (seed, epoch). Also ground-truth MCC: mean over true features
 * of the cosine to the decoder atom matched one-to-one by the Hungarian algorithm (docs/SCIENCE.md §3 gt_mcc).
 */
import type { Mat } from '../../src/core/mat.js';
import { Rng } from '../../src/core/rng.js';
import type { BatchStream } from '../../src/sae/train.js';

export interface ExactK {
  gtFD: Float32Array;
  xND: Float32Array;
  nGt: number;
  d: number;
  n: number;
}

export function exactK(seed: number, n: number, d: number, nGt: number, k: number): ExactK {
  const rng = Rng.from(seed, 'exactk');
  const gtFD = new Float32Array(nGt * d);
  const row = new Float64Array(d);
  for (let f = 0; f < nGt; f++) {
    rng.fillNormal(row);
    let s = 0;
    for (let j = 0; j < d; j++) s += row[j] ** 2;
    for (let j = 0; j < d; j++) gtFD[f * d + j] = row[j] / Math.sqrt(s);
  }
  const xND = new Float32Array(n * d);
  const chosen = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      let f: number;
      do f = rng.int(nGt);
      while (chosen.subarray(0, c).includes(f));
      chosen[c] = f;
      const a = Math.abs(rng.normal());
      for (let j = 0; j < d; j++) xND[i * d + j] += a * gtFD[f * d + j];
    }
  }
  return { gtFD, xND, nGt, d, n };
}

/** An in-memory BatchStream: shuffled by Rng.from(seed, epoch, 'order'). */
export function memoryStream(xND: Float32Array, n: number, d: number): BatchStream & { name: string } {
  return {
    name: `memory(n=${n},d=${d})`,
    d,
    length: n,
    async *batches(batchSize: number, opts: { seed: number; epoch?: number; keepLast?: boolean }): AsyncIterable<Mat> {
      const perm = Rng.from(opts.seed, opts.epoch ?? 0, 'order').permutation(n);
      const buf = new Float32Array(batchSize * d);
      for (let start = 0; start < n; start += batchSize) {
        const rows = Math.min(batchSize, n - start);
        if (rows < batchSize && opts.keepLast === false) return;
        for (let r = 0; r < rows; r++) buf.set(xND.subarray(perm[start + r] * d, (perm[start + r] + 1) * d), r * d);
        yield { data: buf.subarray(0, rows * d), rows, cols: d };
      }
    },
  };
}

/** Maximum-weight assignment on an n×m score matrix (n ≤ m), O(n²m) Hungarian; returns col per row. */
export function hungarianMax(score: Float64Array, n: number, m: number): Int32Array {
  const INF = Infinity;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const cost = (i: number, j: number) => -score[(i - 1) * m + (j - 1)];
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(INF);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0);
  }
  const assign = new Int32Array(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] > 0) assign[p[j] - 1] = j - 1;
  return assign;
}

/** gt_mcc: mean cosine of true features to their one-to-one matched (unit) decoder atoms. */
export function gtMcc(gtFD: Float32Array, nGt: number, wDecMD: Float32Array, M: number, d: number): number {
  const atoms = new Float64Array(M * d);
  for (let i = 0; i < M; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += wDecMD[i * d + j] ** 2;
    const inv = 1 / Math.sqrt(Math.max(s, 1e-30));
    for (let j = 0; j < d; j++) atoms[i * d + j] = wDecMD[i * d + j] * inv;
  }
  const n = Math.min(nGt, M);
  const rowsAreGt = nGt <= M;
  const R = rowsAreGt ? nGt : M;
  const C = rowsAreGt ? M : nGt;
  const score = new Float64Array(R * C);
  for (let a = 0; a < R; a++) {
    for (let b = 0; b < C; b++) {
      const g = rowsAreGt ? a : b;
      const t = rowsAreGt ? b : a;
      let s = 0;
      for (let j = 0; j < d; j++) s += gtFD[g * d + j] * atoms[t * d + j];
      score[a * C + b] = s;
    }
  }
  const assign = hungarianMax(score, R, C);
  let sum = 0;
  for (let a = 0; a < R; a++) sum += score[a * C + assign[a]];
  return sum / n;
}
