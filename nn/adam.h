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
// Symbols → code: m = "m.i", v = "v.i", t = "step.i" in the optimizer state (m_, v_
// and steps_ here).
// MAML's outer loop uses Adam with lr = β = 1e-3 (Finn et al. 2017, §5).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

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

  // Typed access to the state, for an Adam run inside an algorithm (the inner loops of
  // meta/adapt.h) rather than saved by name (state(), for checkpoints):
  // the second moments v, copies, one per parameter (zeros before its first update);
  std::vector<Tensor> second_moments() const;
  // and a restart from second moments `v` (copied; one per parameter, of its shape and
  // dtype) with `step` updates already applied to every parameter and fresh first
  // moments. ValueError for a wrong count or a negative step; ShapeError for a v that
  // does not fit its parameter.
  void restart_from(std::span<const Tensor> v, std::int64_t step);

 private:
  void update(std::size_t i, Tensor& param, const Tensor& grad) override;
  AdamOptions options_;
  std::vector<Tensor> m_, v_;
};

}  // namespace mg::nn
