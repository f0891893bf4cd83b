// Data movement kernels: axis permutation, concatenation, slicing and the
// index ops with their adjoints (raw loops, no tape). Axes are normalised and
// shapes checked by the ops before these run.
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"

namespace mg::kernels {

Tensor permute(const Tensor& x, const std::vector<int>& perm);
Tensor concat(std::span<const Tensor> xs, int axis, const Shape& out);
Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end);
// grad embedded at [start, start + grad.size(axis)) of zeros shaped `out`.
Tensor slice_backward(const Tensor& grad, const Shape& out, int axis, std::int64_t start);
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
// A copy of base with src's slices added at index along axis.
Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);
Tensor gather(const Tensor& x, int axis, const Tensor& index);
// A copy of base with src added at index along axis.
Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);

}  // namespace mg::kernels
