#include "autograd/kernels/table_copy.h"

#include <immintrin.h>

#include <type_traits>

#include "autograd/kernels/cpu.h"

#define MG_AVX512 __attribute__((target("avx512f")))

namespace mg::kernels {

namespace {

// The first min(16, n − l) lanes, and among them those whose table entry is >= 0 (in *idx).
MG_AVX512 __mmask16 lanes(const std::int32_t* t, std::int64_t l, std::int64_t n, __mmask16* in_run, __m512i* idx) {
  *in_run = n - l >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - l)) - 1);
  *idx = _mm512_maskz_loadu_epi32(*in_run, t + l);
  return _mm512_mask_cmpge_epi32_mask(*in_run, *idx, _mm512_setzero_si512());
}

MG_AVX512 void gather_f32(float* dst, const float* src, const std::int32_t* t, std::int64_t n) {
  for (std::int64_t l = 0; l < n; l += 16) {
    __mmask16 in_run;
    __m512i idx;
    const __mmask16 valid = lanes(t, l, n, &in_run, &idx);
    _mm512_mask_storeu_ps(dst + l, in_run, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, src, 4));
  }
}

MG_AVX512 void scatter_add_f32(float* dst, const float* src, const std::int32_t* t, std::int64_t n) {
  for (std::int64_t l = 0; l < n; l += 16) {
    __mmask16 in_run;
    __m512i idx;
    const __mmask16 valid = lanes(t, l, n, &in_run, &idx);
    const __m512 cur = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, dst, 4);
    _mm512_mask_i32scatter_ps(dst, valid, idx, _mm512_add_ps(cur, _mm512_maskz_loadu_ps(valid, src + l)), 4);
  }
}

}  // namespace

template <class T>
void gather_by_table(T* dst, const T* src, const std::int32_t* t, std::int64_t n) {
  if constexpr (std::is_same_v<T, float>)
    if (active_isa() == Isa::Avx512) return gather_f32(dst, src, t, n);
  for (std::int64_t l = 0; l < n; ++l) dst[l] = t[l] >= 0 ? src[t[l]] : T(0);
}

template <class T>
void scatter_add_by_table(T* dst, const T* src, const std::int32_t* t, std::int64_t n) {
  if constexpr (std::is_same_v<T, float>)
    if (active_isa() == Isa::Avx512) return scatter_add_f32(dst, src, t, n);
  for (std::int64_t l = 0; l < n; ++l)
    if (t[l] >= 0) dst[t[l]] += src[l];
}

template void gather_by_table<float>(float*, const float*, const std::int32_t*, std::int64_t);
template void gather_by_table<double>(double*, const double*, const std::int32_t*, std::int64_t);
template void scatter_add_by_table<float>(float*, const float*, const std::int32_t*, std::int64_t);
template void scatter_add_by_table<double>(double*, const double*, const std::int32_t*, std::int64_t);

}  // namespace mg::kernels
