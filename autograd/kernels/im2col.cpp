#include "autograd/kernels/im2col.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "autograd/kernels/cpu.h"
#include "autograd/kernels/table_copy.h"

#define MG_AVX512 __attribute__((target("avx512f")))

namespace mg::kernels {

namespace {

// Note [im2col by rows]: column entry (row, l) of image n, with row = (c, i, j) a
// window tap and l = (oh, ow) an output position, reads pixel
//   (c, oh·sh − ph + i, ow·sw − pw + j)
// of that image, or is zero where this falls in the padding. The pixel's offset
// within its channel plane depends on the tap's (i, j) and on l only, so im2col
// computes it once per call into a small table, kh·kw runs of L offsets (−1 for
// padding), and copies each (row, image) run through it (table_copy.h: an AVX-512
// gather where the CPU has it). col2im walks the same runs as loops over (oh, ow)
// with the padding's bounds worked out per tap and adds with scalar instructions:
// on an AMD EPYC the vector gather-add-scatter ran 1.4-4.5x slower than that loop
// (bench/RESULTS.md, session 15). Earlier the table held every row's offsets
// (C·kh·kw runs, rebuilt per call: 4 % of a strided MAML step) and col2im
// scattered through it. col2im adds in the same (row, image, oh, ow) order as
// then, so every pixel receives its taps' contributions in tap order: the same
// sums, bit for bit.
struct Tap {
  std::int64_t index = 0;       // i·kw + j: the tap's run in the table
  std::int64_t channel = 0;     // c·H·W: the channel's first pixel within an image
  std::int64_t di = 0, dj = 0;  // i − ph, j − pw
};

Tap tap_of(const ConvGeometry& g, std::int64_t row) {
  const std::int64_t taps = std::int64_t{g.kh} * g.kw, c = row / taps, i = row % taps / g.kw, j = row % g.kw;
  return {row % taps, c * g.h * g.w, i - g.ph, j - g.pw};
}

// Where image n's run of tap `row` starts in the columns: Folded (row, n·L + l),
// PerImage (n, row, l).
std::int64_t run_start(const ConvGeometry& g, std::int64_t row, std::int64_t n, std::int64_t l_n) {
  return g.layout == ColLayout::PerImage ? (n * g.col_rows() + row) * l_n : row * (g.n * l_n) + n * l_n;
}

// [kh·kw][L]: the offset within a channel plane of the pixel that tap (i, j) reads
// for output position l, or −1 in the padding.
const std::vector<std::int32_t>& tap_table(const ConvGeometry& g) {
  thread_local std::vector<std::int32_t> table;
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w();
  table.resize(static_cast<std::size_t>(std::int64_t{g.kh} * g.kw * oh_n * ow_n));
  std::int32_t* t = table.data();
  for (std::int64_t i = 0; i < g.kh; ++i)
    for (std::int64_t j = 0; j < g.kw; ++j)
      for (std::int64_t oh = 0; oh < oh_n; ++oh)
        for (std::int64_t ow = 0; ow < ow_n; ++ow) {
          const std::int64_t ih = oh * g.sh - g.ph + i, iw = ow * g.sw - g.pw + j;
          const bool inside = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
          *t++ = inside ? static_cast<std::int32_t>(ih * g.w + iw) : -1;
        }
  return table;
}

// The adjoint: each entry of the run added to its pixel, the padding's dropped.
template <class T>
void scatter_add_run(const ConvGeometry& g, const Tap& t, const T* run, T* image) {
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w();
  // The output columns whose pixel is inside the image: ow·sw + dj in [0, W).
  const std::int64_t ow_lo = t.dj >= 0 ? 0 : (-t.dj + g.sw - 1) / g.sw;
  const std::int64_t ow_hi = std::min(ow_n, g.w - 1 - t.dj < 0 ? 0 : (g.w - 1 - t.dj) / g.sw + 1);
  T* channel = image + t.channel;
  for (std::int64_t oh = 0; oh < oh_n; ++oh, run += ow_n) {
    const std::int64_t ih = oh * g.sh + t.di;
    if (static_cast<std::uint64_t>(ih) >= static_cast<std::uint64_t>(g.h)) continue;
    T* in_row = channel + ih * g.w + t.dj;
    for (std::int64_t ow = ow_lo; ow < ow_hi; ++ow) in_row[ow * g.sw] += run[ow];
  }
}

// Note [im2col by shift]: for a "same" convolution with stride 1 (OH = H, OW = W,
// as every 3×3 padding-1 layer of conv4), output position l = (oh, ow) of window
// tap (c, i, j) reads pixel l + shift, shift = c·H·W + (i − ph)·W + (j − pw): the
// whole run is one constant offset, valid where (oh + i − ph, ow + j − pw)
// lies inside the image. So a row of columns is the image plane shifted, under a
// validity mask that depends on the tap (i, j) alone: sixteen positions per
// masked vector load and store, with zeros written for the padding in the same
// store. It replaces the table and the row loops (Note [im2col by rows]) for these
// windows, and, unlike copying output row by output row with vectors, never
// reloads a vector that the previous store only partly wrote (a store-forwarding
// stall that cost col2im most of its time).
struct ShiftMasks {
  std::int64_t chunks = 0;           // ⌈L / 16⌉
  std::vector<std::uint16_t> masks;  // [kh·kw][chunks]: valid positions, 16 per chunk
};

bool use_shift(const ConvGeometry& g) { return g.sh == 1 && g.sw == 1 && g.out_h() == g.h && g.out_w() == g.w; }

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

// The pixel offset of tap t relative to the output position.
std::int64_t tap_shift(const ConvGeometry& g, const Tap& t) { return t.channel + t.di * g.w + t.dj; }

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

// body(tap, image n's first pixel offset, its run's start in the columns) for every
// (row, image) pair with row in [row_begin, row_end), in the order of the columns'
// memory for each layout (Note [im2col by rows]).
template <class Body>
void for_each_run(const ConvGeometry& g, std::int64_t row_begin, std::int64_t row_end, Body&& body) {
  const std::int64_t l_n = g.out_h() * g.out_w(), plane = std::int64_t{g.c} * g.h * g.w;
  for (std::int64_t row = row_begin; row < row_end; ++row) {
    const Tap t = tap_of(g, row);
    for (std::int64_t n = 0; n < g.n; ++n) body(t, n * plane, run_start(g, row, n, l_n));
  }
}

}  // namespace

template <class T>
void im2col_rows(const T* px, const ConvGeometry& g, T* pc, std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t l_n = g.out_h() * g.out_w();
  if constexpr (std::is_same_v<T, float>)
    if (active_isa() == Isa::Avx512 && use_shift(g))  // Note [im2col by shift]
      return for_each_run(
          g, row_begin, row_end, [&, &s = shift_masks(g)](const Tap& t, std::int64_t image, std::int64_t col0) {
            shift_copy(pc + col0, px + image + tap_shift(g, t), s.masks.data() + t.index * s.chunks, l_n);
          });
  const std::int32_t* table = tap_table(g).data();
  for_each_run(g, row_begin, row_end, [&](const Tap& t, std::int64_t image, std::int64_t col0) {
    gather_by_table(pc + col0, px + image + t.channel, table + t.index * l_n, l_n);
  });
}

template <class T>
void im2col_raw(const T* px, const ConvGeometry& g, T* pc) {
  im2col_rows(px, g, pc, 0, g.col_rows());
}

template <class T>
void col2im_raw(const T* pc, const ConvGeometry& g, T* pi) {
  std::memset(pi, 0, static_cast<std::size_t>(g.image_shape().numel()) * sizeof(T));
  const std::int64_t l_n = g.out_h() * g.out_w();
  if constexpr (std::is_same_v<T, float>)
    if (active_isa() == Isa::Avx512 && use_shift(g))  // Note [im2col by shift]
      return for_each_run(
          g, 0, g.col_rows(), [&, &s = shift_masks(g)](const Tap& t, std::int64_t image, std::int64_t col0) {
            shift_add(pi + image + tap_shift(g, t), pc + col0, s.masks.data() + t.index * s.chunks, l_n);
          });
  for_each_run(g, 0, g.col_rows(), [&](const Tap& t, std::int64_t image, std::int64_t col0) {
    scatter_add_run(g, t, pc + col0, pi + image);
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
