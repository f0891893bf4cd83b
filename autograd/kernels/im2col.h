// im2col / col2im: raw loops over NCHW images, no tape.
//
// A window of kh x kw taps slides over the zero-padded image with strides
// (sh, sw). For output position (oh, ow) tap (i, j) reads input pixel
//   (ih, iw) = (oh * sh - ph + i, ow * sw - pw + j),   zero when outside the image,
// and OH = (H + 2 ph - kh) / sh + 1, OW = (W + 2 pw - kw) / sw + 1 (floor).
//
// Column layouts (row r = (c, i, j), position l = (oh, ow), both row-major):
//   Folded    cols [C*kh*kw, N*OH*OW], column (n, l): one GEMM W[F, C*kh*kw] @ cols
//             convolves the whole batch, giving [F, N*L] (to be permuted to NCHW).
//   PerImage  cols [N, C*kh*kw, OH*OW]: W @ cols[n] for every n gives [N, F, L],
//             which is NCHW already (no permute), at the price of N smaller GEMMs.
// Either way the innermost loop (over ow) is contiguous in cols and strided by
// sw in the image.
#pragma once

#include <cstdint>

#include "autograd/geometry.h"  // ColLayout, Size2
#include "autograd/tensor.h"

namespace mg::kernels {

// Everything the two kernels need; trivially copyable so ops store it as attributes.
struct ConvGeometry {
  std::int32_t n = 0, c = 0, h = 0, w = 0;  // image [N, C, H, W]
  std::int32_t kh = 1, kw = 1;              // window
  std::int32_t sh = 1, sw = 1;              // stride
  std::int32_t ph = 0, pw = 0;              // zero padding on each side
  ColLayout layout = ColLayout::Folded;
  std::int64_t out_h() const { return (h + 2 * ph - kh) / sh + 1; }
  std::int64_t out_w() const { return (w + 2 * pw - kw) / sw + 1; }
  Shape image_shape() const { return {n, c, h, w}; }
  std::int64_t col_rows() const { return std::int64_t{c} * kh * kw; }
  Shape cols_shape() const {
    if (layout == ColLayout::PerImage) return {n, col_rows(), out_h() * out_w()};
    return {col_rows(), n * out_h() * out_w()};
  }
};

// [N, C, H, W] -> cols_shape() ([C*kh*kw, N*OH*OW] or [N, C*kh*kw, OH*OW])
Tensor im2col(const Tensor& x, const ConvGeometry& g);
// cols_shape() -> [N, C, H, W]: every column entry added back to the pixel it
// was read from (the adjoint of im2col; overlapping windows accumulate).
Tensor col2im(const Tensor& cols, const ConvGeometry& g);
// The same on raw arrays (kernels/conv_gemm.cpp runs them on chunks of images):
// cols must hold cols_shape().numel() values, img image_shape().numel(); col2im_raw
// zeroes img first. Instantiated for float and double.
template <class T>
void im2col_raw(const T* x, const ConvGeometry& g, T* cols);
// Only the rows [row_begin, row_end) of cols (row r = (c, i, j)), the others untouched.
template <class T>
void im2col_rows(const T* x, const ConvGeometry& g, T* cols, std::int64_t row_begin, std::int64_t row_end);
template <class T>
void col2im_raw(const T* cols, const ConvGeometry& g, T* img);
}  // namespace mg::kernels
