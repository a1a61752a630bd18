// topkRows: per row, the k largest values in the reference's total order — descending value, ties
// by lower column, NaN below everything (−0 and +0 tie, so the lower column wins).
//
// Each column becomes one 64-bit key whose unsigned order is exactly that order:
//   high 32 bits: the value's bits made order-preserving (−0 folded into +0; every NaN → 0,
//                 below −Inf), low 32 bits: ~column (lower column → larger key).
// Rows with at least 2·G columns (G = 2k rounded up to 16) take two passes (topk_rows_k): a
// threshold t = the k-th largest of G group maxima, then a vectorised scan that keys only the
// columns ≥ t — usually about 1.4k of them. Narrower rows, and the rare rows where that leaves
// fewer than k candidates (NaN-heavy rows), take one streaming pass (topk_row_stream): a key
// buffer seeded with the first k columns and a threshold t = the value of the worst kept key.
// Columns are scanned in increasing order, so a later column can only beat the k-th best by being
// strictly larger (a tie loses on the column index): blocks of 16 columns are tested with one
// vector compare against t and skipped wholesale, and the hits of a block are appended. When the
// buffer fills, nth_element keeps the best k and raises t. While the k-th best is NaN (fewer than
// k numbers seen so far), any number is appended. Either way the best k keys are then
// sorted and the values re-read from x (so NaN payloads and −0 come out bit-exact).
#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernels.h"

