// Conv2d: y = conv2d(x, W, b, stride, padding) (autograd/vision.h), NCHW,
// W [out, in, k, k], b [out]. Initialised with PyTorch's defaults (nn/init.h):
// W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in * k * k.
// Built in float32 or float64 (Note [Models of either dtype] in nn/module.h).
#pragma once

#include "autograd/random.h"
#include "nn/module.h"

namespace mg::nn {

struct Conv2dOptions {
  int stride = 1;
  int padding = 0;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, int kernel, Generator& gen, Conv2dOptions options = {},
         DType dtype = DType::F32);
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  using Module::forward;

  Tensor& weight() { return parameter(0); }
  // Undefined when built without bias.
  Tensor& bias() { return options_.bias ? parameter(1) : no_bias_; }
  const Conv2dOptions& options() const { return options_; }

 private:
  Conv2dOptions options_;
  Tensor no_bias_;
};

}  // namespace mg::nn
