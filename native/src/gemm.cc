// GEMM: OpenBLAS cblas_sgemm in place on the JS buffers when the build found OpenBLAS
// (native/blas-config.mjs), else a portable blocked GEMM (packed panels, 6×16 register-tile
// micro-kernel in GCC vector extensions, multi-versioned like the other hot kernels).
//
// The built-in GEMM is deterministic for every thread count: threads own disjoint blocks of C and
// each element's k-sum always runs in the same blocked order.
#include <cstring>
#include <omp.h>
#include <vector>

#include "kernels.h"

#ifdef HUSAI_HAVE_OPENBLAS
#include <cblas.h>
#endif

#ifndef HUSAI_BLAS_THREADING
#define HUSAI_BLAS_THREADING "none"
#endif

namespace husai {

#ifdef HUSAI_HAVE_OPENBLAS

void gemm(bool transA, bool transB, i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda, const float* b, i64 ldb,
          float beta, float* c, i64 ldc) {
  // OpenBLAS's GEMM with beta = 0 overwrites C without reading it (NaN in C is ignored), as the
  // interface requires. Newer OpenBLAS releases may forward 1-row / 1-column products to GEMV,
  // whose beta = 0 scaling has changed between releases; zeroing that (small) C first keeps
  // "beta = 0 ignores C" true for every version.
  if (beta == 0.0f && (m == 1 || n == 1)) {
    for (i64 i = 0; i < m; ++i)
      for (i64 j = 0; j < n; ++j) c[i * ldc + j] = 0.0f;
  }
  // Large products: split C into one row block (or column block) per thread and let each thread
  // run a single-threaded sgemm (OpenBLAS's OpenMP build goes sequential inside a parallel region).
  // Measured on the 2-core AVX-512 dev machine with OpenBLAS 0.3.21: [4096×4096]·[4096×512] 178 →
  // 200 GFLOP/s and [4096×512]·[512×4096] 195 → 206, because the threads no longer synchronise per
  // k-panel. Each block's k-sums run in OpenBLAS's own order, so results stay fixed for a given
  // thread count.
  const CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
  const i64 T = omp_in_parallel() ? 1 : omp_get_max_threads();
  const i64 minBlock = 256;
  if (T > 1 && (m >= minBlock * T || n >= minBlock * T)) {
    const bool byRows = m >= minBlock * T;
#pragma omp parallel num_threads(static_cast<int>(T))
    {
      const i64 t = omp_get_thread_num();
      const i64 len = byRows ? m : n;
      const i64 s0 = len * t / T, s1 = len * (t + 1) / T;
      const float* at = byRows ? (transA ? a + s0 : a + s0 * lda) : a;
      const float* bt = byRows ? b : (transB ? b + s0 * ldb : b + s0);
      float* ct = byRows ? c + s0 * ldc : c + s0;
      cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(byRows ? s1 - s0 : m), static_cast<blasint>(byRows ? n : s1 - s0),
                  static_cast<blasint>(k), alpha, at, static_cast<blasint>(lda), bt, static_cast<blasint>(ldb), beta, ct,
                  static_cast<blasint>(ldc));
    }
    return;
  }
  cblas_sgemm(CblasRowMajor, ta, tb, static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

const char* blas_name() { return "openblas"; }
const char* blas_config() { return openblas_get_config(); }
const char* blas_core() { return openblas_get_corename(); }
const char* blas_threading() {
  // Ask the library actually loaded (0 sequential, 1 pthreads, 2 OpenMP); the build-time guess is
  // only a fallback.
  switch (openblas_get_parallel()) {
    case 0: return "none";
    case 1: return "pthreads";
    case 2: return "openmp";
    default: return HUSAI_BLAS_THREADING;
  }
}
void blas_set_threads(int n) { openblas_set_num_threads(n); }

#else  // built-in GEMM

namespace {

constexpr i64 MR = 6;
constexpr i64 NR = 16;
constexpr i64 KC = 256;
constexpr i64 MC = 96;    // multiple of MR
constexpr i64 NC = 1024;  // multiple of NR

/** A stored operand: op(X) = trans ? Xᵀ : X, X row-major with row stride ld. */
struct Op {
  const float* p;
  i64 ld;
  bool trans;
};

/** Packs op(B)[pc:pc+kc, jc+j0:jc+j0+NR] for panels [q0, q1) into Bp (zero padded). */
HUSAI_CLONES void pack_b(Op B, i64 pc, i64 kc, i64 jc, i64 nc, i64 q0, i64 q1, float* Bp) {
  for (i64 q = q0; q < q1; ++q) {
    float* dst = Bp + q * kc * NR;
    const i64 j0 = q * NR;
    const i64 w = std::min(NR, nc - j0);
    if (!B.trans) {
      for (i64 p = 0; p < kc; ++p) {
        float* row = dst + p * NR;
        const float* src = B.p + (pc + p) * B.ld + jc + j0;
        i64 j = 0;
        for (; j < w; ++j) row[j] = src[j];
        for (; j < NR; ++j) row[j] = 0.0f;
      }
    } else {
      // op(B)[p, j] = b[j, p]: read each stored row contiguously.
      for (i64 j = 0; j < w; ++j) {
        const float* src = B.p + (jc + j0 + j) * B.ld + pc;
        for (i64 p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
      }
      for (i64 j = w; j < NR; ++j)
        for (i64 p = 0; p < kc; ++p) dst[p * NR + j] = 0.0f;
    }
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-row panels (zero padded). */
HUSAI_CLONES void pack_a(Op A, i64 ic, i64 mc, i64 pc, i64 kc, float* Ap) {
  for (i64 i0 = 0; i0 < mc; i0 += MR) {
    float* dst = Ap + (i0 / MR) * kc * MR;
    const i64 h = std::min(MR, mc - i0);
    if (A.trans) {
      // op(A)[i, p] = a[p, i]: MR consecutive floats of each stored row.
      for (i64 p = 0; p < kc; ++p) {
        const float* src = A.p + (pc + p) * A.ld + ic + i0;
        i64 r = 0;
        for (; r < h; ++r) dst[p * MR + r] = src[r];
        for (; r < MR; ++r) dst[p * MR + r] = 0.0f;
      }
    } else {
      for (i64 r = 0; r < h; ++r) {
        const float* src = A.p + (ic + i0 + r) * A.ld + pc;
        for (i64 p = 0; p < kc; ++p) dst[p * MR + r] = src[p];
      }
      for (i64 r = h; r < MR; ++r)
        for (i64 p = 0; p < kc; ++p) dst[p * MR + r] = 0.0f;
    }
  }
}

#if defined(__GNUC__)
typedef float v8f __attribute__((vector_size(32)));
#endif

/** tile[MR][NR] = Σ_p Ap[p, :]ᵀ·Bp[p, :] over kc. */
inline void micro_kernel(i64 kc, const float* HUSAI_RESTRICT Ap, const float* HUSAI_RESTRICT Bp, float* HUSAI_RESTRICT tile) {
#if defined(__GNUC__)
  v8f acc[MR][2];
  for (i64 r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = v8f{0, 0, 0, 0, 0, 0, 0, 0};
  for (i64 p = 0; p < kc; ++p) {
    v8f b0, b1;
    std::memcpy(&b0, Bp + p * NR, sizeof(v8f));
    std::memcpy(&b1, Bp + p * NR + 8, sizeof(v8f));
    for (i64 r = 0; r < MR; ++r) {
      const float av = Ap[p * MR + r];
      const v8f a = v8f{av, av, av, av, av, av, av, av};
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
  }
  for (i64 r = 0; r < MR; ++r) {
    std::memcpy(tile + r * NR, &acc[r][0], sizeof(v8f));
    std::memcpy(tile + r * NR + 8, &acc[r][1], sizeof(v8f));
  }
#else
  for (i64 i = 0; i < MR * NR; ++i) tile[i] = 0.0f;
  for (i64 p = 0; p < kc; ++p)
    for (i64 r = 0; r < MR; ++r)
      for (i64 j = 0; j < NR; ++j) tile[r * NR + j] += Ap[p * MR + r] * Bp[p * NR + j];
#endif
}

/** C[ic:ic+mc, jc:jc+nc] (first k-block: ← alpha·AB + beta·C; later: += alpha·AB). */
HUSAI_CLONES void macro_kernel(i64 mc, i64 nc, i64 kc, const float* Ap, const float* Bp, float alpha, float beta, bool first,
                               float* c, i64 ldc) {
  alignas(64) float tile[MR * NR];
  for (i64 j0 = 0; j0 < nc; j0 += NR) {
    const i64 w = std::min(NR, nc - j0);
    const float* bp = Bp + (j0 / NR) * kc * NR;
    for (i64 i0 = 0; i0 < mc; i0 += MR) {
      const i64 h = std::min(MR, mc - i0);
      micro_kernel(kc, Ap + (i0 / MR) * kc * MR, bp, tile);
      for (i64 r = 0; r < h; ++r) {
        float* cr = c + (i0 + r) * ldc + j0;
        const float* tr = tile + r * NR;
        if (!first) {
          for (i64 j = 0; j < w; ++j) cr[j] += alpha * tr[j];
        } else if (beta == 0.0f) {
          for (i64 j = 0; j < w; ++j) cr[j] = alpha * tr[j];
        } else {
          for (i64 j = 0; j < w; ++j) cr[j] = alpha * tr[j] + beta * cr[j];
        }
      }
    }
  }
}

}  // namespace

void gemm(bool transA, bool transB, i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda, const float* b, i64 ldb,
          float beta, float* c, i64 ldc) {
  const Op A{a, lda, transA};
  const Op B{b, ldb, transB};
  const i64 nc_max = std::min(NC, (n + NR - 1) / NR * NR);
  const i64 kc_max = std::min(KC, k);
  std::vector<float> Bp(static_cast<size_t>(nc_max * kc_max));
  const int nt = threads();
  const bool par = nt > 1 && m * n * k >= 8 * kParallelMin;
  for (i64 jc = 0; jc < n; jc += NC) {
    const i64 nc = std::min(NC, n - jc);
    const i64 panels = (nc + NR - 1) / NR;
    for (i64 pc = 0; pc < k; pc += KC) {
      const i64 kc = std::min(KC, k - pc);
      const bool first = pc == 0;
      const i64 blocks = (m + MC - 1) / MC;
      auto run_blocks = [&](i64 b0, i64 b1) {
        std::vector<float> Ap(static_cast<size_t>(MC * kc));
        for (i64 bi = b0; bi < b1; ++bi) {
          const i64 ic = bi * MC;
          const i64 mc = std::min(MC, m - ic);
          pack_a(A, ic, mc, pc, kc, Ap.data());
          macro_kernel(mc, nc, kc, Ap.data(), Bp.data(), alpha, beta, first, c + ic * ldc + jc, ldc);
        }
      };
#ifdef _OPENMP
      if (par) {
#pragma omp parallel num_threads(nt)
        {
          const i64 t = omp_get_thread_num();
          const i64 T = omp_get_num_threads();
          pack_b(B, pc, kc, jc, nc, panels * t / T, panels * (t + 1) / T, Bp.data());
#pragma omp barrier
          run_blocks(blocks * t / T, blocks * (t + 1) / T);
        }
        continue;
      }
#endif
      pack_b(B, pc, kc, jc, nc, 0, panels, Bp.data());
      run_blocks(0, blocks);
    }
  }
}

const char* blas_name() { return "builtin"; }
const char* blas_config() { return "husai built-in blocked GEMM (6x16 micro-kernel, x86-64-v4/v3/baseline clones)"; }
const char* blas_core() { return ""; }
const char* blas_threading() {
#ifdef _OPENMP
  return "openmp";  // the built-in GEMM runs on the addon's own OpenMP pool
#else
  return "none";
#endif
}
void blas_set_threads(int /*n*/) {}

#endif

}  // namespace husai
