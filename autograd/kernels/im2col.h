// im2col / col2im and the max-pool arg-max: raw loops over NCHW images, no tape.
//
// A window of kh x kw taps slides over the zero-padded image with strides
// (sh, sw). For output position (oh, ow) tap (i, j) reads input pixel
//   (ih, iw) = (oh * sh - ph + i, ow * sw - pw + j),   zero when outside the image,
// and OH = (H + 2 ph - kh) / sh + 1, OW = (W + 2 pw - kw) / sw + 1 (floor).
//
// Column layout: cols is [C * kh * kw, N * OH * OW], row r = (c, i, j) and
// column (n, oh, ow), both row-major. One GEMM W[F, C*kh*kw] @ cols then
// convolves the whole batch at once, and the innermost loop (over ow) is
// contiguous in cols and strided by sw in the image.
#pragma once

#include <cstdint>

#include "autograd/tensor.h"

namespace mg::kernels {

// Everything the two kernels need; trivially copyable so ops store it as attributes.
struct ConvGeometry {
  std::int32_t n = 0, c = 0, h = 0, w = 0;  // image [N, C, H, W]
  std::int32_t kh = 1, kw = 1;              // window
  std::int32_t sh = 1, sw = 1;              // stride
  std::int32_t ph = 0, pw = 0;              // zero padding on each side
  std::int64_t out_h() const { return (h + 2 * ph - kh) / sh + 1; }
  std::int64_t out_w() const { return (w + 2 * pw - kw) / sw + 1; }
  Shape image_shape() const { return {n, c, h, w}; }
  Shape cols_shape() const { return {std::int64_t{c} * kh * kw, n * out_h() * out_w()}; }
};

// [N, C, H, W] -> [C*kh*kw, N*OH*OW]
Tensor im2col(const Tensor& x, const ConvGeometry& g);
// [C*kh*kw, N*OH*OW] -> [N, C, H, W]: every column entry added back to the pixel it
// was read from (the adjoint of im2col; overlapping windows accumulate).
Tensor col2im(const Tensor& cols, const ConvGeometry& g);
// For each window of an unpadded image, the position (ih * W + iw) of its largest
// pixel within its own [H, W] plane (first on ties): int64 [N*C, OH*OW].
Tensor max_pool2d_indices(const Tensor& x, const ConvGeometry& g);

}  // namespace mg::kernels