namespace husai {

namespace {

inline std::uint64_t rank_key(float v, i64 c) {
  std::uint32_t u;
  const float canon = v + 0.0f;  // −0 → +0: ±0 tie in the reference
  std::memcpy(&u, &canon, sizeof u);
  std::uint32_t hi = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  if (v != v) hi = 0;
  return (static_cast<std::uint64_t>(hi) << 32) | static_cast<std::uint32_t>(~static_cast<std::uint32_t>(c));
}

inline i64 key_col(std::uint64_t key) { return static_cast<i64>(~static_cast<std::uint32_t>(key)); }

/** Is any of p[0..16) ≥ t (ge) or > t (!ge)? t is not NaN. One vector compare per 8 lanes. */
template <bool ge>
inline bool any16(const float* p, float t) {
#if defined(__GNUC__)
  typedef float v8f __attribute__((vector_size(32)));
  typedef int v8i __attribute__((vector_size(32)));
  v8f a, b;
  std::memcpy(&a, p, sizeof a);
  std::memcpy(&b, p + 8, sizeof b);
  const v8f tv = v8f{t, t, t, t, t, t, t, t};
  const v8i m = ge ? ((a >= tv) | (b >= tv)) : ((a > tv) | (b > tv));
  std::uint64_t w[4];
  std::memcpy(w, &m, sizeof w);
  return ((w[0] | w[1]) | (w[2] | w[3])) != 0;
#else
  int any = 0;
  for (int l = 0; l < 16; ++l) any |= ge ? p[l] >= t : p[l] > t;
  return any != 0;
#endif
}

/** Bit l set iff p[l] ≥ t (ge) or p[l] > t (!ge), l < 16; NaN never sets a bit. */
template <bool ge>
inline unsigned mask16(const float* p, float t) {
#if defined(__SSE2__)
  const __m128 tv = _mm_set1_ps(t);
  auto cmp = [&](const float* q) {
    const __m128 v = _mm_loadu_ps(q);
    return static_cast<unsigned>(_mm_movemask_ps(ge ? _mm_cmpge_ps(v, tv) : _mm_cmpgt_ps(v, tv)));
  };
  return cmp(p) | (cmp(p + 4) << 4) | (cmp(p + 8) << 8) | (cmp(p + 12) << 12);
#else
  unsigned m = 0;
  for (int l = 0; l < 16; ++l) m |= static_cast<unsigned>(ge ? p[l] >= t : p[l] > t) << l;
  return m;
#endif
}

constexpr i64 kBlock = 16;

/** Writes the k best keys of buf[0..n) (n ≥ k), sorted, as values and columns. */
inline void emit(std::uint64_t* buf, i64 n, i64 k, const float* xr, float* vo, std::int32_t* io) {
  const std::greater<std::uint64_t> before;  // larger key ranks first
  if (n > k) std::nth_element(buf, buf + (k - 1), buf + n, before);
  std::sort(buf, buf + k, before);
  for (i64 j = 0; j < k; ++j) {
    const i64 col = key_col(buf[j]);
    vo[j] = xr[col];
    io[j] = static_cast<std::int32_t>(col);
  }
}

/**
 * One pass with a rising threshold (any row; the fallback). The buffer holds max(4k, k + 64) + 16
 * keys: seeded with the first k columns; the threshold t is the value of the worst kept key.
 */
inline void topk_row_stream(const float* HUSAI_RESTRICT xr, i64 cols, i64 k, std::uint64_t* buf, i64 cap, float* vo,
                            std::int32_t* io) {
  const std::greater<std::uint64_t> before;
  i64 n = 0;
  for (i64 c = 0; c < k; ++c) buf[n++] = rank_key(xr[c], c);
  float t = xr[key_col(*std::min_element(buf, buf + k))];
  bool t_nan = t != t;
  i64 c = k;
  while (c < cols) {
    if (!t_nan) {
      while (c + kBlock <= cols && !any16<false>(xr + c, t)) c += kBlock;
      if (c + kBlock <= cols) {
        for (unsigned m = mask16<false>(xr + c, t); m != 0; m &= m - 1) {
          const i64 l = c + __builtin_ctz(m);
          buf[n++] = rank_key(xr[l], l);
        }
        c += kBlock;
      } else {
        for (; c < cols; ++c) {
          const float v = xr[c];
          buf[n] = rank_key(v, c);  // branch-free append
          n += v > t;
        }
      }
    } else {
      const float v = xr[c];
      buf[n] = rank_key(v, c);
      n += v == v;  // the worst kept is NaN: any number beats it, a later NaN does not
      ++c;
    }
    if (n >= cap) {
      // Keep the best k; buf[k - 1] is then the k-th ranked: the new threshold.
      std::nth_element(buf, buf + (k - 1), buf + n, before);
      n = k;
      t = xr[key_col(buf[k - 1])];
      t_nan = t != t;
    }
  }
  emit(buf, n, k, xr, vo, io);
}

HUSAI_CLONES void topk_rows_k(const float* x, i64 r0, i64 r1, i64 cols, i64 k, float* vals_out,
                              std::int32_t* idx_out) {
  // Two-pass threshold: split the first G·S columns into G = 2k (rounded up to 16) groups
  // {g, g + G, g + 2G, …} of S ≥ 2 columns, take each group's max (vertical vector max over
  // slices, NaN ignored), and let t be the k-th largest group max. Then at least k columns are ≥ t
  // (checked: n ≥ k below, else the streaming pass runs), so every column < t, and every NaN,
  // ranks below at least k others: the top k are among the columns ≥ t — typically ~1.4k of them.
  const i64 groups = std::max<i64>(kBlock, (2 * k + kBlock - 1) / kBlock * kBlock);
  const i64 slices = cols / groups;
  const bool two_pass = slices >= 2;
  const i64 cap = std::max<i64>(4 * k, k + 64);
  std::vector<std::uint64_t> store(static_cast<size_t>((two_pass ? std::max(cols, cap) : cap) + kBlock));
  std::vector<float> gmax(two_pass ? static_cast<size_t>(groups) : 0);
  std::uint64_t* buf = store.data();
  for (i64 r = r0; r < r1; ++r) {
    const float* HUSAI_RESTRICT xr = x + r * cols;
    float* vo = vals_out + r * k;
    std::int32_t* io = idx_out + r * k;
    if (two_pass) {
      float* HUSAI_RESTRICT gm = gmax.data();
      for (i64 g = 0; g < groups; ++g) gm[g] = -__builtin_inff();
      for (i64 s = 0; s < slices; ++s) {
        const float* HUSAI_RESTRICT xs = xr + s * groups;
        for (i64 g = 0; g < groups; ++g) gm[g] = xs[g] > gm[g] ? xs[g] : gm[g];
      }
      std::nth_element(gm, gm + (k - 1), gm + groups, std::greater<float>());
      const float t = gm[k - 1];
      i64 n = 0;
      i64 c = 0;
      for (; c + kBlock <= cols; c += kBlock) {
        if (!any16<true>(xr + c, t)) continue;
        for (unsigned m = mask16<true>(xr + c, t); m != 0; m &= m - 1) {
          const i64 l = c + __builtin_ctz(m);
          buf[n++] = rank_key(xr[l], l);
        }
      }
      for (; c < cols; ++c) {
        const float v = xr[c];
        buf[n] = rank_key(v, c);
        n += v >= t;
      }
      if (n >= k) {
        emit(buf, n, k, xr, vo, io);
        continue;
      }
    }
    topk_row_stream(xr, cols, k, buf, cap, vo, io);
  }
}

}  // namespace

void topk_rows(const float* x, i64 rows, i64 cols, i64 k, float* vals_out, std::int32_t* idx_out) {
  if (k <= 0 || rows <= 0) return;
  parallel_for(rows, rows * cols, [&](i64 r0, i64 r1) { topk_rows_k(x, r0, r1, cols, k, vals_out, idx_out); });
}

}  // namespace husai
