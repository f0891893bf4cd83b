// Linear: y = x Wᵀ + b, x [N, in], W [out, in], b [out] (PyTorch's layout).
// Initialised with PyTorch's defaults (nn/init.h): W, b ~ U(-1/sqrt(in), 1/sqrt(in)).
// Built in float32 or float64 (Note [Models of either dtype] in nn/module.h).
#pragma once

#include "autograd/random.h"
#include "nn/module.h"

namespace mg::nn {

class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, bool bias = true,
         DType dtype = DType::F32);
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  bool supports_task_stacks() const override { return true; }
  using Module::forward;

  Tensor& weight() { return parameter(0); }
  // Undefined when built without bias.
  Tensor& bias() { return bias_ ? parameter(1) : no_bias_; }

 private:
  bool bias_;
  Tensor no_bias_;
};

}  // namespace mg::nn
