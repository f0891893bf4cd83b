#include "autograd/kernels/im2col.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "autograd/kernels/sgemm.h"

#define MG_AVX512 __attribute__((target("avx512f")))

namespace mg::kernels {

namespace {

// One table run of float32 on AVX-512 (when sgemm_supported(): the same CPU check):
// sixteen entries at a time as a masked gather (im2col) or a masked gather-add-
// scatter (col2im). A run belongs to one window tap, which reads each pixel at most
// once, so the scatter's lanes never collide.
MG_AVX512 __mmask16 valid_lanes(const std::int32_t* t, std::int64_t l, std::int64_t n, __m512i* idx) {
  const __mmask16 in_run = n - l >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - l)) - 1);
  *idx = _mm512_maskz_loadu_epi32(in_run, t + l);
  return _mm512_mask_cmpge_epi32_mask(in_run, *idx, _mm512_setzero_si512());
}

MG_AVX512 void gather_run(float* dst, const float* src, const std::int32_t* t, std::int64_t n) {
  for (std::int64_t l = 0; l < n; l += 16) {
    __m512i idx;
    const __mmask16 valid = valid_lanes(t, l, n, &idx);
    const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, src, 4);
    const __mmask16 in_run = n - l >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - l)) - 1);
    _mm512_mask_storeu_ps(dst + l, in_run, v);
  }
}

MG_AVX512 void scatter_add_run(float* dst, const float* src, const std::int32_t* t, std::int64_t n) {
  for (std::int64_t l = 0; l < n; l += 16) {
    __m512i idx;
    const __mmask16 valid = valid_lanes(t, l, n, &idx);
    const __m512 cur = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, idx, dst, 4);
    const __m512 add = _mm512_add_ps(cur, _mm512_maskz_loadu_ps(valid, src + l));
    _mm512_mask_i32scatter_ps(dst, valid, idx, add, 4);
  }
}

// Note [im2col by table]: column entry (row, l) of image n, with row = (c, i, j) a
// window tap and l = (oh, ow) an output position, reads pixel
//   (c, oh·sh − ph + i, ow·sw − pw + j)
// of that image, or is zero where this falls in the padding. The pixel's offset
// within one image does not depend on n, so it is computed once per call into a
// table source[row · L + l] (−1 for padding), and both kernels become one flat
// loop per (row, image) over the table: no per-row index arithmetic and no
// library call per output row, which dominated for the small late layers (an
// output row of 3 or 7 pixels).
const std::vector<std::int32_t>& source_table(const ConvGeometry& g) {
  thread_local std::vector<std::int32_t> table;
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w(), l_n = oh_n * ow_n;
  table.resize(static_cast<std::size_t>(g.col_rows() * l_n));
  std::int32_t* t = table.data();
  for (std::int64_t c = 0; c < g.c; ++c)
    for (std::int64_t i = 0; i < g.kh; ++i)
      for (std::int64_t j = 0; j < g.kw; ++j)
        for (std::int64_t oh = 0; oh < oh_n; ++oh)
          for (std::int64_t ow = 0; ow < ow_n; ++ow) {
            const std::int64_t ih = oh * g.sh - g.ph + i, iw = ow * g.sw - g.pw + j;
            const bool inside = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
            *t++ = inside ? static_cast<std::int32_t>((c * g.h + ih) * g.w + iw) : -1;
          }
  return table;
}

// body(image n, its first pixel offset, table row, column run start) for every
// (row, image) pair, in the order of the columns' memory for each layout.
template <class Body>
void for_each_row_run(const ConvGeometry& g, Body&& body) {
  const std::int64_t l_n = g.out_h() * g.out_w(), rows = g.col_rows();
  const std::int64_t plane = std::int64_t{g.c} * g.h * g.w;
  const bool per_image = g.layout == ColLayout::PerImage;
  for (std::int64_t row = 0; row < rows; ++row)
    for (std::int64_t n = 0; n < g.n; ++n) {
      // Folded: element (row, n·L + l); PerImage: element (n, row, l).
      const std::int64_t col0 = per_image ? (n * rows + row) * l_n : row * (g.n * l_n) + n * l_n;
      body(n * plane, row * l_n, col0, l_n);
    }
}

}  // namespace

Tensor im2col(const Tensor& x, const ConvGeometry& g) {
  Tensor cols(g.cols_shape(), x.dtype());
  dispatch_float("im2col", x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* pc = cols.data<T>();
    const std::int32_t* table = source_table(g).data();
    const bool simd = sgemm_supported();
    for_each_row_run(g, [&](std::int64_t image, std::int64_t trow, std::int64_t col0, std::int64_t l_n) {
      const T* src = px + image;
      const std::int32_t* t = table + trow;
      T* dst = pc + col0;
      if constexpr (std::is_same_v<T, float>)
        if (simd) return gather_run(dst, src, t, l_n);
      for (std::int64_t l = 0; l < l_n; ++l) dst[l] = t[l] >= 0 ? src[t[l]] : T(0);
    });
  });
  return cols;
}

Tensor col2im(const Tensor& cols, const ConvGeometry& g) {
  Tensor img(g.image_shape(), cols.dtype());
  std::memset(img.raw_data(), 0, img.nbytes());
  dispatch_float("col2im", cols.dtype(), [&]<class T>() {
    const T* pc = cols.data<T>();
    T* pi = img.data<T>();
    const std::int32_t* table = source_table(g).data();
    const bool simd = sgemm_supported();
    for_each_row_run(g, [&](std::int64_t image, std::int64_t trow, std::int64_t col0, std::int64_t l_n) {
      T* dst = pi + image;
      const std::int32_t* t = table + trow;
      const T* src = pc + col0;
      if constexpr (std::is_same_v<T, float>)
        if (simd) return scatter_add_run(dst, src, t, l_n);
      for (std::int64_t l = 0; l < l_n; ++l)
        if (t[l] >= 0) dst[t[l]] += src[l];
    });
  });
  return img;
}

Tensor max_pool2d_indices(const Tensor& x, const ConvGeometry& g) {
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w();
  Tensor out({std::int64_t{g.n} * g.c, oh_n * ow_n}, DType::I64);
  dispatch_float("max_pool2d", x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    std::int64_t* po = out.data<std::int64_t>();
    const std::int64_t plane = std::int64_t{g.h} * g.w;
    for (std::int64_t p = 0; p < std::int64_t{g.n} * g.c; ++p) {
      const T* img = px + p * plane;
      for (std::int64_t oh = 0; oh < oh_n; ++oh)
        for (std::int64_t ow = 0; ow < ow_n; ++ow) {
          std::int64_t best = (oh * g.sh) * g.w + ow * g.sw;
          for (std::int64_t i = 0; i < g.kh; ++i)
            for (std::int64_t j = 0; j < g.kw; ++j) {
              const std::int64_t at = (oh * g.sh + i) * g.w + ow * g.sw + j;
              if (img[at] > img[best]) best = at;
            }
          *po++ = best;
        }
    }
  });
  return out;
}

}  // namespace mg::kernels
