// The three GEMMs of a convolution, run over chunks of images so that the im2col
// columns never exist for the whole batch at once (Note [conv in chunks]).
// With cols = im2col(x) ([K, N*L] Folded or [N, K, L] PerImage, K = C*kh*kw,
// L = OH*OW; layouts as in kernels/im2col.h) and W [F, K]:
//   conv_forward(x, W)         = W @ cols                 Folded [F, N*L], PerImage [N, F, L]
//   conv_input_grad(G, W)      = col2im(Wᵀ @ G)           [N, C, H, W]
//   conv_weight_grad(x, G)     = G @ colsᵀ (summed over images)   [F, K]
// No tape: the ops in autograd/ops_vision.cpp record them.
#pragma once

#include <cstdint>

#include "autograd/kernels/im2col.h"
#include "autograd/tensor.h"

namespace mg::kernels {

Tensor conv_forward(const Tensor& x, const Tensor& w, const ConvGeometry& g);
Tensor conv_input_grad(const Tensor& grad, const Tensor& w, const ConvGeometry& g);
Tensor conv_weight_grad(const Tensor& x, const Tensor& grad, const ConvGeometry& g, std::int64_t filters);

// How many images one chunk holds: as many as fit their columns in conv_chunk_bytes(),
// at least one.
std::int64_t conv_chunk_images(const ConvGeometry& g, std::size_t element_bytes);
// The columns' budget per chunk (default 4 MiB), and setting it (tests use a small
// one to run many chunks on small shapes). Process-wide.
// The fewest images per part when the forward and the input gradient split their images
// over op threads (Note [conv over parts]): enough for kSplitMacs (sgemm.h) multiply-adds.
std::int64_t conv_split_grain(std::int64_t macs_per_image);

std::size_t conv_chunk_bytes();
void set_conv_chunk_bytes(std::size_t bytes);

}  // namespace mg::kernels
