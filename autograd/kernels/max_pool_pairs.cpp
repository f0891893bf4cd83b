#include "autograd/kernels/max_pool_pairs.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mg::kernels {

namespace {

#define MG_AVX512 __attribute__((target("avx512f")))

// The first n of sixteen lanes (n may be negative or past 16).
MG_AVX512 inline __mmask16 first_lanes(std::int64_t n) {
  if (n <= 0) return 0;
  return n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// The windows' left and right taps of 2 * count pixels (count <= 16) of one row: the
// row's even and odd columns. Lanes past count are 0 (masked loads do not fault).
MG_AVX512 inline void split_row(const float* row, std::int64_t count, __m512& left, __m512& right) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(2 * count), row);
  const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(2 * count - 16), row + 16);
  left = _mm512_permutex2var_ps(lo, even, hi);
  right = _mm512_permutex2var_ps(lo, odd, hi);
}

// The inverse of split_row: 2 * count pixels of a row from its left and right taps.
MG_AVX512 inline void join_row(__m512 left, __m512 right, std::int64_t count, float* row) {
  const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  _mm512_mask_storeu_ps(row, first_lanes(2 * count), _mm512_permutex2var_ps(left, lo, right));
  _mm512_mask_storeu_ps(row + 16, first_lanes(2 * count - 16), _mm512_permutex2var_ps(left, hi, right));
}

// Which tap wins in sixteen windows: taps in row-major order (top left, top right,
// bottom left, bottom right); a later tap takes over only when strictly larger, or
// when it is NaN and the maximum so far is not, as the scalar loop (Note [arg-max by
// gather] in max_pool.cpp): a window holding a NaN pools to its first NaN.
struct Winners {
  __mmask16 over1, over2, over3;  // tap 1, 2, 3 was larger than the maximum before it
};

MG_AVX512 inline __mmask16 takes_over(__m512 tap, __m512 top) {
  const __mmask16 nan_first = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(top, top, _CMP_ORD_Q), tap, tap, _CMP_UNORD_Q);
  return _mm512_cmp_ps_mask(tap, top, _CMP_GT_OQ) | nan_first;
}

MG_AVX512 inline Winners arg_max(const float* row0, const float* row1, std::int64_t count) {
  __m512 t0, t1, t2, t3;
  split_row(row0, count, t0, t1);
  split_row(row1, count, t2, t3);
  Winners w{};
  __m512 top = t0;
  w.over1 = takes_over(t1, top);
  top = _mm512_mask_mov_ps(top, w.over1, t1);
  w.over2 = takes_over(t2, top);
  top = _mm512_mask_mov_ps(top, w.over2, t2);
  w.over3 = takes_over(t3, top);
  return w;
}

MG_AVX512 void select_avx512(const float* keys, const float* values, float* out, const ConvGeometry& g) {
  const std::int64_t h = g.h, w = g.w, oh_n = g.out_h(), ow_n = g.out_w();
  const std::int64_t planes = std::int64_t{g.n} * g.c;
  for (std::int64_t p = 0; p < planes; ++p) {
    const float* k = keys + p * h * w;
    const float* v = values + p * h * w;
    float* o = out + p * oh_n * ow_n;
    for (std::int64_t oh = 0; oh < oh_n; ++oh) {
      const std::int64_t r0 = 2 * oh * w, r1 = r0 + w;
      for (std::int64_t ow = 0; ow < ow_n; ow += 16) {
        const std::int64_t count = std::min<std::int64_t>(16, ow_n - ow);
        const Winners win = arg_max(k + r0 + 2 * ow, k + r1 + 2 * ow, count);
        __m512 v0, v1, v2, v3;
        split_row(v + r0 + 2 * ow, count, v0, v1);
        split_row(v + r1 + 2 * ow, count, v2, v3);
        __m512 best = _mm512_mask_mov_ps(v0, win.over1, v1);
        best = _mm512_mask_mov_ps(best, win.over2, v2);
        best = _mm512_mask_mov_ps(best, win.over3, v3);
        _mm512_mask_storeu_ps(o + oh * ow_n + ow, first_lanes(count), best);
      }
    }
  }
}

