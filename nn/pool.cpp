#include "nn/pool.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/vision.h"

namespace mg::nn {

Tensor MaxPool2d::forward_with(const Tensor& x, ParamCursor&) { return max_pool2d(x, kernel_, stride_); }

Tensor Flatten::forward_with(const Tensor& x, ParamCursor&) {
  if (x.ndim() < 1) throw ShapeError(fmt::format("Flatten: x needs a batch axis: x is {}", x.shape().str()));
  return reshape(x, {x.shape()[0], -1});
}

}  // namespace mg::nn
