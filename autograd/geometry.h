// The geometry of image ops, shared by the differentiable ops (autograd/vision.h) and
// their kernels (autograd/kernels/im2col.h): plain values, no tensors and no tape, so a
// kernel header can include it without seeing the recorded ops.
#pragma once

#include <cstdint>

namespace mg {

// A (height, width) pair; a single int means the same for both.
struct Size2 {
  int h = 1, w = 1;
  constexpr Size2(int s) : h(s), w(s) {}  // NOLINT: implicit on purpose (conv2d(x, w, b, 1, 1))
  constexpr Size2(int h_, int w_) : h(h_), w(w_) {}
};

// How im2col arranges its columns (autograd/kernels/im2col.h): Folded is
// [C*kh*kw, N*OH*OW] (one GEMM for the batch), PerImage is [N, C*kh*kw, OH*OW]
// (one GEMM per image, whose output is already NCHW).
enum class ColLayout : std::int32_t { Folded, PerImage };

}  // namespace mg
