/**
 * Mat: a dense row-major float32 matrix — the plain data type that flows between layers
 * (docs/ARCHITECTURE.md, "The flow"). `data` may be a view into a larger buffer; `data.length` is always
 * exactly rows × cols.
 */
import { ShapeError, fmtShape } from './errors.js';

export interface Mat {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** Wraps existing storage; throws if its length is not rows × cols. */
export function matFrom(data: Float32Array, rows: number, cols: number): Mat {
  checkDims(rows, cols);
  if (data.length !== rows * cols) {
    throw new ShapeError(
      `matFrom: ${data.length} values cannot be shaped ${fmtShape(rows, cols)} (needs ${rows * cols})`,
    );
  }
  return { data, rows, cols };
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
