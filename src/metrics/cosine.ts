/**
 * Cosine similarities between two sets of atoms — the input of every metric in docs/SCIENCE.md §3
 * ("Every similarity metric works on unit atoms"; C = A·Bᵀ). This file owns: turning raw weight
 * rows (decoder) or columns (encoder, docs/SCIENCE.md §1) into checked unit atoms, the full cosine
 * matrix C (or |C|) for assignment, and a blocked pass that finds row maxima and column maxima of C
 * together while holding only one [T × N_B] block, so two 16,384-atom SAEs never materialise the
 * 16,384² matrix (1 GiB in float32). All products go through the engine's GEMM (float32).
 *
 * Letter legend: N_A, N_B = atom counts of A and B (rows), D = d_in (atom length), T = rows per
 * block. Names like `aAD` / `cosAB` carry these letters. Zero rows stay zero after normalisation
 * (engine.normalizeRows divides by max(‖x‖, 1e-12)), so a zero atom has cosine 0 with everything.
 */
import { DataError, ShapeError, fmtShape } from '../core/errors.js';
import type { Mat } from '../core/mat.js';
import { getEngine } from '../engine/index.js';

/** Atoms (rows) already checked finite and scaled to unit length, with the name errors use. */
export interface UnitAtoms extends Mat {
  readonly unit: true;
  /** e.g. 'decoder atoms of seed 3' — used in error messages downstream. */
  readonly name: string;
}

/** Either raw atoms (normalised on use) or atoms already prepared by {@link unitAtoms}. */
export type Atoms = Mat | UnitAtoms;

function isUnit(m: Atoms): m is UnitAtoms {
  return (m as Partial<UnitAtoms>).unit === true;
}

/**
 * Rows of `atomsND` as unit atoms (a normalised copy). Throws a DataError naming `name` and the
 * entry when any value is NaN or ±Infinity. Passing a UnitAtoms returns it unchanged.
 */
export function unitAtoms(atomsND: Atoms, name = 'atoms'): UnitAtoms {
  if (isUnit(atomsND)) return atomsND;
  const { rows, cols, data } = atomsND;
  if (data.length !== rows * cols) {
    throw new ShapeError(`${name}: ${data.length} values cannot be shaped ${fmtShape(rows, cols)}`);
  }
  for (let k = 0; k < data.length; k++) {
    const x = data[k];
    if (!Number.isFinite(x)) {
      const r = Math.floor(k / cols);
      throw new DataError(
        name,
        `row ${r}, column ${k - r * cols} of ${fmtShape(rows, cols)}`,
        String(x),
        'a finite number',
      );
    }
  }
  const out = new Float32Array(data);
  if (rows > 0 && cols > 0) getEngine().normalizeRows(out, rows, cols, null);
  return { data: out, rows, cols, unit: true, name };
}

/**
 * Columns of `wDM` as unit atoms: encoder atom i is column i of W_enc [d_in, d_sae] (docs/SCIENCE.md §1),
 * so the result is [d_sae × d_in].
 */
export function unitColumns(wDM: Mat, name = 'encoder atoms'): UnitAtoms {
  const { rows: D, cols: M, data } = wDM;
  if (data.length !== D * M) throw new ShapeError(`${name}: ${data.length} values cannot be shaped ${fmtShape(D, M)}`);
  const tMD = new Float32Array(D * M);
  for (let r = 0; r < D; r++) for (let c = 0; c < M; c++) tMD[c * D + r] = data[r * M + c];
  return unitAtoms({ data: tMD, rows: M, cols: D }, name);
}

/** Both sets as unit atoms, checking that they live in the same space. */
export function unitPair(a: Atoms, b: Atoms, nameA = 'A', nameB = 'B'): [UnitAtoms, UnitAtoms] {
  const ua = unitAtoms(a, nameA);
  const ub = unitAtoms(b, nameB);
  if (ua.cols !== ub.cols) {
    throw new ShapeError(
      `${ua.name} ${fmtShape(ua.rows, ua.cols)} and ${ub.name} ${fmtShape(ub.rows, ub.cols)}: atoms must have the ` +
        `same length d_in`,
    );
  }
  return [ua, ub];
}

interface CosineOptions {
  /** Take |C| instead of C (default false). */
  abs?: boolean;
  /** Names for error messages (defaults 'A', 'B'). */
  nameA?: string;
  nameB?: string;
}

