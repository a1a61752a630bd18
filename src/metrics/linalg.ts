/**
 * Dense float64 linear algebra the analysis metrics need and the Engine does not offer: the
 * symmetric eigendecomposition (subspaces, effective rank, SVCCA's PCA; docs/SCIENCE.md §3 "Subspace")
 * and a thin SVD (principal angles, orthonormal bases, canonical correlations).
 *
 * Written by hand because no maintained TypeScript package gives float64 eigh/SVD with documented
 * accuracy and no native dependency (docs/ARCHITECTURE.md, "Dependencies"); the matrices here are small
 * (k × k overlaps, d × d Grams, live-latent covariances), so O(n³) in plain TypeScript is enough.
 *
 * - `symEig`: Householder tridiagonalisation + implicit QL with Wilkinson-like shifts (EISPACK
 *   tred2/tql2 in the public-domain JAMA form). Backward stable: the computed pairs are exact for
 * A + E with ‖E‖₂ ≲ c·n·ε·‖A‖₂ (ε = 2⁻⁵²), so every eigenvalue is within ~n·ε·‖A‖₂ of
 * the truth
 *   and an eigenvector's angular error is ~n·ε·‖A‖₂ / gap. Small eigenvalues have only that
 *   *absolute* accuracy. Cost ≈ 9n³ flops with vectors, ≈ 1.3n³ without; measured in Node 20:
 *   0.7 s at n = 512, 7.4 s at n = 1024 with vectors (1.7 s without).
 * - `thinSvd`: one-sided Jacobi (Hestenes 1958; Demmel & Veselić 1992) on the columns. It is
 *   accurate in the *relative* sense — each singular value to ~n·ε·κ(D-scaled) of itself, far
 *   better than forming AᵀA (which squares the condition number) — at ≈ 10 sweeps × 2n²m flops.
 *
 * Storage: row-major Float64Array. Shape legend: N = order of a symmetric matrix, R × C = a
 * general matrix, K = min(R, C) = its thin rank.
 * Conventions: values are sorted descending; each returned vector is sign-fixed so that its
 * largest-magnitude component is positive (first such component on ties), making outputs
 * deterministic and comparable with numpy after the same fix.
 */
import { NumericError, ShapeError, fmtShape } from '../core/errors.js';

/** Eigendecomposition of a symmetric N × N matrix. */
export interface SymEig {
  readonly n: number;
  /** Eigenvalues, descending. [N] */
  readonly values: Float64Array;
  /**
   * Row i is the unit eigenvector of values[i] (so this is Vᵀ for A = V·diag·Vᵀ). [N × N]; null when not
   * requested.
   */
  readonly vectorsNN: Float64Array | null;
}

/** Thin SVD A = U·diag(s)·Vᵀ of an R × C matrix, K = min(R, C). */
interface Svd {
  readonly rows: number;
  readonly cols: number;
  readonly k: number;
  /** Singular values, descending, ≥ 0. [K] */
  readonly s: Float64Array;
  /** Left singular vectors as columns. [R × K] */
  readonly uRK: Float64Array;
  /** Right singular vectors as columns. [C × K] */
  readonly vCK: Float64Array;
}

const EPS = 2 ** -52;

/**
 * Eigenvalues (descending) and, unless `wantVectors` is false, eigenvectors of the symmetric
 * N × N matrix `aNN` (row-major; only symmetry is assumed, the lower triangle is what is read).
 * Throws ShapeError on a wrong length and NumericError on NaN/Inf or QL non-convergence.
 */
export function symEig(aNN: ArrayLike<number>, n: number, wantVectors = true): SymEig {
  if (!Number.isInteger(n) || n < 0 || aNN.length !== n * n) {
    throw new ShapeError(`symEig: ${aNN.length} values cannot be a symmetric ${fmtShape(n, n)} matrix`);
  }
  // W holds Vᵀ (W[j*n + k] = V[k][j]) so that the hot loops below run along contiguous rows.
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const x = aNN[i * n + j];
      if (!Number.isFinite(x)) throw new NumericError(`symEig: entry [${i}, ${j}] of ${fmtShape(n, n)} is ${x}`);
      w[i * n + j] = x;
      w[j * n + i] = x;
    }
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { n, values: d, vectorsNN: wantVectors ? w : null };
  tred2(w, n, d, e, wantVectors);
  tql2(w, n, d, e, wantVectors);

  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => d[q] - d[p] || p - q);
  const values = new Float64Array(n);
  for (let t = 0; t < n; t++) values[t] = d[order[t]];
  if (!wantVectors) return { n, values, vectorsNN: null };
  const vectorsNN = new Float64Array(n * n);
  for (let t = 0; t < n; t++) {
    const src = order[t] * n;
    vectorsNN.set(w.subarray(src, src + n), t * n);
    fixSign(vectorsNN, t * n, 1, n);
  }
  return { n, values, vectorsNN };
}

