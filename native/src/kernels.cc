// Broadcasts, row/column reductions, elementwise kernels, scalar reductions and Adam.
//
// Rounding contract (see binding.gyp: -ffp-contract=off, no -ffast-math):
// - Where the reference does float·double arithmetic (a JS number times a Float32Array element),
//   these kernels do the same operations in double, in the same order, and round once to float,
//   so addRowVec, colSum (same summation order too), axpy, scale, relu, reluBackward and adam
//   match the reference bit for bit (adam up to libm's pow() vs V8's Math.pow in the bias
//   correction; test/engine/native.test.ts checks the others byte for byte).
//   Float fast paths are used only where they are provably identical (x ± v, x·alpha with alpha a
//   float: double rounding of +,−,× from float operands is innocuous since 53 ≥ 2·24 + 2).
// - Row sums of squares / dot products (rowNorms, normalizeRows, projectOutRows) use 8 double
//   lanes (vectorisable) instead of the reference's single running sum: same precision class,
//   different last bits.
// - Scalar reductions (sumSq, sumSqDiff, dot) split the input into fixed 4096-element chunks,
//   sum each chunk in 8 double lanes, then add the chunk sums in order: the result does not depend
//   on the thread count.
#include <cmath>
#include <vector>

#include "kernels.h"

namespace husai {

namespace {

// ── helpers (inlined into the cloned callers, so they take the caller's ISA) ────────────────

inline double lanes_sum(const double* acc) {
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

inline double sumsq_lanes(const float* HUSAI_RESTRICT x, i64 n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  i64 i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) {
      const double t = x[i + l];
      acc[l] += t * t;
    }
  }
  for (int l = 0; i < n; ++i, ++l) {
    const double t = x[i];
    acc[l] += t * t;
  }
  return lanes_sum(acc);
}

inline double dot_lanes(const float* HUSAI_RESTRICT a, const float* HUSAI_RESTRICT b, i64 n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  i64 i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) acc[l] += static_cast<double>(a[i + l]) * static_cast<double>(b[i + l]);
  }
  for (int l = 0; i < n; ++i, ++l) acc[l] += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return lanes_sum(acc);
}

inline double sqdiff_lanes(const float* HUSAI_RESTRICT a, const float* HUSAI_RESTRICT b, i64 n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  i64 i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) {
      const double t = static_cast<double>(a[i + l]) - static_cast<double>(b[i + l]);
      acc[l] += t * t;
    }
  }
  for (int l = 0; i < n; ++i, ++l) {
    const double t = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    acc[l] += t * t;
  }
  return lanes_sum(acc);
}

/** True when alpha is exactly a float, so float multiplication by it rounds like the reference. */
inline bool is_float(double alpha) { return static_cast<double>(static_cast<float>(alpha)) == alpha; }

// ── cloned per-range kernels ────────────────────────────────────────────────────────────────

HUSAI_CLONES void add_row_vec_pm1(float* x, i64 r0, i64 r1, i64 cols, const float* HUSAI_RESTRICT v, float sign) {
  for (i64 r = r0; r < r1; ++r) {
    float* HUSAI_RESTRICT xr = x + r * cols;
    for (i64 c = 0; c < cols; ++c) xr[c] = xr[c] + sign * v[c];
  }
}

HUSAI_CLONES void add_row_vec_d(float* x, i64 r0, i64 r1, i64 cols, const double* HUSAI_RESTRICT av) {
  for (i64 r = r0; r < r1; ++r) {
    float* HUSAI_RESTRICT xr = x + r * cols;
    for (i64 c = 0; c < cols; ++c) xr[c] = static_cast<float>(static_cast<double>(xr[c]) + av[c]);
  }
}

/** Column sums of x[:, c0:c1) in the reference's order (row by row, double accumulators). */
HUSAI_CLONES void col_sum_block(const float* HUSAI_RESTRICT x, i64 rows, i64 cols, i64 c0, i64 c1,
                                float* HUSAI_RESTRICT out, double alpha, double beta) {
  // Wide blocks (up to 64 KiB of accumulators, L2-resident) keep the reads of x long and sequential.
  constexpr i64 kBlock = 8192;
  std::vector<double> buf(static_cast<size_t>(std::min(kBlock, c1 - c0)));
  double* HUSAI_RESTRICT acc = buf.data();
  for (i64 b0 = c0; b0 < c1; b0 += kBlock) {
    const i64 w = std::min(kBlock, c1 - b0);
    for (i64 c = 0; c < w; ++c) acc[c] = 0.0;
    for (i64 r = 0; r < rows; ++r) {
      const float* HUSAI_RESTRICT xr = x + r * cols + b0;
      for (i64 c = 0; c < w; ++c) acc[c] += static_cast<double>(xr[c]);
    }
    float* HUSAI_RESTRICT o = out + b0;
    if (beta == 0.0) {
      for (i64 c = 0; c < w; ++c) o[c] = static_cast<float>(alpha * acc[c]);
    } else {
      for (i64 c = 0; c < w; ++c) o[c] = static_cast<float>(beta * static_cast<double>(o[c]) + alpha * acc[c]);
    }
  }
}