/**
 * The full cosine matrix C = A·Bᵀ [N_A × N_B] (or |C| with `abs`), float32. Use it when the whole
 * matrix is needed (assignment); for maxima use {@link maxCosines}, which never holds all of it.
 */
export function cosineMatrix(aAD: Atoms, bBD: Atoms, opts: CosineOptions = {}): Mat {
  const [ua, ub] = unitPair(aAD, bBD, opts.nameA, opts.nameB);
  const nA = ua.rows;
  const nB = ub.rows;
  const D = ua.cols;
  const cosAB = new Float32Array(nA * nB);
  getEngine().gemm(
    false,
    true,
    nA,
    nB,
    D,
    1,
    ua.data,
    Math.max(1, D),
    ub.data,
    Math.max(1, D),
    0,
    cosAB,
    Math.max(1, nB),
  );
  if (opts.abs) for (let k = 0; k < cosAB.length; k++) cosAB[k] = Math.abs(cosAB[k]);
  return { data: cosAB, rows: nA, cols: nB };
}

/** Row and column maxima of C (or |C|) with their first arg-max, from {@link maxCosines}. */
interface MaxCos {
  /** rowMax[i] = max_j C_ij, length N_A (−Infinity when N_B = 0). */
  readonly rowMax: Float64Array;
  /** rowArg[i] = smallest j attaining rowMax[i], or −1 when N_B = 0. */
  readonly rowArg: Int32Array;
  /** colMax[j] = max_i C_ij, length N_B (−Infinity when N_A = 0). */
  readonly colMax: Float64Array;
  /** colArg[j] = smallest i attaining colMax[j], or −1 when N_A = 0. */
  readonly colArg: Int32Array;
}

interface MaxCosOptions extends CosineOptions {
  /** Rows of A per GEMM block (default 1024; memory is blockRows × N_B × 4 bytes). */
  blockRows?: number;
}

/**
 * Row maxima and column maxima of C = A·Bᵀ (or |C|) in one blocked pass: for each block of T rows
 * of A, one GEMM into a [T × N_B] buffer, then a single sweep updates the block's row maxima and
 * the running column maxima. Ties resolve to the smallest index, as numpy's argmax.
 */
export function maxCosines(aAD: Atoms, bBD: Atoms, opts: MaxCosOptions = {}): MaxCos {
  const [ua, ub] = unitPair(aAD, bBD, opts.nameA, opts.nameB);
  const nA = ua.rows;
  const nB = ub.rows;
  const D = ua.cols;
  const T = opts.blockRows ?? 1024;
  if (!Number.isInteger(T) || T < 1) throw new ShapeError(`maxCosines: blockRows must be an integer ≥ 1, got ${T}`);
  const abs = opts.abs === true;
  const rowMax = new Float64Array(nA).fill(-Infinity);
  const rowArg = new Int32Array(nA).fill(-1);
  const colMax = new Float64Array(nB).fill(-Infinity);
  const colArg = new Int32Array(nB).fill(-1);
  if (nA === 0 || nB === 0) return { rowMax, rowArg, colMax, colArg };

  const engine = getEngine();
  const rowsPerBlock = Math.min(T, nA);
  const cosTB = new Float32Array(rowsPerBlock * nB);
  for (let r0 = 0; r0 < nA; r0 += rowsPerBlock) {
    const t = Math.min(rowsPerBlock, nA - r0);
    const block = cosTB.subarray(0, t * nB);
    engine.gemm(
      false,
      true,
      t,
      nB,
      D,
      1,
      ua.data.subarray(r0 * D, (r0 + t) * D),
      Math.max(1, D),
      ub.data,
      Math.max(1, D),
      0,
      block,
      nB,
    );
    for (let r = 0; r < t; r++) {
      const o = r * nB;
      const i = r0 + r;
      let best = -Infinity;
      let arg = -1;
      for (let j = 0; j < nB; j++) {
        const x = abs ? Math.abs(block[o + j]) : block[o + j];
        if (x > best) {
          best = x;
          arg = j;
        }
        if (x > colMax[j]) {
          colMax[j] = x;
          colArg[j] = i;
        }
      }
      rowMax[i] = best;
      rowArg[i] = arg;
    }
  }
  return { rowMax, rowArg, colMax, colArg };
}
