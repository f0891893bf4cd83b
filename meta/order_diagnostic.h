// First- against second-order MAML on one batch: how much the Hessian term changes
// the meta-gradient (issue 20, item 3; `metalearn train --diagnose-order N`).
//
// For a batch of tasks T_i and parameters θ, with θ'_i the k inner steps of meta/adapt.h,
//   g₂ = (1/B) Σ_i ∇_θ L_Ti(f_θ'_i)                    full MAML: the chain rule through every
//                                                        inner step, Π_k (I − α∇²L_Ti(θ'⁽ᵏ⁾))
//   g₁ = (1/B) Σ_i ∇_θ' L_Ti(f_θ'_i)                   first-order MAML: those factors set to I
// and the diagnostic is
//   cosine        = ⟨g₂, g₁⟩ / (‖g₂‖ ‖g₁‖)               1: the two point the same way
//   hessian_share = ‖g₂ − g₁‖ / ‖g₂‖                    0: the Hessian term contributes nothing
// over all of θ's tensors flattened into one vector (sums in float64).
// For linear regression, L(w) = (1/n)‖X wᵀ − y‖² has the constant Hessian H = (2/n) XᵀX, so
// with one step g₂ = (I − αH_s) g₁ and g₂ − g₁ = −αH_s g₁ in closed form (tested).
//
// Cost: two meta-gradients (one of each order) of the batch, i.e. about one and a half
// meta-steps on top of the step itself; nothing is updated, so training with and
// without it is bit-identical. Memory: that of one task's meta-gradient per thread.
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/task.h"
#include "meta/maml.h"

namespace mg::meta {

struct OrderComparison {
  double cosine = 0.0;         // NaN when either meta-gradient is zero
  double hessian_share = 0.0;  // NaN when the second-order meta-gradient is zero
  double second_norm = 0.0;    // ‖g₂‖
  double first_norm = 0.0;     // ‖g₁‖
};

// The comparison of two meta-gradients given as tensors (each list one tensor per θ_j,
// same shapes in the same order). ShapeError naming the tensor for differing shapes,
// ValueError for lists of different lengths.
OrderComparison compare_orders(std::span<const Tensor> second, std::span<const Tensor> first);

// g₂ and g₁ of `tasks` at the model's current θ, with `maml`'s inner learning rate and
// step count (whatever order `maml` trains with), the tasks spread over maml's threads
// and summed in task order. ValueError for an empty batch, and for a MAML that learns its
// inner learning rates (the diagnostic compares θ's meta-gradients at one fixed α).
OrderComparison diagnose_order(const Maml& maml, std::span<const data::Task> tasks);

}  // namespace mg::meta
