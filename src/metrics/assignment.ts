/**
 * Linear sum assignment: the optimal one-to-one matching σ behind PW-MCC, the shared fraction and
 * the ground-truth MCC (docs/SCIENCE.md §3: "σ = a maximum-weight one-to-one assignment on C
 * (Hungarian / Jonker–Volgenant; rectangular allowed, min(n_A, n_B) pairs)").
 *
 * Written by hand because no TypeScript library solves dense rectangular assignment exactly at the
 * sizes we need (docs/ARCHITECTURE.md, "Dependencies"). The algorithm is the shortest augmenting path method of
 * Jonker & Volgenant (1987) in the rectangular form of Crouse (2016), the one behind scipy's
 * `linear_sum_assignment`, with two of LAPJV's initialisation phases in front of it:
 *   1. row reduction: u_i = min_j c_ij, v = 0; each row takes its cheapest column if still free;
 *   2. augmenting row reduction (two sweeps): a free row takes its cheapest column j1 and lowers
 *      v_j1 so that j1 is exactly as cheap as its second-best column, evicting j1's owner;
 *   3. Dijkstra on reduced costs c_ij − u_i − v_j from each still-free row to a free column.
 * Every phase keeps the duals feasible (c_ij − u_i − v_j ≥ 0, tight on matched pairs, v ≤ 0 and
 * v_j = 0 on unmatched columns), so the result is exactly optimal, rectangular included. Costs are
 * float64; integer costs give integer duals and therefore exact optima even with many ties.
 *
 * Shape legend: R = rows of the cost matrix, K = its columns; the working problem is transposed
 * when R > K so that it always has at most as many rows (nr) as columns (nc).
 */
import { DataError, ShapeError, fmtShape } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Mat } from '../core/mat.js';
import { cosineMatrix } from './cosine.js';

/** A dense row-major matrix of assignment weights (a `Mat` fits). */
interface CostMatrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly cols: number;
}

interface AssignOptions {
  /** Maximise Σ weights instead of minimising Σ costs (default false). */
  maximize?: boolean;
  /** Name used in error messages, e.g. 'cos(A, B)' (default 'cost matrix'). */
  name?: string;
}

/** An optimal assignment of min(R, K) pairs. */
export interface Assignment {
  /** Matched rows, ascending; length min(R, K). */
  readonly rowIdx: Int32Array;
  /** colIdx[t] is the column matched to rowIdx[t]. */
  readonly colIdx: Int32Array;
  /** colForRow[i]: the column matched to row i, or −1 (length R). */
  readonly colForRow: Int32Array;
  /** rowForCol[j]: the row matched to column j, or −1 (length K). */
  readonly rowForCol: Int32Array;
  /** Σ of the matched entries of the input matrix (float64 sum, sign as given). */
  readonly total: number;
}

/**
 * Solves the rectangular linear sum assignment problem exactly: a one-to-one matching of
 * min(R, K) row–column pairs minimising (or, with `maximize`, maximising) the summed entries.
 * Entries must be finite: NaN and ±Infinity throw a DataError naming the matrix and the entry.
 */
export function linearSumAssignment(cost: CostMatrix, opts: AssignOptions = {}): Assignment {
  const { rows: R, cols: K, data } = cost;
  const name = opts.name ?? 'cost matrix';
  if (!Number.isInteger(R) || !Number.isInteger(K) || R < 0 || K < 0 || data.length !== R * K) {
    throw new ShapeError(`${name}: ${data.length} values cannot be shaped ${fmtShape(R, K)}`);
  }
  const transposed = R > K;
  const nr = transposed ? K : R;
  const nc = transposed ? R : K;
  const sign = opts.maximize ? -1 : 1;

  // Working copy, negated for maximisation, transposed if needed; checks finiteness. Float32
  // input stays float32 (negation and transposition are exact; every sum below is float64), which
  // halves the memory the path search streams through: the solve is bandwidth-bound at large n.
  const c = data instanceof Float32Array ? new Float32Array(nr * nc) : new Float64Array(nr * nc);
  for (let i = 0; i < R; i++) {
    const o = i * K;
    for (let j = 0; j < K; j++) {
      const x = data[o + j];
      if (!Number.isFinite(x)) {
        throw new DataError(name, `entry [${i}, ${j}] of ${fmtShape(R, K)}`, String(x), 'a finite number');
      }
      c[transposed ? j * nc + i : o + j] = sign * x;
    }
  }

  const col4row = solveMin(c, nr, nc);

  const colForRow = new Int32Array(R).fill(-1);
  const rowForCol = new Int32Array(K).fill(-1);
  for (let i = 0; i < nr; i++) {
    const j = col4row[i];
    if (transposed) {
      colForRow[j] = i;
      rowForCol[i] = j;
    } else {
      colForRow[i] = j;
      rowForCol[j] = i;
    }
  }
  const n = nr;
  const rowIdx = new Int32Array(n);
  const colIdx = new Int32Array(n);
  let t = 0;
  let total = 0;
  for (let i = 0; i < R; i++) {
    const j = colForRow[i];
    if (j < 0) continue;
    rowIdx[t] = i;
    colIdx[t] = j;
    total += data[i * K + j];
    t++;
  }
  return { rowIdx, colIdx, colForRow, rowForCol, total };
}

