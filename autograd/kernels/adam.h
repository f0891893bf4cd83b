// Adam's update of one parameter tensor in place, on the active CPU path (adam_isa.h).
#pragma once

#include "autograd/kernels/adam_isa.h"
#include "autograd/tensor.h"

namespace mg::kernels {

// theta, m and v updated in place from grad (adam_isa.h has the formula). All four of
// one floating dtype and one number of elements, m and v not aliasing theta or grad
// (nn::Adam's state): ValueError naming the tensor that differs.
void adam_update(Tensor& theta, const Tensor& grad, Tensor& m, Tensor& v, const AdamStep& step);

// The same update as a plain scalar loop, compiled once with the build's baseline flags
// (std::sqrt may set errno, so it does not vectorise): the loop nn::Adam ran before the
// kernels. The tests hold every path's bits to it; bench_ops times it beside them. Same
// checks and errors as adam_update.
void adam_update_scalar(Tensor& theta, const Tensor& grad, Tensor& m, Tensor& v, const AdamStep& step);

}  // namespace mg::kernels
