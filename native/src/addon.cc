// N-API bindings for husai's native engine. Each export has the name and argument order of the
// Engine member in src/engine/types.ts (adam takes lr, beta1, beta2, eps, step, weightDecay
// positionally), plus setThreads(n) and info().
//
// Arrays arrive as Float32Array / Int32Array views; their data pointers already include the view's
// byteOffset, and kernels write through them in place (no copies). Full shape validation, with
// messages naming the shapes, happens in src/engine/checked.ts; here only types and the O(1)
// "array long enough for the shape" conditions are re-checked, so that a caller bypassing
// CheckedEngine gets a RangeError rather than a wild write. Index values (idx arrays) are not
// re-checked here.
#include <napi.h>

#include <cmath>
#include <string>

#include "kernels.h"

namespace husai {

namespace {
int g_threads = 1;
}

int threads() { return g_threads; }

void set_threads(int n) {
  if (n < 1) n = 1;
  g_threads = n;
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
  blas_set_threads(n);
}

namespace {

/** Argument reader: the first failure throws a JS exception and turns every later read into a no-op. */
class Args {
 public:
  explicit Args(const Napi::CallbackInfo& info, const char* op) : info_(info), env_(info.Env()), op_(op) {}

  bool ok() const { return ok_; }
  Napi::Env env() const { return env_; }

  float* f32(size_t i, const char* name, size_t* len, bool nullable = false) {
    return static_cast<float*>(typed(i, name, napi_float32_array, "Float32Array", len, nullable));
  }
  std::int32_t* i32(size_t i, const char* name, size_t* len) {
    return static_cast<std::int32_t*>(typed(i, name, napi_int32_array, "Int32Array", len, false));
  }
  double num(size_t i, const char* name) {
    if (!ok_) return 0.0;
    double v = 0.0;
    if (i >= info_.Length() || napi_get_value_double(env_, info_[i], &v) != napi_ok) {
      fail(Napi::TypeError::New(env_, std::string(op_) + ": " + name + " must be a number"));
    }
    return v;
  }
  /** A non-negative integer dimension. */
  i64 dim(size_t i, const char* name) {
    const double v = num(i, name);
    if (ok_ && !(v >= 0 && v <= 9007199254740991.0 && std::floor(v) == v)) {
      fail(Napi::RangeError::New(env_, std::string(op_) + ": " + name + " must be a non-negative integer"));
    }
    return ok_ ? static_cast<i64>(v) : 0;
  }
  bool flag(size_t i, const char* name) {
    if (!ok_) return false;
    bool v = false;
    if (i >= info_.Length() || napi_get_value_bool(env_, info_[i], &v) != napi_ok) {
      fail(Napi::TypeError::New(env_, std::string(op_) + ": " + name + " must be a boolean"));
    }
    return v;
  }
  /** Requires len ≥ needed (the array holds the shape). */
  void need(size_t len, i64 needed, const char* name) {
    if (ok_ && static_cast<i64>(len) < needed) {
      fail(Napi::RangeError::New(env_, std::string(op_) + ": " + name + " has " + std::to_string(len) +
                                           " elements, shape needs " + std::to_string(needed)));
    }
  }