/** Householder reduction to tridiagonal form (JAMA tred2, with V stored transposed in w). */
function tred2(w: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        w[i * n + j] = f;
        const wj = j * n;
        g = e[j] + w[wj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += w[wj + k] * d[k];
          e[k] += w[wj + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const wj = j * n;
        for (let k = j; k <= i - 1; k++) w[wj + k] -= f * e[k] + g * d[k];
        d[j] = w[wj + i - 1];
        w[wj + i] = 0;
      }
    }
    d[i] = h;
  }
  if (!wantVectors) {
    // Without accumulation the tridiagonal's diagonal is the diagonal of the reduced matrix.
    for (let i = 0; i < n; i++) d[i] = w[i * n + i];
    e[0] = 0;
    return;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i];
    w[i * n + i] = 1;
    const h = d[i + 1];
    const wi1 = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[wi1 + k] / h;
      for (let j = 0; j <= i; j++) {
        const wj = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[wi1 + k] * w[wj + k];
        for (let k = 0; k <= i; k++) w[wj + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) w[wi1 + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1];
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e) (JAMA tql2), rotating the rows of w (= Vᵀ) alongside. */
function tql2(w: Float64Array, n: number, d: Float64Array, e: Float64Array, wantVectors: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60)
          throw new NumericError(
            `symEig: implicit QL did not converge for eigenvalue ${l} of ${n} after 60 iterations`,
          );
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (wantVectors) {
            const wi = i * n;
            const wi1 = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const hk = w[wi1 + k];
              w[wi1 + k] = s * w[wi + k] + c * hk;
              w[wi + k] = c * w[wi + k] - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * Thin SVD of the R × C row-major matrix `aRC` by one-sided Jacobi (see the file header).
 * Columns of U belonging to exactly zero singular values are completed to an orthonormal set.
 */
export function thinSvd(aRC: ArrayLike<number>, rows: number, cols: number): Svd {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || aRC.length !== rows * cols) {
    throw new ShapeError(`thinSvd: ${aRC.length} values cannot be shaped ${fmtShape(rows, cols)}`);
  }
  for (let i = 0; i < aRC.length; i++) {
    if (!Number.isFinite(aRC[i])) {
      throw new NumericError(
        `thinSvd: entry [${Math.floor(i / cols)}, ${i % cols}] of ${fmtShape(rows, cols)} is ${aRC[i]}`,
      );
    }
  }
  // Work on the orientation with R ≥ C: the columns of that matrix are rotated until orthogonal.
  const flip = rows < cols;
  const r = flip ? cols : rows; // length of each working column
  const c = flip ? rows : cols; // number of working columns (= K)
  // colsCR[j*r + t] = entry t of working column j.
  const colsCR = new Float64Array(c * r);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = aRC[i * cols + j];
      if (flip) colsCR[i * r + j] = x;
      else colsCR[j * r + i] = x;
    }
  }
  const vCC = new Float64Array(c * c); // row j = accumulated right rotation column j
  for (let j = 0; j < c; j++) vCC[j * c + j] = 1;

  const tol = EPS * Math.max(r, 1);
  let converged = c < 2;
  for (let sweep = 0; sweep < 80 && !converged; sweep++) {
    let rotations = 0;
    for (let p = 0; p < c - 1; p++) {
      const op = p * r;
      for (let q = p + 1; q < c; q++) {
        const oq = q * r;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let t = 0; t < r; t++) {
          const x = colsCR[op + t];
          const y = colsCR[oq + t];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (alpha === 0 || beta === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha * beta)) continue;
        rotations++;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t);
        const sn = cs * t;
        for (let k = 0; k < r; k++) {
          const x = colsCR[op + k];
          const y = colsCR[oq + k];
          colsCR[op + k] = cs * x - sn * y;
          colsCR[oq + k] = sn * x + cs * y;
        }
        const vp = p * c;
        const vq = q * c;
        for (let k = 0; k < c; k++) {
          const x = vCC[vp + k];
          const y = vCC[vq + k];
          vCC[vp + k] = cs * x - sn * y;
          vCC[vq + k] = sn * x + cs * y;
        }
      }
    }
    converged = rotations === 0;
  }
  if (!converged)
    throw new NumericError(`thinSvd: one-sided Jacobi did not converge in 80 sweeps for ${fmtShape(rows, cols)}`);

  const norms = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    let s = 0;
    for (let t = 0; t < r; t++) s += colsCR[j * r + t] ** 2;
    norms[j] = Math.sqrt(s);
  }
  const order = Array.from({ length: c }, (_, i) => i).sort((p, q) => norms[q] - norms[p] || p - q);
  const s = new Float64Array(c);
  const left = new Float64Array(c * r); // row t = unit left vector t (length r)
  const right = new Float64Array(c * c); // row t = right vector t (length c)
  const zero: number[] = [];
  for (let t = 0; t < c; t++) {
    const j = order[t];
    s[t] = norms[j];
    for (let k = 0; k < c; k++) right[t * c + k] = vCC[j * c + k];
    if (norms[j] > 0) {
      for (let k = 0; k < r; k++) left[t * r + k] = colsCR[j * r + k] / norms[j];
    } else {
      zero.push(t);
    }
  }
  completeOrthonormal(left, r, zero);
  // Back to the caller's orientation (U [rows × K], V [cols × K] as columns), with the sign fix
  // applied to the caller's left vectors and carried to the right ones.
  const [uRows, vRows] = flip ? [right, left] : [left, right];
  for (let t = 0; t < c; t++) {
    if (fixSign(uRows, t * rows, 1, rows) < 0)
      for (let k = 0; k < cols; k++) vRows[t * cols + k] = -vRows[t * cols + k];
  }
  const uRK = new Float64Array(rows * c);
  const vCK = new Float64Array(cols * c);
  for (let t = 0; t < c; t++) {
    for (let i = 0; i < rows; i++) uRK[i * c + t] = uRows[t * rows + i];
    for (let i = 0; i < cols; i++) vCK[i * c + t] = vRows[t * cols + i];
  }
  return { rows, cols, k: c, s, uRK, vCK };
}

