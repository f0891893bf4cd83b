#include "autograd/kernels/im2col.h"

#include <immintrin.h>

#include <cstring>
#include <type_traits>
#include <vector>

#include "autograd/kernels/cpu.h"
#include "autograd/kernels/table_copy.h"

#define MG_AVX512 __attribute__((target("avx512f")))

namespace mg::kernels {

namespace {

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

// Note [im2col by shift]: for a "same" convolution with stride 1 (OH = H, OW = W,
// as every 3×3 padding-1 layer of conv4), output position l = (oh, ow) of window
// tap (c, i, j) reads pixel l + shift, shift = c·H·W + (i − ph)·W + (j − pw): the
// whole table row is one constant offset, valid where (oh + i − ph, ow + j − pw)
// lies inside the image. So a row of columns is the image plane shifted, under a
// validity mask that depends on the tap (i, j) alone: sixteen positions per
// masked vector load and store, with zeros written for the padding in the same
// store. It replaces the table's gather (im2col) and gather-add-scatter (col2im),
// and, unlike copying row by row, never reloads a vector that the previous store
// only partly wrote (a store-forwarding stall that cost col2im most of its time).
struct ShiftMasks {
  std::int64_t chunks = 0;             // ⌈L / 16⌉
  std::vector<std::uint16_t> masks;    // [kh·kw][chunks]: valid positions, 16 per chunk
};

bool use_shift(const ConvGeometry& g) {
  return g.sh == 1 && g.sw == 1 && g.out_h() == g.h && g.out_w() == g.w;
}

const ShiftMasks& shift_masks(const ConvGeometry& g) {
  thread_local ShiftMasks s;
  const std::int64_t l_n = g.out_h() * g.out_w();
  s.chunks = (l_n + 15) / 16;
  s.masks.assign(static_cast<std::size_t>(std::int64_t{g.kh} * g.kw * s.chunks), 0);
  for (std::int64_t i = 0; i < g.kh; ++i)
    for (std::int64_t j = 0; j < g.kw; ++j)
      for (std::int64_t l = 0; l < l_n; ++l) {
        const std::int64_t ih = l / g.w + i - g.ph, iw = l % g.w + j - g.pw;
        if (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w)
          s.masks[static_cast<std::size_t>((i * g.kw + j) * s.chunks + l / 16)] |= std::uint16_t(1u << (l % 16));
      }
  return s;
}

// The pixel offset of tap `row` = (c, i, j) relative to the output position.
std::int64_t tap_shift(const ConvGeometry& g, std::int64_t row) {
  const std::int64_t taps = std::int64_t{g.kh} * g.kw, c = row / taps, i = row % taps / g.kw, j = row % g.kw;
  return (c * g.h + i - g.ph) * g.w + (j - g.pw);
}

// cols[l] = valid(l) ? image[l] : 0 for l < n, where image is already shifted.
MG_AVX512 void shift_copy(float* cols, const float* image, const std::uint16_t* masks, std::int64_t n) {
  for (std::int64_t l = 0, k = 0; l < n; l += 16, ++k) {
    const __mmask16 in_row = n - l >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - l)) - 1);
    _mm512_mask_storeu_ps(cols + l, in_row, _mm512_maskz_loadu_ps(masks[k], image + l));
  }
}

// image[l] += cols[l] where valid(l), for l < n (image already shifted).
MG_AVX512 void shift_add(float* image, const float* cols, const std::uint16_t* masks, std::int64_t n) {
  for (std::int64_t l = 0, k = 0; l < n; l += 16, ++k) {
    const __mmask16 m = masks[k];
    const __m512 sum = _mm512_add_ps(_mm512_maskz_loadu_ps(m, image + l), _mm512_maskz_loadu_ps(m, cols + l));
    _mm512_mask_storeu_ps(image + l, m, sum);
  }
}

// body(image n, its first pixel offset, table row, column run start) for every
// (row, image) pair with row in [row_begin, row_end), in the order of the columns'
// memory for each layout.
template <class Body>
void for_each_row_run(const ConvGeometry& g, std::int64_t row_begin, std::int64_t row_end, Body&& body) {
  const std::int64_t l_n = g.out_h() * g.out_w(), rows = g.col_rows();
  const std::int64_t plane = std::int64_t{g.c} * g.h * g.w;
  const bool per_image = g.layout == ColLayout::PerImage;
  for (std::int64_t row = row_begin; row < row_end; ++row)
    for (std::int64_t n = 0; n < g.n; ++n) {
      // Folded: element (row, n·L + l); PerImage: element (n, row, l).
      const std::int64_t col0 = per_image ? (n * rows + row) * l_n : row * (g.n * l_n) + n * l_n;
      body(n * plane, row * l_n, col0, l_n);
    }
}

