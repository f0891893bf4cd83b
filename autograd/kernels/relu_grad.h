// The gradient of relu as one pass: grad where the relu's output is positive, else 0.
#pragma once

#include "autograd/tensor.h"

namespace mg::kernels {

// out[i] = grad[i] * (y[i] > 0 ? 1 : 0); grad and y of one shape and dtype. With
// in_place, out is grad itself (its storage overwritten; Note [donated gradients]).
Tensor relu_grad(const Tensor& grad, const Tensor& y, bool in_place = false);

}  // namespace mg::kernels
