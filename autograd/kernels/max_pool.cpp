#include "autograd/kernels/max_pool.h"

#include <immintrin.h>

#include <limits>
#include <vector>

#include "autograd/kernels/cpu.h"

namespace mg::kernels {

namespace {

#define MG_AVX512 __attribute__((target("avx512f")))

// Note [arg-max by gather]: per plane, table[o] is the offset of window o's first
// tap; tap (i, j) of sixteen windows is one gather at table + i * W + j. The
// running maximum takes a tap only when it is strictly larger (as the scalar loop:
// ties keep the earlier tap, and a NaN is never larger, nor is anything larger than
// a NaN held), so the index is exactly the scalar loop's.
MG_AVX512 void plane_argmax(const float* img, const std::int32_t* table, std::int64_t outputs,
                            const std::int32_t* taps, int n_taps, std::int64_t* out) {
  for (std::int64_t o = 0; o < outputs; o += 16) {
    const std::int64_t left = outputs - o;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
    const __m512i base = _mm512_maskz_loadu_epi32(m, table + o);
    __m512 top = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, base, img, 4);
    __m512i best = base;
    for (int t = 1; t < n_taps; ++t) {
      const __m512i at = _mm512_add_epi32(base, _mm512_set1_epi32(taps[t]));
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, at, img, 4);
      const __mmask16 more = _mm512_mask_cmp_ps_mask(m, v, top, _CMP_GT_OQ);
      top = _mm512_mask_mov_ps(top, more, v);
      best = _mm512_mask_mov_epi32(best, more, at);
    }
    // Widen to int64 in two halves of eight (the zero-masking forms: GCC 12 warns about
    // the undefined source register of the plain ones).
    const __mmask8 lo = static_cast<__mmask8>(m & 0xFF), hi = static_cast<__mmask8>(m >> 8);
    const __m256i lower = _mm512_maskz_extracti64x4_epi64(0xF, best, 0);
    const __m256i upper = _mm512_maskz_extracti64x4_epi64(0xF, best, 1);
    _mm512_mask_storeu_epi64(out + o, lo, _mm512_maskz_cvtepi32_epi64(0xFF, lower));
    _mm512_mask_storeu_epi64(out + o + 8, hi, _mm512_maskz_cvtepi32_epi64(0xFF, upper));
  }
}

}  // namespace

bool max_pool2d_indices_avx512(const float* x, std::int64_t planes, const ConvGeometry& g, std::int64_t* out) {
  const std::int64_t plane = std::int64_t{g.h} * g.w;
  if (active_isa() != Isa::Avx512 || plane > std::numeric_limits<std::int32_t>::max()) return false;
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w(), outputs = oh_n * ow_n;
  std::vector<std::int32_t> table(static_cast<std::size_t>(outputs));
  for (std::int64_t oh = 0; oh < oh_n; ++oh)
    for (std::int64_t ow = 0; ow < ow_n; ++ow)
      table[static_cast<std::size_t>(oh * ow_n + ow)] = static_cast<std::int32_t>(oh * g.sh * g.w + ow * g.sw);
  std::vector<std::int32_t> taps;
  for (std::int32_t i = 0; i < g.kh; ++i)
    for (std::int32_t j = 0; j < g.kw; ++j) taps.push_back(i * g.w + j);
  for (std::int64_t p = 0; p < planes; ++p)
    plane_argmax(x + p * plane, table.data(), outputs, taps.data(), static_cast<int>(taps.size()), out + p * outputs);
  return true;
}

}  // namespace mg::kernels
