// Reduction and broadcast kernels (raw loops, no tape).
#pragma once

#include <bitset>

#include "autograd/shape.h"
#include "autograd/tensor.h"

namespace mg::kernels {

using AxisMask = std::bitset<kMaxDims>;

// Sum or max of x over the axes in `mask`, laid out as `out` (keepdim or not: same order).
Tensor sum(const Tensor& x, AxisMask mask, const Shape& out);
Tensor max(const Tensor& x, AxisMask mask, const Shape& out);
// x repeated along broadcast dimensions to `out`.
Tensor broadcast_to(const Tensor& x, const Shape& out);
// Index of the maximum along `axis` (first on ties), int64, axis removed.
Tensor argmax(const Tensor& x, int axis);

}  // namespace mg::kernels
