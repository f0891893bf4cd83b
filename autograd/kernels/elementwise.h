// Elementwise kernels: raw loops over contiguous buffers, with broadcasting.
// No tape here: the ops in autograd/ call these for their forward passes.
#pragma once

#include "autograd/kernels/elementwise_ops.h"
#include "autograd/tensor.h"

namespace mg::kernels {

// a (op) b broadcast to `out`; comparisons give 0/1 in a's dtype.
Tensor binary(Binary op, const Tensor& a, const Tensor& b, const Shape& out);
// dst += src in place, same shape and dtype (the engine's gradient sums, grad.cpp).
void add_into(Tensor& dst, const Tensor& src);
// f(x) elementwise; p and q are the op's scalars (exponent, slope, clamp bounds).
Tensor unary(Unary op, const Tensor& x, double p = 0.0, double q = 0.0);
// cond != 0 ? a : b, all broadcast to `out`; cond may have any dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, const Shape& out);

}  // namespace mg::kernels