/**
 * Min-cost assignment on the working matrix c [nr × nc], nr ≤ nc, all entries finite.
 * Returns col4row (length nr). Phases as described in the file header.
 */
function solveMin(c: Float32Array | Float64Array, nr: number, nc: number): Int32Array {
  const col4row = new Int32Array(nr).fill(-1);
  const row4col = new Int32Array(nc).fill(-1);
  const u = new Float64Array(nr);
  const v = new Float64Array(nc); // stays ≤ 0; exactly 0 on unmatched columns
  if (nr === 0) return col4row;

  // 1. Row reduction.
  const free = new Int32Array(nr);
  let nFree = 0;
  for (let i = 0; i < nr; i++) {
    const o = i * nc;
    let best = c[o];
    let jb = 0;
    for (let j = 1; j < nc; j++) {
      const x = c[o + j];
      if (x < best) {
        best = x;
        jb = j;
      }
    }
    u[i] = best;
    if (row4col[jb] < 0) {
      row4col[jb] = i;
      col4row[i] = jb;
    } else {
      free[nFree++] = i;
    }
  }

  // 2. Augmenting row reduction, two sweeps over the free rows (LAPJV).
  if (nc > 1) {
    for (let sweep = 0; sweep < 2 && nFree > 0; sweep++) {
      nFree = augmentingRowReduction(c, nr, nc, u, v, col4row, row4col, free, nFree);
    }
  }

  // 3. Shortest augmenting paths for the rest.
  const spc = new Float64Array(nc); // shortest path cost to each column
  const path = new Int32Array(nc); // predecessor row of each column on the path tree
  const done = new Uint8Array(nc); // 1 once a column is scanned (its distance is final)
  const scanned = new Int32Array(nc); // columns scanned, in order
  for (let f = 0; f < nFree; f++) {
    const cur = free[f];
    u[cur] = 0; // any finite value works for the start row (its edges are only ever first edges)
    // Dijkstra over columns. A plain sweep with a done-flag beats scipy's swap-removed index
    // list here: sequential reads of c, v and spc are ~30% faster in V8 at n ≥ 2048.
    spc.fill(Infinity);
    done.fill(0);
    let nScanned = 0;
    let minVal = 0;
    let i = cur;
    let sink = -1;
    while (sink < 0) {
      const o = i * nc;
      const base = minVal - u[i];
      let lowest = Infinity;
      let jLow = -1;
      for (let j = 0; j < nc; j++) {
        if (done[j] !== 0) continue;
        const r = base + c[o + j] - v[j];
        let s = spc[j];
        if (r < s) {
          path[j] = i;
          spc[j] = r;
          s = r;
        }
        // Among equal lowest costs prefer a free column: it ends the search at once.
        if (s < lowest || (s === lowest && row4col[j] < 0)) {
          lowest = s;
          jLow = j;
        }
      }
      minVal = lowest;
      done[jLow] = 1;
      scanned[nScanned++] = jLow;
      if (row4col[jLow] < 0) sink = jLow;
      else i = row4col[jLow];
    }
    // Dual update: keeps reduced costs ≥ 0 and makes the new path tight.
    u[cur] += minVal;
    for (let t = 0; t < nScanned; t++) {
      const j = scanned[t];
      const delta = minVal - spc[j];
      v[j] -= delta;
      const r = row4col[j];
      if (r >= 0) u[r] += delta;
    }
    // Augment along the path.
    let j = sink;
    for (;;) {
      const r = path[j];
      row4col[j] = r;
      const prev = col4row[r];
      col4row[r] = j;
      if (r === cur) break;
      j = prev;
    }
  }
  return col4row;
}

