// Second-order adaptation in memory that does not grow with the number of inner
// steps: gradient checkpointing of the inner loop (issue 16, item 4).
//
//   θ'⁽⁰⁾ = start(θ),   θ'⁽ⁱ⁾ = θ'⁽ⁱ⁻¹⁾ − α ∇L_s(θ'⁽ⁱ⁻¹⁾)        (i = 1 … k, meta/adapt.h)
//
// Second-order MAML differentiates a query loss L_q(θ'⁽ᵏ⁾) through all k steps. With
// adapt(…, AdaptMode::SecondOrder) the tape holds, for every step, its forward and
// the recorded graph of its gradient: memory ∝ k. Here the forward keeps only the
// values θ'⁽⁰⁾ … θ'⁽ᵏ⁾ (k + 1 copies of θ), and backward() walks the steps in
// reverse, recomputing step i from θ'⁽ⁱ⁻¹⁾ and taking its vector-Jacobian product
//
//   ḡ⁽ⁱ⁻¹⁾ = ḡ⁽ⁱ⁾ · ∂θ'⁽ⁱ⁾/∂θ'⁽ⁱ⁻¹⁾ = (I − α ∇²L_s(θ'⁽ⁱ⁻¹⁾)) ḡ⁽ⁱ⁾,   ḡ_α += ḡ⁽ⁱ⁾ · ∂θ'⁽ⁱ⁾/∂α
//
// with one step's graph alive at a time: peak memory ≈ one step's, for 1 step or 100,
// plus k + 1 copies of θ. The cost is one more forward and recorded inner gradient per
// step. The result is bit-identical to differentiating the full tape (Note
// [Checkpointed steps are bit-identical], checkpointed_adapt.cpp; bench/RESULTS.md has
// Omniglot's peaks for k = 1, 5, 10, 20).
//
// Who uses it: MAML second order, with or without learned per-tensor rates (LSLR), and
// Meta-SGD (MamlOptions / MetaSgdOptions::checkpoint_steps, metalearn --checkpoint-steps).
// First order has no inner graph to recompute (its θ' = θ − α·stop(g) is linear in θ), so
// the option is refused there. MAML++ is not wired: its multi-step loss reads every θ'⁽ⁱ⁾,
// so its query terms at step i would join ḡ⁽ⁱ⁾ before step i is recomputed, in the order
// the full tape sums them, and its per-step batch-norm weights are further inputs of
// step i. ANIL adapts only the head on features computed once, so its inner steps keep
// little (the head's graph); the same class would serve it with the head loss.
//
//   CheckpointedAdapt steps(support_loss, group.start, theta, {inner_lr, alpha}, k);
//   Tensor loss = query_loss(steps.adapted());
//   std::vector<Tensor> g_theta_alpha = steps.backward(grad({loss}, steps.adapted()));
//
// Symbols → code: θ = theta, θ'⁽ⁱ⁾ = the i-th stored value, α = lr, ḡ⁽ⁱ⁾ = grad_adapted.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/adapt.h"
#include "meta/driver.h"

namespace mg::meta {

class TaskGroup;

// θ'⁽⁰⁾ from θ: θ itself, or TaskGroup::start's copy per task of a stack.
using AdaptStart = std::function<std::vector<Tensor>(std::span<const Tensor> theta)>;

class CheckpointedAdapt {
 public:
  // Runs the k steps of adapt(support_loss, start(theta), lr, steps, SecondOrder),
  // keeping only their results. `theta` and lr.per_tensor must be leaves that require
  // grad on this thread's tape (thread_aliases) and outlive this object, as must the
  // support loss. ValueError for steps < 1 or a per-tensor count that differs from θ's.
  CheckpointedAdapt(SupportLoss support_loss, AdaptStart start, std::span<const Tensor> theta, const InnerLr& lr,
                    int steps);

  // θ'⁽ᵏ⁾, as leaves that require grad (no graph behind them).
  const std::vector<Tensor>& adapted() const { return adapted_; }

  // ∂L/∂θ then ∂L/∂α_j (when lr.per_tensor is given), detached, given ḡ⁽ᵏ⁾ = ∂L/∂θ'⁽ᵏ⁾ (one
  // tensor per tensor of θ'; an undefined one is zero). A tensor L does not reach gets zeros,
  // as detached_gradient gives. The result is a value, not differentiable again (third
  // order would need the full tape); nothing it records outlives the call. ValueError when
  // grad_adapted has the wrong count.
  std::vector<Tensor> backward(std::span<const Tensor> grad_adapted) const;

 private:
  SupportLoss support_loss_;
  AdaptStart start_;
  std::vector<Tensor> theta_;
  double lr_value_;
  std::vector<Tensor> lr_per_tensor_;
  std::vector<std::vector<Tensor>> inputs_;  // θ'⁽¹⁾ … θ'⁽ᵏ⁻¹⁾, detached (step i + 1 starts at inputs_[i - 1])
  std::vector<Tensor> adapted_;              // θ'⁽ᵏ⁾
};

// MAML's (and Meta-SGD's) per-task step with checkpointed inner steps: the summed query
// loss of `group` after `steps` second-order steps, its metrics, and its gradient with
// respect to θ and then α_j (lr.per_tensor), detached: bit for bit what
// adapt(…, SecondOrder), predict_query, query_loss and detached_gradient give, in memory
// that does not grow with `steps`. `theta` and lr.per_tensor: this thread's leaves.
GroupResult checkpointed_query_gradient(const TaskGroup& group, std::span<const Tensor> theta, const InnerLr& lr,
                                        int steps);

}  // namespace mg::meta