HUSAI_CLONES void row_norms_k(const float* x, i64 r0, i64 r1, i64 cols, float* out) {
  for (i64 r = r0; r < r1; ++r) out[r] = static_cast<float>(std::sqrt(sumsq_lanes(x + r * cols, cols)));
}

HUSAI_CLONES void normalize_rows_k(float* x, i64 r0, i64 r1, i64 cols, float* norms_out) {
  for (i64 r = r0; r < r1; ++r) {
    float* HUSAI_RESTRICT xr = x + r * cols;
    const double norm = std::sqrt(sumsq_lanes(xr, cols));
    if (norms_out) norms_out[r] = static_cast<float>(norm);
    const double inv = 1.0 / std::max(norm, 1e-12);
    for (i64 c = 0; c < cols; ++c) xr[c] = static_cast<float>(static_cast<double>(xr[c]) * inv);
  }
}

HUSAI_CLONES void project_out_rows_k(const float* w, float* g, i64 r0, i64 r1, i64 cols) {
  for (i64 r = r0; r < r1; ++r) {
    const float* HUSAI_RESTRICT wr = w + r * cols;
    float* HUSAI_RESTRICT gr = g + r * cols;
    const double ww = sumsq_lanes(wr, cols);
    if (ww == 0.0) continue;
    const double s = dot_lanes(gr, wr, cols) / ww;
    for (i64 c = 0; c < cols; ++c) gr[c] = static_cast<float>(static_cast<double>(gr[c]) - s * static_cast<double>(wr[c]));
  }
}

/** Per-row max with the reference's rule: first index of the largest non-NaN value; NaN only if all are. */
void row_max_k(const float* x, i64 r0, i64 r1, i64 cols, float* val_out, std::int32_t* idx_out) {
  for (i64 r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float best = xr[0];
    i64 bi = 0;
    for (i64 c = 1; c < cols; ++c) {
      const float v = xr[c];
      if (v > best || (best != best && v == v)) {
        best = v;
        bi = c;
      }
    }
    val_out[r] = best;
    idx_out[r] = static_cast<std::int32_t>(bi);
  }
}

HUSAI_CLONES void col_nonzero_block(const float* HUSAI_RESTRICT x, i64 rows, i64 cols, i64 c0, i64 c1,
                                    std::int32_t* HUSAI_RESTRICT counts) {
  constexpr i64 kBlock = 8192;
  std::vector<std::int32_t> buf(static_cast<size_t>(std::min(kBlock, c1 - c0)));
  std::int32_t* HUSAI_RESTRICT acc = buf.data();
  for (i64 b0 = c0; b0 < c1; b0 += kBlock) {
    const i64 w = std::min(kBlock, c1 - b0);
    for (i64 c = 0; c < w; ++c) acc[c] = 0;
    for (i64 r = 0; r < rows; ++r) {
      const float* HUSAI_RESTRICT xr = x + r * cols + b0;
      for (i64 c = 0; c < w; ++c) acc[c] += xr[c] != 0.0f ? 1 : 0;
    }
    for (i64 c = 0; c < w; ++c) counts[b0 + c] += acc[c];
  }
}

HUSAI_CLONES void relu_k(const float* x, float* out, i64 n) {
  for (i64 i = 0; i < n; ++i) {
    const float t = x[i];
    out[i] = t > 0.0f ? t : 0.0f;
  }
}

HUSAI_CLONES void relu_backward_k(const float* pre, const float* g_out, float* g_in, i64 r0, i64 r1, i64 cols,
                                  const float* col_add) {
  for (i64 r = r0; r < r1; ++r) {
    const float* p = pre + r * cols;
    const float* go = g_out + r * cols;
    float* gi = g_in + r * cols;
    // Loads are unconditional and the mask is a select, so the loops vectorise on every ISA.
    if (col_add) {
      for (i64 c = 0; c < cols; ++c) {
        const float g = go[c] + col_add[c];
        gi[c] = p[c] > 0.0f ? g : 0.0f;
      }
    } else {
      // "+ 0.0f" is not a no-op: it turns −0 into +0, as the reference's `gOut + 0` does.
      for (i64 c = 0; c < cols; ++c) {
        const float g = go[c] + 0.0f;
        gi[c] = p[c] > 0.0f ? g : 0.0f;
      }
    }
  }
}