MG_AVX512 void scatter_avx512(const float* keys, const float* grad, float* out, const ConvGeometry& g) {
  const std::int64_t h = g.h, w = g.w, oh_n = g.out_h(), ow_n = g.out_w();
  const std::int64_t planes = std::int64_t{g.n} * g.c;
  for (std::int64_t p = 0; p < planes; ++p) {
    const float* k = keys + p * h * w;
    const float* gp = grad + p * oh_n * ow_n;
    float* o = out + p * h * w;
    for (std::int64_t oh = 0; oh < oh_n; ++oh) {
      const std::int64_t r0 = 2 * oh * w, r1 = r0 + w;
      for (std::int64_t ow = 0; ow < ow_n; ow += 16) {
        const std::int64_t count = std::min<std::int64_t>(16, ow_n - ow);
        const Winners win = arg_max(k + r0 + 2 * ow, k + r1 + 2 * ow, count);
        const __m512 gv = _mm512_maskz_loadu_ps(first_lanes(count), gp + oh * ow_n + ow);
        // The last tap that took over is the window's arg-max.
        const __mmask16 at3 = win.over3;
        const __mmask16 at2 = static_cast<__mmask16>(win.over2 & ~at3);
        const __mmask16 at1 = static_cast<__mmask16>(win.over1 & ~win.over2 & ~at3);
        const __mmask16 at0 = static_cast<__mmask16>(~(win.over1 | win.over2 | at3));
        join_row(_mm512_maskz_mov_ps(at0, gv), _mm512_maskz_mov_ps(at1, gv), count, o + r0 + 2 * ow);
        join_row(_mm512_maskz_mov_ps(at2, gv), _mm512_maskz_mov_ps(at3, gv), count, o + r1 + 2 * ow);
      }
      if (w % 2 != 0) o[r0 + w - 1] = o[r1 + w - 1] = 0.0f;  // the column outside every window
    }
    if (h % 2 != 0) std::memset(o + (h - 1) * w, 0, static_cast<std::size_t>(w) * sizeof(float));
  }
}


#define MG_AVX2 __attribute__((target("avx2")))