 private:
  void* typed(size_t i, const char* name, napi_typedarray_type want, const char* want_name, size_t* len, bool nullable) {
    *len = 0;
    if (!ok_) return nullptr;
    if (i >= info_.Length()) {
      fail(Napi::TypeError::New(env_, std::string(op_) + ": missing argument " + name));
      return nullptr;
    }
    napi_value v = info_[i];
    if (nullable) {
      napi_valuetype t;
      napi_typeof(env_, v, &t);
      if (t == napi_null || t == napi_undefined) return nullptr;
    }
    bool is = false;
    napi_is_typedarray(env_, v, &is);
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (is && napi_get_typedarray_info(env_, v, &type, &length, &data, nullptr, nullptr) == napi_ok && type == want) {
      *len = length;
      // data already points at element 0 of the view (byteOffset applied). An empty array may
      // have no backing store; hand the kernels a valid dummy pointer so they can stay branch-free.
      static float dummy[1];
      return data ? data : static_cast<void*>(dummy);
    }
    fail(Napi::TypeError::New(env_, std::string(op_) + ": " + name + " must be a " + want_name +
                                        (nullable ? " or null" : "")));
    return nullptr;
  }
  void fail(const Napi::Error& e) {
    if (ok_) e.ThrowAsJavaScriptException();
    ok_ = false;
  }

  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* op_;
  bool ok_ = true;
};

i64 span(i64 rows, i64 cols, i64 ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; }

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Args A(info, "gemm");
  const bool tA = A.flag(0, "transA"), tB = A.flag(1, "transB");
  const i64 m = A.dim(2, "m"), n = A.dim(3, "n"), k = A.dim(4, "k");
  const double alpha = A.num(5, "alpha");
  size_t la, lb, lc;
  const float* a = A.f32(6, "a", &la);
  const i64 lda = A.dim(7, "lda");
  const float* b = A.f32(8, "b", &lb);
  const i64 ldb = A.dim(9, "ldb");
  const double beta = A.num(10, "beta");
  float* c = A.f32(11, "c", &lc);
  const i64 ldc = A.dim(12, "ldc");
  const i64 ar = tA ? k : m, ac = tA ? m : k, br = tB ? n : k, bc = tB ? k : n;
  if (A.ok() && (lda < std::max<i64>(1, ac) || ldb < std::max<i64>(1, bc) || ldc < std::max<i64>(1, n))) {
    Napi::RangeError::New(A.env(), "gemm: leading dimension smaller than the stored matrix's columns").ThrowAsJavaScriptException();
    return A.env().Undefined();
  }
  A.need(la, span(ar, ac, lda), "a");
  A.need(lb, span(br, bc, ldb), "b");
  A.need(lc, span(m, n, ldc), "c");
  if (!A.ok() || m == 0 || n == 0) return A.env().Undefined();
  if (k == 0) {
    for (i64 i = 0; i < m; ++i)
      for (i64 j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.0 ? 0.0f : static_cast<float>(beta * c[i * ldc + j]);
    return A.env().Undefined();
  }
  gemm(tA, tB, m, n, k, static_cast<float>(alpha), a, lda, b, ldb, static_cast<float>(beta), c, ldc);
  return A.env().Undefined();
}

Napi::Value AddRowVec(const Napi::CallbackInfo& info) {
  Args A(info, "addRowVec");
  size_t lx, lv;
  float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols");
  const float* v = A.f32(3, "v", &lv);
  const double alpha = A.num(4, "alpha");
  A.need(lx, rows * cols, "x");
  A.need(lv, cols, "v");
  if (A.ok()) add_row_vec(x, rows, cols, v, alpha);
  return A.env().Undefined();
}

Napi::Value ColSum(const Napi::CallbackInfo& info) {
  Args A(info, "colSum");
  size_t lx, lo;
  const float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols");
  float* out = A.f32(3, "out", &lo);
  const double alpha = A.num(4, "alpha"), beta = A.num(5, "beta");
  A.need(lx, rows * cols, "x");
  A.need(lo, cols, "out");
  if (A.ok()) col_sum(x, rows, cols, out, alpha, beta);
  return A.env().Undefined();
}

Napi::Value RowNorms(const Napi::CallbackInfo& info) {
  Args A(info, "rowNorms");
  size_t lx, lo;
  const float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols");
  float* out = A.f32(3, "out", &lo);
  A.need(lx, rows * cols, "x");
  A.need(lo, rows, "out");
  if (A.ok()) row_norms(x, rows, cols, out);
  return A.env().Undefined();
}

Napi::Value NormalizeRows(const Napi::CallbackInfo& info) {
  Args A(info, "normalizeRows");
  size_t lx, ln;
  float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols");
  float* norms = A.f32(3, "normsOut", &ln, true);
  A.need(lx, rows * cols, "x");
  if (norms) A.need(ln, rows, "normsOut");
  if (A.ok()) normalize_rows(x, rows, cols, norms);
  return A.env().Undefined();
}

Napi::Value ProjectOutRows(const Napi::CallbackInfo& info) {
  Args A(info, "projectOutRows");
  size_t lw, lg;
  const float* w = A.f32(0, "w", &lw);
  float* g = A.f32(1, "g", &lg);
  const i64 rows = A.dim(2, "rows"), cols = A.dim(3, "cols");
  A.need(lw, rows * cols, "w");
  A.need(lg, rows * cols, "g");
  if (A.ok()) project_out_rows(w, g, rows, cols);
  return A.env().Undefined();
}

Napi::Value RowMax(const Napi::CallbackInfo& info) {
  Args A(info, "rowMax");
  size_t lx, lv, li;
  const float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols");
  float* vals = A.f32(3, "valOut", &lv);
  std::int32_t* idx = A.i32(4, "idxOut", &li);
  A.need(lx, rows * cols, "x");
  A.need(lv, rows, "valOut");
  A.need(li, rows, "idxOut");
  if (A.ok() && rows > 0 && cols < 1) {
    Napi::RangeError::New(A.env(), "rowMax: needs at least one column").ThrowAsJavaScriptException();
    return A.env().Undefined();
  }
  if (A.ok()) row_max(x, rows, cols, vals, idx);
  return A.env().Undefined();
}

Napi::Value ColNonzeroCount(const Napi::CallbackInfo& info) {
  Args A(info, "colNonzeroCount");
  size_t lx, lc;
  const float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols");
  std::int32_t* counts = A.i32(3, "counts", &lc);
  A.need(lx, rows * cols, "x");
  A.need(lc, cols, "counts");
  if (A.ok()) col_nonzero_count(x, rows, cols, counts);
  return A.env().Undefined();
}

Napi::Value Relu(const Napi::CallbackInfo& info) {
  Args A(info, "relu");
  size_t lx, lo;
  const float* x = A.f32(0, "x", &lx);
  float* out = A.f32(1, "out", &lo);
  A.need(lo, static_cast<i64>(lx), "out");
  if (A.ok()) relu(x, out, static_cast<i64>(lx));
  return A.env().Undefined();
}

Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  Args A(info, "reluBackward");
  size_t lp, lgo, lgi, lca;
  const float* pre = A.f32(0, "pre", &lp);
  const float* g_out = A.f32(1, "gOut", &lgo);
  float* g_in = A.f32(2, "gIn", &lgi);
  const i64 rows = A.dim(3, "rows"), cols = A.dim(4, "cols");
  const float* col_add = A.f32(5, "colAdd", &lca, true);
  A.need(lp, rows * cols, "pre");
  A.need(lgo, rows * cols, "gOut");
  A.need(lgi, rows * cols, "gIn");
  if (col_add) A.need(lca, cols, "colAdd");
  if (A.ok()) relu_backward(pre, g_out, g_in, rows, cols, col_add);
  return A.env().Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo& info) {
  Args A(info, "axpy");
  size_t lx, ly;
  const double alpha = A.num(0, "alpha");
  const float* x = A.f32(1, "x", &lx);
  float* y = A.f32(2, "y", &ly);
  A.need(ly, static_cast<i64>(lx), "y");
  if (A.ok()) axpy(alpha, x, y, static_cast<i64>(lx));
  return A.env().Undefined();
}

Napi::Value Scale(const Napi::CallbackInfo& info) {
  Args A(info, "scale");
  size_t lx;
  float* x = A.f32(0, "x", &lx);
  const double alpha = A.num(1, "alpha");
  if (A.ok()) scale(x, alpha, static_cast<i64>(lx));
  return A.env().Undefined();
}

Napi::Value SumSq(const Napi::CallbackInfo& info) {
  Args A(info, "sumSq");
  size_t lx;
  const float* x = A.f32(0, "x", &lx);
  if (!A.ok()) return A.env().Undefined();
  return Napi::Number::New(A.env(), sum_sq(x, static_cast<i64>(lx)));
}

Napi::Value SumSqDiff(const Napi::CallbackInfo& info) {
  Args A(info, "sumSqDiff");
  size_t la, lb;
  const float* a = A.f32(0, "a", &la);
  const float* b = A.f32(1, "b", &lb);
  A.need(lb, static_cast<i64>(la), "b");
  if (!A.ok()) return A.env().Undefined();
  return Napi::Number::New(A.env(), sum_sq_diff(a, b, static_cast<i64>(la)));
}

Napi::Value Dot(const Napi::CallbackInfo& info) {
  Args A(info, "dot");
  size_t la, lb;
  const float* a = A.f32(0, "a", &la);
  const float* b = A.f32(1, "b", &lb);
  A.need(lb, static_cast<i64>(la), "b");
  if (!A.ok()) return A.env().Undefined();
  return Napi::Number::New(A.env(), dot(a, b, static_cast<i64>(la)));
}

Napi::Value TopkRows(const Napi::CallbackInfo& info) {
  Args A(info, "topkRows");
  size_t lx, lv, li;
  const float* x = A.f32(0, "x", &lx);
  const i64 rows = A.dim(1, "rows"), cols = A.dim(2, "cols"), k = A.dim(3, "k");
  float* vals = A.f32(4, "valsOut", &lv);
  std::int32_t* idx = A.i32(5, "idxOut", &li);
  A.need(lx, rows * cols, "x");
  A.need(lv, rows * k, "valsOut");
  A.need(li, rows * k, "idxOut");
  if (A.ok() && k > cols) {
    Napi::RangeError::New(A.env(), "topkRows: k exceeds the number of columns").ThrowAsJavaScriptException();
    return A.env().Undefined();
  }
  if (A.ok()) topk_rows(x, rows, cols, k, vals, idx);
  return A.env().Undefined();
}

Napi::Value ScatterRows(const Napi::CallbackInfo& info) {
  Args A(info, "scatterRows");
  size_t lv, li, lo;
  const float* vals = A.f32(0, "vals", &lv);
  const std::int32_t* idx = A.i32(1, "idx", &li);
  const i64 rows = A.dim(2, "rows"), k = A.dim(3, "k");
  float* out = A.f32(4, "out", &lo);
  const i64 cols = A.dim(5, "cols");
  A.need(lv, rows * k, "vals");
  A.need(li, rows * k, "idx");
  A.need(lo, rows * cols, "out");
  if (A.ok()) scatter_rows(vals, idx, rows, k, out, cols);
  return A.env().Undefined();
}

Napi::Value GatherRows(const Napi::CallbackInfo& info) {
  Args A(info, "gatherRows");
  size_t lx, li, lo;
  const float* x = A.f32(0, "x", &lx);
  const i64 cols = A.dim(1, "cols");
  const std::int32_t* idx = A.i32(2, "idx", &li);
  const i64 rows = A.dim(3, "rows"), k = A.dim(4, "k");
  float* out = A.f32(5, "out", &lo);
  A.need(lx, rows * cols, "x");
  A.need(li, rows * k, "idx");
  A.need(lo, rows * k, "out");
  if (A.ok()) gather_rows(x, cols, idx, rows, k, out);
  return A.env().Undefined();
}

Napi::Value SparseDecode(const Napi::CallbackInfo& info) {
  Args A(info, "sparseDecode");
  size_t lv, li, lw, lo;
  const float* vals = A.f32(0, "vals", &lv);
  const std::int32_t* idx = A.i32(1, "idx", &li);
  const i64 rows = A.dim(2, "rows"), k = A.dim(3, "k");
  const float* w = A.f32(4, "w", &lw);
  const i64 m = A.dim(5, "m"), d = A.dim(6, "d");
  float* out = A.f32(7, "out", &lo);
  const double beta = A.num(8, "beta");
  A.need(lv, rows * k, "vals");
  A.need(li, rows * k, "idx");
  A.need(lw, m * d, "w");
  A.need(lo, rows * d, "out");
  if (A.ok()) sparse_decode(vals, idx, rows, k, w, m, d, out, beta);
  return A.env().Undefined();
}

Napi::Value SparseDecodeGradVals(const Napi::CallbackInfo& info) {
  Args A(info, "sparseDecodeGradVals");
  size_t lg, li, lw, lv;
  const float* g_out = A.f32(0, "gOut", &lg);
  const std::int32_t* idx = A.i32(1, "idx", &li);
  const i64 rows = A.dim(2, "rows"), k = A.dim(3, "k");
  const float* w = A.f32(4, "w", &lw);
  const i64 m = A.dim(5, "m"), d = A.dim(6, "d");
  float* g_vals = A.f32(7, "gVals", &lv);
  A.need(lg, rows * d, "gOut");
  A.need(li, rows * k, "idx");
  A.need(lw, m * d, "w");
  A.need(lv, rows * k, "gVals");
  if (A.ok()) sparse_decode_grad_vals(g_out, idx, rows, k, w, m, d, g_vals);
  return A.env().Undefined();
}

Napi::Value SparseDecodeGradW(const Napi::CallbackInfo& info) {
  Args A(info, "sparseDecodeGradW");
  size_t lv, li, lg, lw;
  const float* vals = A.f32(0, "vals", &lv);
  const std::int32_t* idx = A.i32(1, "idx", &li);
  const i64 rows = A.dim(2, "rows"), k = A.dim(3, "k");
  const float* g_out = A.f32(4, "gOut", &lg);
  const i64 m = A.dim(5, "m"), d = A.dim(6, "d");
  float* g_w = A.f32(7, "gW", &lw);
  A.need(lv, rows * k, "vals");
  A.need(li, rows * k, "idx");
  A.need(lg, rows * d, "gOut");
  A.need(lw, m * d, "gW");
  if (A.ok()) sparse_decode_grad_w(vals, idx, rows, k, g_out, m, d, g_w);
  return A.env().Undefined();
}

Napi::Value Adam(const Napi::CallbackInfo& info) {
  Args A(info, "adam");
  size_t lp, lg, lm, lv;
  float* param = A.f32(0, "param", &lp);
  const float* grad = A.f32(1, "grad", &lg);
  float* m = A.f32(2, "m", &lm);
  float* v = A.f32(3, "v", &lv);
  const double lr = A.num(4, "lr"), beta1 = A.num(5, "beta1"), beta2 = A.num(6, "beta2"), eps = A.num(7, "eps");
  const double step = A.num(8, "step"), wd = A.num(9, "weightDecay");
  const i64 n = static_cast<i64>(lp);
  A.need(lg, n, "grad");
  A.need(lm, n, "m");
  A.need(lv, n, "v");
  if (A.ok()) adam(param, grad, m, v, n, lr, beta1, beta2, eps, step, wd);
  return A.env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args A(info, "setThreads");
  const i64 n = A.dim(0, "n");
  if (A.ok() && n < 1) {
    Napi::RangeError::New(A.env(), "setThreads: thread count must be ≥ 1").ThrowAsJavaScriptException();
    return A.env().Undefined();
  }
  if (A.ok()) set_threads(static_cast<int>(std::min<i64>(n, 1 << 16)));
  return A.env().Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", blas_name());
  o.Set("blasConfig", blas_config());
  o.Set("blasCore", blas_core());
  o.Set("blasThreading", blas_threading());
  o.Set("threads", Napi::Number::New(env, threads()));
#ifdef _OPENMP
  o.Set("openmp", true);
#else
  o.Set("openmp", false);
#endif
  return o;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
#ifdef _OPENMP
  set_threads(omp_get_max_threads());
#else
  set_threads(1);
#endif
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  static const Entry entries[] = {
      {"gemm", Gemm},
      {"addRowVec", AddRowVec},
      {"colSum", ColSum},
      {"rowNorms", RowNorms},
      {"normalizeRows", NormalizeRows},
      {"projectOutRows", ProjectOutRows},
      {"rowMax", RowMax},
      {"colNonzeroCount", ColNonzeroCount},
      {"relu", Relu},
      {"reluBackward", ReluBackward},
      {"axpy", Axpy},
      {"scale", Scale},
      {"sumSq", SumSq},
      {"sumSqDiff", SumSqDiff},
      {"dot", Dot},
      {"topkRows", TopkRows},
      {"scatterRows", ScatterRows},
      {"gatherRows", GatherRows},
      {"sparseDecode", SparseDecode},
      {"sparseDecodeGradVals", SparseDecodeGradVals},
      {"sparseDecodeGradW", SparseDecodeGradW},
      {"adam", Adam},
      {"setThreads", SetThreads},
      {"info", Info},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  return exports;
}

}  // namespace husai

static Napi::Object InitHusai(Napi::Env env, Napi::Object exports) { return husai::Init(env, exports); }

NODE_API_MODULE(husai_native, InitHusai)
