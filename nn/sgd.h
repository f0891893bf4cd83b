// SGD with momentum, Nesterov momentum and L2 weight decay — PyTorch's
// torch.optim.SGD (Sutskever et al. 2013 in PyTorch's formulation). Per
// parameter θ with gradient g, at step t:
//
//   g ← g + weight_decay · θ
//   b ← g                                  (t = 1)
//   b ← momentum · b + (1 - dampening) · g  (t > 1)       (only when momentum ≠ 0)
//   g ← g + momentum · b   (nesterov)   or   g ← b
//   θ ← θ - lr · g
//
// Symbols → code: b = "momentum_buffer.i". The arithmetic runs in double and is
// rounded to the parameter's type once per element.
#pragma once

#include "nn/optimizer.h"

namespace mg::nn {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class Sgd : public Optimizer {
 public:
  // ValueError for a negative momentum or weight decay, or Nesterov without momentum or with dampening.
  Sgd(std::vector<Tensor> params, const SgdOptions& options);

 private:
  void update(std::size_t i, Tensor& param, const Tensor& grad) override;
  SgdOptions options_;
  std::vector<Tensor> momentum_;
};

}  // namespace mg::nn