/**
 * Replaces rows `which` of the row-orthonormal set `rowsKR` (row length r) by unit vectors
 * orthogonal to all other rows (Gram–Schmidt, twice, over the standard basis).
 */
function completeOrthonormal(rowsKR: Float64Array, r: number, which: number[]): void {
  if (which.length === 0) return;
  const k = rowsKR.length / r;
  const filled = new Uint8Array(k).fill(1);
  for (const t of which) filled[t] = 0;
  let basis = 0;
  for (const t of which) {
    for (; basis < r; basis++) {
      const v = new Float64Array(r);
      v[basis] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (let o = 0; o < k; o++) {
          if (!filled[o]) continue;
          let dot = 0;
          for (let x = 0; x < r; x++) dot += v[x] * rowsKR[o * r + x];
          for (let x = 0; x < r; x++) v[x] -= dot * rowsKR[o * r + x];
        }
      }
      let nrm = 0;
      for (let x = 0; x < r; x++) nrm += v[x] * v[x];
      nrm = Math.sqrt(nrm);
      if (nrm > 0.5) {
        for (let x = 0; x < r; x++) rowsKR[t * r + x] = v[x] / nrm;
        filled[t] = 1;
        basis++;
        break;
      }
    }
  }
}

/**
 * Flips the strided vector x[off + i·stride], i < n, so that its largest-magnitude entry (first on
 * ties) is positive. Returns the sign applied (+1 or −1).
 */
function fixSign(x: Float64Array, off: number, stride: number, n: number): 1 | -1 {
  let best = 0;
  let bi = -1;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[off + i * stride]);
    if (a > best) {
      best = a;
      bi = i;
    }
  }
  if (bi < 0 || x[off + bi * stride] > 0) return 1;
  for (let i = 0; i < n; i++) x[off + i * stride] = -x[off + i * stride];
  return -1;
}