// body(first pixel of the shifted plane, column run start, the tap's masks, L) for
// every (row, image) pair of a "same" stride-1 window (Note [im2col by shift]).
template <class Body>
void for_each_shifted_row(const ConvGeometry& g, std::int64_t row_begin, std::int64_t row_end, Body&& body) {
  const ShiftMasks& s = shift_masks(g);
  const std::int64_t taps = std::int64_t{g.kh} * g.kw;
  for_each_row_run(g, row_begin, row_end, [&](std::int64_t image, std::int64_t trow, std::int64_t col0, std::int64_t l_n) {
    const std::int64_t row = trow / l_n;
    body(image + tap_shift(g, row), col0, s.masks.data() + row % taps * s.chunks, l_n);
  });
}

}  // namespace

template <class T>
void im2col_rows(const T* px, const ConvGeometry& g, T* pc, std::int64_t row_begin, std::int64_t row_end) {
  if constexpr (std::is_same_v<T, float>)
    if (active_isa() == Isa::Avx512 && use_shift(g))  // Note [im2col by shift]
      return for_each_shifted_row(g, row_begin, row_end,
                                  [&](std::int64_t pixel0, std::int64_t col0, const std::uint16_t* masks,
                                      std::int64_t l_n) { shift_copy(pc + col0, px + pixel0, masks, l_n); });
  const std::int32_t* table = source_table(g).data();
  for_each_row_run(g, row_begin, row_end, [&](std::int64_t image, std::int64_t trow, std::int64_t col0,
                                              std::int64_t l_n) {
    gather_by_table(pc + col0, px + image, table + trow, l_n);
  });
}

template <class T>
void im2col_raw(const T* px, const ConvGeometry& g, T* pc) {
  im2col_rows(px, g, pc, 0, g.col_rows());
}

template <class T>
void col2im_raw(const T* pc, const ConvGeometry& g, T* pi) {
  std::memset(pi, 0, static_cast<std::size_t>(g.image_shape().numel()) * sizeof(T));
  if constexpr (std::is_same_v<T, float>)
    if (active_isa() == Isa::Avx512 && use_shift(g))  // Note [im2col by shift]
      return for_each_shifted_row(g, 0, g.col_rows(),
                                  [&](std::int64_t pixel0, std::int64_t col0, const std::uint16_t* masks,
                                      std::int64_t l_n) { shift_add(pi + pixel0, pc + col0, masks, l_n); });
  const std::int32_t* table = source_table(g).data();
  for_each_row_run(g, 0, g.col_rows(), [&](std::int64_t image, std::int64_t trow, std::int64_t col0, std::int64_t l_n) {
    scatter_add_by_table(pi + image, pc + col0, table + trow, l_n);
  });
}

template void im2col_raw<float>(const float*, const ConvGeometry&, float*);
template void im2col_rows<float>(const float*, const ConvGeometry&, float*, std::int64_t, std::int64_t);
template void im2col_rows<double>(const double*, const ConvGeometry&, double*, std::int64_t, std::int64_t);
template void im2col_raw<double>(const double*, const ConvGeometry&, double*);
template void col2im_raw<float>(const float*, const ConvGeometry&, float*);
template void col2im_raw<double>(const double*, const ConvGeometry&, double*);

Tensor im2col(const Tensor& x, const ConvGeometry& g) {
  Tensor cols(g.cols_shape(), x.dtype());
  dispatch_float("im2col", x.dtype(), [&]<class T>() { im2col_raw(x.data<T>(), g, cols.mutable_data<T>()); });
  return cols;
}

Tensor col2im(const Tensor& cols, const ConvGeometry& g) {
  Tensor img(g.image_shape(), cols.dtype());
  dispatch_float("col2im", cols.dtype(), [&]<class T>() { col2im_raw(cols.data<T>(), g, img.mutable_data<T>()); });
  return img;
}

}  // namespace mg::kernels