HUSAI_CLONES void axpy_pm1(float sign, const float* HUSAI_RESTRICT x, float* HUSAI_RESTRICT y, i64 n) {
  for (i64 i = 0; i < n; ++i) y[i] = y[i] + sign * x[i];
}

HUSAI_CLONES void axpy_d(double alpha, const float* HUSAI_RESTRICT x, float* HUSAI_RESTRICT y, i64 n) {
  for (i64 i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<double>(y[i]) + alpha * static_cast<double>(x[i]));
}

HUSAI_CLONES void scale_f(float* HUSAI_RESTRICT x, float alpha, i64 n) {
  for (i64 i = 0; i < n; ++i) x[i] = x[i] * alpha;
}

HUSAI_CLONES void scale_d(float* HUSAI_RESTRICT x, double alpha, i64 n) {
  for (i64 i = 0; i < n; ++i) x[i] = static_cast<float>(static_cast<double>(x[i]) * alpha);
}

constexpr i64 kChunk = 4096;

HUSAI_CLONES void sum_sq_chunks(const float* x, i64 n, i64 c0, i64 c1, double* partial) {
  for (i64 ci = c0; ci < c1; ++ci) {
    const i64 b = ci * kChunk;
    partial[ci] = sumsq_lanes(x + b, std::min(kChunk, n - b));
  }
}

HUSAI_CLONES void sq_diff_chunks(const float* a, const float* b, i64 n, i64 c0, i64 c1, double* partial) {
  for (i64 ci = c0; ci < c1; ++ci) {
    const i64 o = ci * kChunk;
    partial[ci] = sqdiff_lanes(a + o, b + o, std::min(kChunk, n - o));
  }
}

HUSAI_CLONES void dot_chunks(const float* a, const float* b, i64 n, i64 c0, i64 c1, double* partial) {
  for (i64 ci = c0; ci < c1; ++ci) {
    const i64 o = ci * kChunk;
    partial[ci] = dot_lanes(a + o, b + o, std::min(kChunk, n - o));
  }
}

/** Sums per-chunk partials in chunk order (independent of how chunks were spread over threads). */
template <class ChunkFn>
double chunked_sum(i64 n, ChunkFn&& fn) {
  if (n <= 0) return 0.0;
  const i64 nchunks = (n + kChunk - 1) / kChunk;
  if (nchunks == 1) {
    double p = 0.0;
    fn(0, 1, &p);
    return p;
  }
  std::vector<double> partial(static_cast<size_t>(nchunks));
  parallel_for(nchunks, n, [&](i64 c0, i64 c1) { fn(c0, c1, partial.data()); });
  double s = 0.0;
  for (double p : partial) s += p;
  return s;
}

struct AdamScalars {
  double lr, beta1, beta2, eps, bc1, bc2, decay, one_minus_b1, one_minus_b2;
};

/** The reference's formula operation for operation (JS numbers are doubles; m, v are re-read as floats). */
HUSAI_CLONES void adam_k(float* HUSAI_RESTRICT param, const float* HUSAI_RESTRICT grad, float* HUSAI_RESTRICT m,
                         float* HUSAI_RESTRICT v, i64 n, const AdamScalars* s_) {
  const AdamScalars s = *s_;
  for (i64 i = 0; i < n; ++i) {
    const double g = grad[i];
    const float mf = static_cast<float>(s.beta1 * static_cast<double>(m[i]) + s.one_minus_b1 * g);
    const float vf = static_cast<float>(s.beta2 * static_cast<double>(v[i]) + s.one_minus_b2 * g * g);
    m[i] = mf;
    v[i] = vf;
    const double m_hat = static_cast<double>(mf) / s.bc1;
    const double v_hat = static_cast<double>(vf) / s.bc2;
    param[i] = static_cast<float>(static_cast<double>(param[i]) * s.decay - (s.lr * m_hat) / (std::sqrt(v_hat) + s.eps));
  }
}

}  // namespace

// ── drivers ─────────────────────────────────────────────────────────────────────────────────

