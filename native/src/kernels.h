// Kernel entry points, one per Engine member (src/engine/types.ts documents the semantics; the
// TypeScript reference in src/engine/reference.ts is the oracle). Shapes are validated in
// src/engine/checked.ts before these run. All matrices are row-major; all pointers are views into
// JS memory, written in place.
#pragma once

#include "common.h"

namespace husai {

// gemm.cc
void gemm(bool transA, bool transB, i64 m, i64 n, i64 k, float alpha, const float* a, i64 lda,
          const float* b, i64 ldb, float beta, float* c, i64 ldc);
/** 'openblas' or 'builtin'. */
const char* blas_name();
const char* blas_config();
const char* blas_core();
/** 'openmp', 'pthreads' or 'none' (asked from the loaded OpenBLAS when there is one). */
const char* blas_threading();
void blas_set_threads(int n);

// kernels.cc
void add_row_vec(float* x, i64 rows, i64 cols, const float* v, double alpha);
void col_sum(const float* x, i64 rows, i64 cols, float* out, double alpha, double beta);
void row_norms(const float* x, i64 rows, i64 cols, float* out);
void normalize_rows(float* x, i64 rows, i64 cols, float* norms_out /* nullable */);
void project_out_rows(const float* w, float* g, i64 rows, i64 cols);
void row_max(const float* x, i64 rows, i64 cols, float* val_out, std::int32_t* idx_out);
void col_nonzero_count(const float* x, i64 rows, i64 cols, std::int32_t* counts);
void relu(const float* x, float* out, i64 n);
void relu_backward(const float* pre, const float* g_out, float* g_in, i64 rows, i64 cols,
                   const float* col_add /* nullable */);
void axpy(double alpha, const float* x, float* y, i64 n);
void scale(float* x, double alpha, i64 n);
double sum_sq(const float* x, i64 n);
double sum_sq_diff(const float* a, const float* b, i64 n);
double dot(const float* a, const float* b, i64 n);
void adam(float* param, const float* grad, float* m, float* v, i64 n, double lr, double beta1,
          double beta2, double eps, double step, double weight_decay);

// topk.cc
void topk_rows(const float* x, i64 rows, i64 cols, i64 k, float* vals_out, std::int32_t* idx_out);

// sparse.cc
void scatter_rows(const float* vals, const std::int32_t* idx, i64 rows, i64 k, float* out, i64 cols);
void gather_rows(const float* x, i64 cols, const std::int32_t* idx, i64 rows, i64 k, float* out);
void sparse_decode(const float* vals, const std::int32_t* idx, i64 rows, i64 k, const float* w, i64 m,
                   i64 d, float* out, double beta);
void sparse_decode_grad_vals(const float* g_out, const std::int32_t* idx, i64 rows, i64 k,
                             const float* w, i64 m, i64 d, float* g_vals);
void sparse_decode_grad_w(const float* vals, const std::int32_t* idx, i64 rows, i64 k,
                          const float* g_out, i64 m, i64 d, float* g_w);

}  // namespace husai
