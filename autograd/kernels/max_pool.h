// Max pooling over the windows of unpadded [N, C, H, W] images, by the arg-max of
// each window (the first pixel in row-major tap order wins ties; the first NaN wins
// over any number). The arg-max is found again by every kernel from the `keys` images
// rather than stored (Note [max-pool without indices] in autograd/ops_vision.cpp).
// float32 2x2 windows at stride 2 go through the row-pair kernels of every path (Note
// [max-pool in row pairs], max_pool_pairs_isa.cpp); other float32 windows on the
// AVX-512 path are found sixteen at a time with masked gathers. Every path gives the
// scalar loop's result, ties and NaNs included.
#pragma once

#include <cstdint>

#include "autograd/kernels/im2col.h"
#include "autograd/tensor.h"

namespace mg::kernels {

// For each window, the position (ih * W + iw) of its largest pixel within its own
// [H, W] plane: int64 [N*C, OH*OW].
Tensor max_pool2d_indices(const Tensor& x, const ConvGeometry& g);
// values at the arg-max of keys' windows: [N, C, OH, OW] (keys and values [N, C, H, W]).
Tensor max_pool_select(const Tensor& keys, const Tensor& values, const ConvGeometry& g);
// grad [N, C, OH, OW] added into zeros [N, C, H, W] at the arg-max of keys' windows.
Tensor max_pool_scatter(const Tensor& keys, const Tensor& grad, const ConvGeometry& g);

}  // namespace mg::kernels