void add_row_vec(float* x, i64 rows, i64 cols, const float* v, double alpha) {
  if (alpha == 1.0 || alpha == -1.0) {
    const float sign = static_cast<float>(alpha);
    parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { add_row_vec_pm1(x, r0, r1, cols, v, sign); });
    return;
  }
  std::vector<double> av(static_cast<size_t>(cols));
  for (i64 c = 0; c < cols; ++c) av[c] = alpha * static_cast<double>(v[c]);
  parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { add_row_vec_d(x, r0, r1, cols, av.data()); });
}

void col_sum(const float* x, i64 rows, i64 cols, float* out, double alpha, double beta) {
  // Parallel over column ranges: each thread sums its columns over all rows in row order, exactly
  // the reference's summation order, independent of the thread count.
  parallel_for(cols, rows * cols, [&](i64 c0, i64 c1) { col_sum_block(x, rows, cols, c0, c1, out, alpha, beta); });
}

void row_norms(const float* x, i64 rows, i64 cols, float* out) {
  parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { row_norms_k(x, r0, r1, cols, out); });
}

void normalize_rows(float* x, i64 rows, i64 cols, float* norms_out) {
  parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { normalize_rows_k(x, r0, r1, cols, norms_out); });
}

void project_out_rows(const float* w, float* g, i64 rows, i64 cols) {
  parallel_for(rows, 2 * rows * cols, [&](i64 r0, i64 r1) { project_out_rows_k(w, g, r0, r1, cols); });
}

void row_max(const float* x, i64 rows, i64 cols, float* val_out, std::int32_t* idx_out) {
  parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { row_max_k(x, r0, r1, cols, val_out, idx_out); });
}

void col_nonzero_count(const float* x, i64 rows, i64 cols, std::int32_t* counts) {
  parallel_for(cols, rows * cols, [&](i64 c0, i64 c1) { col_nonzero_block(x, rows, cols, c0, c1, counts); });
}

void relu(const float* x, float* out, i64 n) {
  parallel_for(n, n, [&](i64 b, i64 e) { relu_k(x + b, out + b, e - b); });
}

void relu_backward(const float* pre, const float* g_out, float* g_in, i64 rows, i64 cols, const float* col_add) {
  parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { relu_backward_k(pre, g_out, g_in, r0, r1, cols, col_add); });
}

void axpy(double alpha, const float* x, float* y, i64 n) {
  if (alpha == 1.0 || alpha == -1.0) {
    const float sign = static_cast<float>(alpha);
    parallel_for(n, n, [&](i64 b, i64 e) { axpy_pm1(sign, x + b, y + b, e - b); });
  } else {
    parallel_for(n, n, [&](i64 b, i64 e) { axpy_d(alpha, x + b, y + b, e - b); });
  }
}

void scale(float* x, double alpha, i64 n) {
  if (is_float(alpha)) {
    const float af = static_cast<float>(alpha);
    parallel_for(n, n, [&](i64 b, i64 e) { scale_f(x + b, af, e - b); });
  } else {
    parallel_for(n, n, [&](i64 b, i64 e) { scale_d(x + b, alpha, e - b); });
  }
}

double sum_sq(const float* x, i64 n) {
  return chunked_sum(n, [&](i64 c0, i64 c1, double* p) { sum_sq_chunks(x, n, c0, c1, p); });
}

double sum_sq_diff(const float* a, const float* b, i64 n) {
  return chunked_sum(n, [&](i64 c0, i64 c1, double* p) { sq_diff_chunks(a, b, n, c0, c1, p); });
}

double dot(const float* a, const float* b, i64 n) {
  return chunked_sum(n, [&](i64 c0, i64 c1, double* p) { dot_chunks(a, b, n, c0, c1, p); });
}

void adam(float* param, const float* grad, float* m, float* v, i64 n, double lr, double beta1, double beta2,
          double eps, double step, double weight_decay) {
  AdamScalars s;
  s.lr = lr;
  s.beta1 = beta1;
  s.beta2 = beta2;
  s.eps = eps;
  s.bc1 = 1.0 - std::pow(beta1, step);
  s.bc2 = 1.0 - std::pow(beta2, step);
  s.decay = 1.0 - lr * weight_decay;
  s.one_minus_b1 = 1.0 - beta1;
  s.one_minus_b2 = 1.0 - beta2;
  parallel_for(n, 4 * n, [&](i64 b, i64 e) { adam_k(param + b, grad + b, m + b, v + b, e - b, &s); });
}

}  // namespace husai