/**
 * One LAPJV augmenting-row-reduction sweep over `free[0..nFree)`. A free row i finds its best and
 * second-best reduced column cost (c_ij − v_j); it takes the best column j1 with u_i = second best,
 * lowering v_j1 so the pair is tight. j1's previous owner becomes free and is retried in this sweep
 * only if v_j1 actually dropped (otherwise it would cycle). Returns the new count of free rows,
 * written back into `free`. A displaced row's u is stale; phase 3 resets it before use.
 */
function augmentingRowReduction(
  c: Float32Array | Float64Array,
  nr: number,
  nc: number,
  u: Float64Array,
  v: Float64Array,
  col4row: Int32Array,
  row4col: Int32Array,
  free: Int32Array,
  nFree: number,
): number {
  // Rows to process: the free rows, then evicted rows whose column price dropped.
  const queue = Array.from(free.subarray(0, nFree));
  let head = 0;
  let nLeft = 0;
  const left = free; // rows still free at the end, compacted into `free`
  let steps = 0;
  const maxSteps = nFree * 8 + nr; // LAPJV bounds the sweep; we cap it to stay cheap
  while (head < queue.length) {
    const i = queue[head++];
    if (++steps > maxSteps) {
      left[nLeft++] = i;
      continue;
    }
    const o = i * nc;
    let u1 = c[o] - v[0];
    let j1 = 0;
    let u2 = Infinity;
    let j2 = -1;
    for (let j = 1; j < nc; j++) {
      const h = c[o + j] - v[j];
      if (h < u2) {
        if (h >= u1) {
          u2 = h;
          j2 = j;
        } else {
          u2 = u1;
          j2 = j1;
          u1 = h;
          j1 = j;
        }
      }
    }
    let k = row4col[j1];
    if (u1 < u2) {
      v[j1] -= u2 - u1; // j1 now costs exactly u2 for row i, its second-best
    } else if (k >= 0) {
      // Tie: take the second column instead when the first is owned.
      j1 = j2;
      k = row4col[j1];
    }
    u[i] = c[o + j1] - v[j1]; // tight: row i's matched column is its cheapest
    row4col[j1] = i;
    col4row[i] = j1;
    if (k >= 0) {
      col4row[k] = -1;
      if (u1 < u2)
        queue.push(k); // price of j1 dropped: k may now prefer another column cheaply
      else left[nLeft++] = k;
    }
  }
  return nLeft;
}

/** Result of {@link benchAssign}. */
interface AssignBench {
  n: number;
  kind: AssignBenchKind;
  /** Wall-clock seconds for the solve alone (matrix generation excluded). */
  seconds: number;
  /** Optimal total, to check runs against each other or against scipy on the same matrix. */
  total: number;
}

/**
 * 'cosines': signed cosines between two random unit dictionaries of n atoms in d dimensions,
 * maximised — the matrices stability metrics actually solve (docs/SCIENCE.md §3–§4).
 * 'uniform': U(0, 1) costs, minimised — scipy's own benchmark.
 */
export type AssignBenchKind = 'cosines' | 'uniform';

/** The benchmark matrix (float32, n × n) for `kind`, from `Rng.from(seed, 'bench-assign')`. */
export function assignBenchMatrix(n: number, kind: AssignBenchKind, d = 512, seed = 0): Mat {
  if (!Number.isInteger(n) || n < 0) throw new ShapeError(`benchAssign: n must be a non-negative integer, got ${n}`);
  const rng = Rng.from(seed, 'bench-assign');
  if (kind === 'uniform') {
    const data = new Float32Array(n * n);
    rng.fillUniform(data);
    return { data, rows: n, cols: n };
  }
  const a = new Float32Array(n * d);
  const b = new Float32Array(n * d);
  rng.fillNormal(a);
  rng.fillNormal(b);
  return cosineMatrix({ data: a, rows: n, cols: d }, { data: b, rows: n, cols: d });
}

/** Times one exact solve of `cost` (maximising for 'cosines'). Backs `husai bench assign`. */
export function benchAssign(cost: Mat, kind: AssignBenchKind): AssignBench {
  const t0 = performance.now();
  const a = linearSumAssignment(cost, { maximize: kind === 'cosines' });
  const seconds = (performance.now() - t0) / 1000;
  return { n: cost.rows, kind, seconds, total: a.total };
}
