#include "nn/conv2d.h"

#include "autograd/creation.h"
#include "autograd/vision.h"
#include "nn/init.h"

namespace mg::nn {

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, int kernel, Generator& gen,
               Conv2dOptions options, DType dtype)
    : Module("Conv2d"), options_(options) {
  Tensor w = zeros({out_channels, in_channels, kernel, kernel}, dtype);
  Tensor b = options.bias ? zeros({out_channels}, dtype) : Tensor{};
  default_init_(w, b, gen);
  add_parameter("weight", w);
  if (options.bias) add_parameter("bias", b);
}

Tensor Conv2d::forward_with(const Tensor& x, ParamCursor& params) {
  const Tensor w = take(params, 0);
  const Tensor b = options_.bias ? take(params, 1) : Tensor{};
  return conv2d(x, w, b, options_.stride, options_.padding);
}

}  // namespace mg::nn
