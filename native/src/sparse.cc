// Sparse TopK codes: scatter/gather and the sparse decoder with both gradients. These are the
// training hot path (B·k entries of width d instead of a dense B×m by m×d GEMM).
//
// sparseDecode and sparseDecodeGradVals parallelise over batch rows (disjoint outputs).
// sparseDecodeGradW (gW[idx[r,j], :] += vals[r,j]·gOut[r, :]) first buckets the nonzero entries by
// latent with a stable counting sort (order: r, then j — the reference's order), then gives each
// latent row of gW to one thread, which adds its entries in that order. No atomics, no per-thread
// copies of gW, each gW row is read and written once, and every element sees exactly the
// reference's sequence of additions, so the result is the same for every thread count and
// schedule. Arithmetic is float (the reference adds a double product to the float; here the
// product is rounded to float first): equal to the reference within an ulp per addition.
#include <vector>

#include "kernels.h"

namespace husai {

namespace {

HUSAI_CLONES void scatter_rows_k(const float* vals, const std::int32_t* idx, i64 r0, i64 r1, i64 k, float* out,
                                 i64 cols) {
  for (i64 r = r0; r < r1; ++r) {
    float* o = out + r * cols;
    for (i64 c = 0; c < cols; ++c) o[c] = 0.0f;
    for (i64 j = 0; j < k; ++j) o[idx[r * k + j]] = vals[r * k + j];
  }
}

void gather_rows_k(const float* x, i64 cols, const std::int32_t* idx, i64 r0, i64 r1, i64 k, float* out) {
  for (i64 r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    for (i64 j = 0; j < k; ++j) out[r * k + j] = xr[idx[r * k + j]];
  }
}

/** out[r, :] ← beta·out[r, :] + Σ_j vals[r, j]·w[idx[r, j], :], float accumulation in j order. */
HUSAI_CLONES void sparse_decode_k(const float* vals, const std::int32_t* idx, i64 r0, i64 r1, i64 k, const float* w,
                                  i64 d, float* out, double beta) {
  std::vector<float> buf(static_cast<size_t>(d));
  float* HUSAI_RESTRICT acc = buf.data();
  for (i64 r = r0; r < r1; ++r) {
    const float* vr = vals + r * k;
    const std::int32_t* ir = idx + r * k;
    for (i64 c = 0; c < d; ++c) acc[c] = 0.0f;
    i64 j = 0;
    // Four terms per pass over acc; left-to-right additions keep the plain sequential order.
    for (; j + 4 <= k; j += 4) {
      const float v0 = vr[j], v1 = vr[j + 1], v2 = vr[j + 2], v3 = vr[j + 3];
      const float* HUSAI_RESTRICT w0 = w + static_cast<i64>(ir[j]) * d;
      const float* HUSAI_RESTRICT w1 = w + static_cast<i64>(ir[j + 1]) * d;
      const float* HUSAI_RESTRICT w2 = w + static_cast<i64>(ir[j + 2]) * d;
      const float* HUSAI_RESTRICT w3 = w + static_cast<i64>(ir[j + 3]) * d;
      for (i64 c = 0; c < d; ++c) acc[c] = acc[c] + v0 * w0[c] + v1 * w1[c] + v2 * w2[c] + v3 * w3[c];
    }
    for (; j < k; ++j) {
      const float v0 = vr[j];
      const float* HUSAI_RESTRICT w0 = w + static_cast<i64>(ir[j]) * d;
      for (i64 c = 0; c < d; ++c) acc[c] = acc[c] + v0 * w0[c];
    }
    float* HUSAI_RESTRICT o = out + r * d;
    if (beta == 0.0) {
      for (i64 c = 0; c < d; ++c) o[c] = acc[c];
    } else {
      for (i64 c = 0; c < d; ++c) o[c] = static_cast<float>(beta * static_cast<double>(o[c]) + static_cast<double>(acc[c]));
    }
  }
}

/** gVals[r, j] = gOut[r, :]·w[idx[r, j], :] with 16 float lanes. */
HUSAI_CLONES void sparse_decode_grad_vals_k(const float* g_out, const std::int32_t* idx, i64 r0, i64 r1, i64 k,
                                            const float* w, i64 d, float* g_vals) {
  constexpr int L = 16;
  for (i64 r = r0; r < r1; ++r) {
    const float* HUSAI_RESTRICT g = g_out + r * d;
    for (i64 j = 0; j < k; ++j) {
      const float* HUSAI_RESTRICT wr = w + static_cast<i64>(idx[r * k + j]) * d;
      float acc[L];
      for (int l = 0; l < L; ++l) acc[l] = 0.0f;
      i64 c = 0;
      for (; c + L <= d; c += L) {
        for (int l = 0; l < L; ++l) acc[l] += g[c + l] * wr[c + l];
      }
      for (int l = 0; c < d; ++c, ++l) acc[l] += g[c] * wr[c];
      float s8[8];
      for (int l = 0; l < 8; ++l) s8[l] = acc[l] + acc[l + 8];
      g_vals[r * k + j] = ((s8[0] + s8[1]) + (s8[2] + s8[3])) + ((s8[4] + s8[5]) + (s8[6] + s8[7]));
    }
  }
}

/** gW row of one latent += Σ over its entries (in r, j order) of vals[p]·gOut[r, :]. */
HUSAI_CLONES void grad_w_latent(float* HUSAI_RESTRICT gw, const float* g_out, i64 d, const float* vals,
                                const std::int64_t* ents, i64 n, i64 k) {
  i64 e = 0;
  for (; e + 4 <= n; e += 4) {
    const std::int64_t p0 = ents[e], p1 = ents[e + 1], p2 = ents[e + 2], p3 = ents[e + 3];
    const float v0 = vals[p0], v1 = vals[p1], v2 = vals[p2], v3 = vals[p3];
    const float* HUSAI_RESTRICT g0 = g_out + (p0 / k) * d;
    const float* HUSAI_RESTRICT g1 = g_out + (p1 / k) * d;
    const float* HUSAI_RESTRICT g2 = g_out + (p2 / k) * d;
    const float* HUSAI_RESTRICT g3 = g_out + (p3 / k) * d;
    for (i64 c = 0; c < d; ++c) gw[c] = gw[c] + v0 * g0[c] + v1 * g1[c] + v2 * g2[c] + v3 * g3[c];
  }
  for (; e < n; ++e) {
    const std::int64_t p0 = ents[e];
    const float v0 = vals[p0];
    const float* HUSAI_RESTRICT g0 = g_out + (p0 / k) * d;
    for (i64 c = 0; c < d; ++c) gw[c] = gw[c] + v0 * g0[c];
  }
}

}  // namespace

void scatter_rows(const float* vals, const std::int32_t* idx, i64 rows, i64 k, float* out, i64 cols) {
  parallel_for(rows, rows * (cols + k), [&](i64 r0, i64 r1) { scatter_rows_k(vals, idx, r0, r1, k, out, cols); });
}

void gather_rows(const float* x, i64 cols, const std::int32_t* idx, i64 rows, i64 k, float* out) {
  parallel_for(rows, rows * k, [&](i64 r0, i64 r1) { gather_rows_k(x, cols, idx, r0, r1, k, out); });
}

void sparse_decode(const float* vals, const std::int32_t* idx, i64 rows, i64 k, const float* w, i64 /*m*/, i64 d,
                   float* out, double beta) {
  parallel_for(rows, rows * (k + 1) * d, [&](i64 r0, i64 r1) { sparse_decode_k(vals, idx, r0, r1, k, w, d, out, beta); });
}

void sparse_decode_grad_vals(const float* g_out, const std::int32_t* idx, i64 rows, i64 k, const float* w, i64 /*m*/,
                             i64 d, float* g_vals) {
  parallel_for(rows, rows * k * d, [&](i64 r0, i64 r1) { sparse_decode_grad_vals_k(g_out, idx, r0, r1, k, w, d, g_vals); });
}

void sparse_decode_grad_w(const float* vals, const std::int32_t* idx, i64 rows, i64 k, const float* g_out, i64 m,
                          i64 d, float* g_w) {
  const i64 nnz = rows * k;
  if (nnz == 0 || d == 0) return;
  // Stable counting sort of the nonzero entries by latent (the reference skips vals == 0 too).
  std::vector<std::int64_t> start(static_cast<size_t>(m + 1), 0);
  for (i64 p = 0; p < nnz; ++p) {
    if (vals[p] != 0.0f) ++start[idx[p] + 1];
  }
  for (i64 i = 0; i < m; ++i) start[i + 1] += start[i];
  const i64 total = start[m];
  if (total == 0) return;
  std::vector<std::int64_t> ents(static_cast<size_t>(total));
  {
    std::vector<std::int64_t> pos(start.begin(), start.end() - 1);
    for (i64 p = 0; p < nnz; ++p) {
      if (vals[p] != 0.0f) ents[pos[idx[p]]++] = p;
    }
  }
  const std::int64_t* S = start.data();
  const std::int64_t* E = ents.data();
  auto latent = [&](i64 i) {
    const i64 n = S[i + 1] - S[i];
    if (n > 0) grad_w_latent(g_w + i * d, g_out, d, vals, E + S[i], n, k);
  };
  int nt = threads();
#ifdef _OPENMP
  if (nt > 1 && m > 1 && total * d >= kParallelMin) {
    // Dynamic scheduling balances popular and rare latents; it cannot change the result, since
    // each gW row is computed by exactly one thread in a fixed order.
#pragma omp parallel for schedule(dynamic, 16) num_threads(nt)
    for (i64 i = 0; i < m; ++i) latent(i);
    return;
  }
#endif
  (void)nt;
  for (i64 i = 0; i < m; ++i) latent(i);
}

}  // namespace husai
