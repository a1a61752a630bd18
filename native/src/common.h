// Shared helpers for husai's native kernels: index type, ISA multi-versioning, and the one
// parallel-for used everywhere (fixed, contiguous, disjoint ranges, so results never depend on
// scheduling).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace husai {

using i64 = std::int64_t;

// Hot inner kernels are compiled three times and chosen once at load time (GNU ifunc): x86-64-v4
// (AVX-512), x86-64-v3 (AVX2+FMA) and the baseline. The build itself never uses -march, so the
// shipped binary runs on any x86-64. With -ffp-contract=off all clones round identically.
// Parallel regions are never inside a cloned function (GCC outlines OpenMP bodies before cloning,
// and the outlined body would be baseline code); drivers below call cloned per-range kernels.
// HUSAI_NO_CLONES (e.g. CXXFLAGS=-DHUSAI_NO_CLONES) builds one version only: used to test the
// baseline and x86-64-v3 code paths on an AVX-512 machine.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(HUSAI_NO_CLONES)
#define HUSAI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HUSAI_CLONES
#endif

#define HUSAI_RESTRICT __restrict__

/** Thread count for the addon's kernels and GEMM (set by setThreads). */
int threads();
void set_threads(int n);

/** Below this many element-operations a kernel runs on the calling thread (fork/join costs more). */
constexpr i64 kParallelMin = 1 << 15;

/**
 * Calls body(begin, end) on contiguous, disjoint ranges covering [0, n): the same static split as
 * OpenMP's schedule(static). `work` estimates the total element-operations, to keep small calls
 * single-threaded. Each output element must be written by exactly one range, so the result is
 * identical for every thread count.
 */
template <class Body>
inline void parallel_for(i64 n, i64 work, Body&& body) {
  if (n <= 0) return;
  int nt = threads();
#ifdef _OPENMP
  if (nt > 1 && n > 1 && work >= kParallelMin) {
    nt = static_cast<int>(std::min<i64>(nt, n));
#pragma omp parallel num_threads(nt)
    {
      const i64 t = omp_get_thread_num();
      const i64 T = omp_get_num_threads();
      const i64 b = n * t / T;
      const i64 e = n * (t + 1) / T;
      if (b < e) body(b, e);
    }
    return;
  }
#endif
  (void)nt;
  body(0, n);
}

}  // namespace husai
