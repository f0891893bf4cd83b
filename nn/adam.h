// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction, and L2 or
// decoupled weight decay (AdamW, Loshchilov & Hutter 2019) — PyTorch's
// torch.optim.Adam / AdamW. Per parameter θ with gradient g, at its step t:
//
//   g ← g + weight_decay · θ                 (L2, the default)
//   θ ← θ - lr · weight_decay · θ            (decoupled, instead)
//   m ← β1 m + (1 - β1) g
//   v ← β2 v + (1 - β2) g²
//   m̂ = m / (1 - β1ᵗ),  v̂ = v / (1 - β2ᵗ)
//   θ ← θ - lr · m̂ / (sqrt(v̂) + eps)
//
// Symbols → code: m = "m.i", v = "v.i", t = "step.i" in the optimizer state.
// MAML's outer loop uses Adam with lr = β = 1e-3 (Finn et al. 2017, §5).
#pragma once

#include "nn/optimizer.h"

namespace mg::nn {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  // AdamW
};

class Adam : public Optimizer {
 public:
  // ValueError unless 0 <= beta1, beta2 < 1, eps > 0 and weight_decay >= 0.
  Adam(std::vector<Tensor> params, const AdamOptions& options);

 private:
  void update(std::size_t i, Tensor& param, const Tensor& grad) override;
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
};

}  // namespace mg::nn