// The AVX2 twin of the above, eight windows per step: the first n of eight lanes as a
// mask vector (all bits set in a lane that is in).
MG_AVX2 inline __m256i first_lanes8(std::int64_t n) {
  const std::int32_t k = static_cast<std::int32_t>(std::clamp<std::int64_t>(n, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

MG_AVX2 inline void split_row8(const float* row, std::int64_t count, __m256& left, __m256& right) {
  const __m256 lo = _mm256_maskload_ps(row, first_lanes8(2 * count));
  const __m256 hi = _mm256_maskload_ps(row + 8, first_lanes8(2 * count - 8));
  // shuffle_ps picks within 128-bit halves ([lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6]); the
  // 64-bit permute puts the pairs in order.
  left = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
  right = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
}

MG_AVX2 inline void join_row8(__m256 left, __m256 right, std::int64_t count, float* row) {
  const __m256 a = _mm256_unpacklo_ps(left, right);  // l0 r0 l1 r1 | l4 r4 l5 r5
  const __m256 b = _mm256_unpackhi_ps(left, right);  // l2 r2 l3 r3 | l6 r6 l7 r7
  _mm256_maskstore_ps(row, first_lanes8(2 * count), _mm256_permute2f128_ps(a, b, 0x20));
  _mm256_maskstore_ps(row + 8, first_lanes8(2 * count - 8), _mm256_permute2f128_ps(a, b, 0x31));
}

// Winners as lane masks (all bits set where the tap took over).
struct Winners8 {
  __m256 over1, over2, over3;
};

// As takes_over: larger, or the first NaN.
MG_AVX2 inline __m256 takes_over8(__m256 tap, __m256 top) {
  const __m256 nan_first = _mm256_and_ps(_mm256_cmp_ps(tap, tap, _CMP_UNORD_Q), _mm256_cmp_ps(top, top, _CMP_ORD_Q));
  return _mm256_or_ps(_mm256_cmp_ps(tap, top, _CMP_GT_OQ), nan_first);
}

MG_AVX2 inline Winners8 arg_max8(const float* row0, const float* row1, std::int64_t count) {
  __m256 t0, t1, t2, t3;
  split_row8(row0, count, t0, t1);
  split_row8(row1, count, t2, t3);
  Winners8 w{};
  __m256 top = t0;
  w.over1 = takes_over8(t1, top);
  top = _mm256_blendv_ps(top, t1, w.over1);
  w.over2 = takes_over8(t2, top);
  top = _mm256_blendv_ps(top, t2, w.over2);
  w.over3 = takes_over8(t3, top);
  return w;
}

MG_AVX2 void select_avx2(const float* keys, const float* values, float* out, const ConvGeometry& g) {
  const std::int64_t h = g.h, w = g.w, oh_n = g.out_h(), ow_n = g.out_w();
  const std::int64_t planes = std::int64_t{g.n} * g.c;
  for (std::int64_t p = 0; p < planes; ++p) {
    const float* k = keys + p * h * w;
    const float* v = values + p * h * w;
    float* o = out + p * oh_n * ow_n;
    for (std::int64_t oh = 0; oh < oh_n; ++oh) {
      const std::int64_t r0 = 2 * oh * w, r1 = r0 + w;
      for (std::int64_t ow = 0; ow < ow_n; ow += 8) {
        const std::int64_t count = std::min<std::int64_t>(8, ow_n - ow);
        const Winners8 win = arg_max8(k + r0 + 2 * ow, k + r1 + 2 * ow, count);
        __m256 v0, v1, v2, v3;
        split_row8(v + r0 + 2 * ow, count, v0, v1);
        split_row8(v + r1 + 2 * ow, count, v2, v3);
        __m256 best = _mm256_blendv_ps(v0, v1, win.over1);
        best = _mm256_blendv_ps(best, v2, win.over2);
        best = _mm256_blendv_ps(best, v3, win.over3);
        _mm256_maskstore_ps(o + oh * ow_n + ow, first_lanes8(count), best);
      }
    }
  }
}

MG_AVX2 void scatter_avx2(const float* keys, const float* grad, float* out, const ConvGeometry& g) {
  const std::int64_t h = g.h, w = g.w, oh_n = g.out_h(), ow_n = g.out_w();
  const std::int64_t planes = std::int64_t{g.n} * g.c;
  for (std::int64_t p = 0; p < planes; ++p) {
    const float* k = keys + p * h * w;
    const float* gp = grad + p * oh_n * ow_n;
    float* o = out + p * h * w;
    for (std::int64_t oh = 0; oh < oh_n; ++oh) {
      const std::int64_t r0 = 2 * oh * w, r1 = r0 + w;
      for (std::int64_t ow = 0; ow < ow_n; ow += 8) {
        const std::int64_t count = std::min<std::int64_t>(8, ow_n - ow);
        const Winners8 win = arg_max8(k + r0 + 2 * ow, k + r1 + 2 * ow, count);
        const __m256 gv = _mm256_maskload_ps(gp + oh * ow_n + ow, first_lanes8(count));
        // The last tap that took over is the window's arg-max.
        const __m256 at3 = win.over3;
        const __m256 at2 = _mm256_andnot_ps(at3, win.over2);
        const __m256 at1 = _mm256_andnot_ps(_mm256_or_ps(win.over2, at3), win.over1);
        const __m256 at0 = _mm256_andnot_ps(_mm256_or_ps(_mm256_or_ps(win.over1, win.over2), at3), gv);
        join_row8(at0, _mm256_and_ps(at1, gv), count, o + r0 + 2 * ow);
        join_row8(_mm256_and_ps(at2, gv), _mm256_and_ps(at3, gv), count, o + r1 + 2 * ow);
      }
      if (w % 2 != 0) o[r0 + w - 1] = o[r1 + w - 1] = 0.0f;  // the column outside every window
    }
    if (h % 2 != 0) std::memset(o + (h - 1) * w, 0, static_cast<std::size_t>(w) * sizeof(float));
  }
}

}  // namespace

bool max_pool_pairs_fit(const ConvGeometry& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.h >= 2 && g.w >= 2;
}

bool max_pool_pairs_select(Isa isa, const float* keys, const float* values, float* out, const ConvGeometry& g) {
  if (isa == Isa::Avx512) select_avx512(keys, values, out, g);
  else if (isa == Isa::Avx2) select_avx2(keys, values, out, g);
  else return false;
  return true;
}

bool max_pool_pairs_scatter(Isa isa, const float* keys, const float* grad, float* out, const ConvGeometry& g) {
  if (isa == Isa::Avx512) scatter_avx512(keys, grad, out, g);
  else if (isa == Isa::Avx2) scatter_avx2(keys, grad, out, g);
  else return false;
  return true;
}

}  // namespace mg::kernels
