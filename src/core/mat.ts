/**
 * Mat: a dense row-major float32 matrix — the plain data type that flows between layers
 * (DESIGN.md, "The flow"). `data` may be a view into a larger buffer; `data.length` is always
 * exactly rows × cols.
 */
import { ShapeError, fmtShape } from './errors.js';

export interface Mat {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** A zero-filled rows × cols matrix. */
export function zeros(rows: number, cols: number): Mat {
  checkDims(rows, cols);
  return { data: new Float32Array(rows * cols), rows, cols };
}

/** Wraps existing storage; throws if its length is not rows × cols. */
export function matFrom(data: Float32Array, rows: number, cols: number): Mat {
  checkDims(rows, cols);
  if (data.length !== rows * cols) {
    throw new ShapeError(`matFrom: ${data.length} values cannot be shaped ${fmtShape(rows, cols)} (needs ${rows * cols})`);
  }
  return { data, rows, cols };
}

/** Row r as a view (no copy). */
export function row(m: Mat, r: number): Float32Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/** Rows [start, end) as a view (no copy). */
export function rowSlice(m: Mat, start: number, end: number): Mat {
  if (start < 0 || end > m.rows || start > end) {
    throw new ShapeError(`rowSlice: rows [${start}, ${end}) out of range for ${fmtShape(m.rows, m.cols)}`);
  }
  return { data: m.data.subarray(start * m.cols, end * m.cols), rows: end - start, cols: m.cols };
}

/** A deep copy with its own storage. */
export function clone(m: Mat): Mat {
  return { data: new Float32Array(m.data), rows: m.rows, cols: m.cols };
}

/** The transpose, copied. */
export function transpose(m: Mat): Mat {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out[c * m.rows + r] = m.data[r * m.cols + c];
  }
  return { data: out, rows: m.cols, cols: m.rows };
}

function checkDims(rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new ShapeError(`matrix dimensions must be non-negative integers, got ${fmtShape(rows, cols)}`);
  }
}
