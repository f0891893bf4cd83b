// The pieces of a vanilla policy-gradient (REINFORCE) step, as the MAML paper's
// reinforcement-learning experiments use it for the inner loop (Finn, Abbeel & Levine
// 2017, §5.3, after Williams 1992 and the linear feature baseline of Duan et al. 2016):
//
//   G_t  = Σ_{k ≥ t} γ^{k−t} r_k                      discounted_returns
//   b_t  = w · φ(s_t, t),  w = argmin Σ (G_t − b_t)² + λ‖w‖²     fit_baseline / baseline_values
//   A_t  = G_t − b_t  (then centred and scaled to unit variance)  advantages
//   L(θ) = −Σ_t mask_t · log π_θ(a_t | s_t) · A_t / Σ_t mask_t     reinforce_loss
//
// ∇_θ L is minus the policy-gradient estimate, so a step θ − α ∇_θ L climbs the return;
// taken with create_graph, it is differentiable in θ like any inner step (meta/adapt.h).
// Tensors are [B, T, ...] over B trajectories padded to T steps, with mask [B, T] = 1
// on the steps that happened (datasets/navigation.h, NavRollout).
#pragma once

#include <vector>

#include "autograd/tensor.h"

namespace mg::meta {

// G [B, T] of rewards [B, T] under discount γ ∈ [0, 1], 0 where mask is 0. Not
// differentiable (returns are data). ShapeError for mismatched shapes, ValueError for γ
// outside [0, 1].
Tensor discounted_returns(const Tensor& rewards, const Tensor& mask, double discount);

// φ(s, t) per step, [B, T, 2·obs + 4]: the observation (clipped to [−10, 10]), its
// square, t/100, (t/100)², (t/100)³ and 1 — the linear feature baseline's features.
// ShapeError unless observations are [B, T, obs].
Tensor baseline_features(const Tensor& observations);

// The ridge least-squares weights of `returns` on `features` over the masked steps,
// solved in double precision. λ = reg at first, ten times larger while the solve is
// not finite (at most five tries; then ValueError). ShapeError for mismatched shapes.
std::vector<double> fit_baseline(const Tensor& features, const Tensor& returns, const Tensor& mask, double reg = 1e-5);

// w · φ per step, [B, T], in the features' dtype; 0 where mask is 0.
Tensor baseline_values(const Tensor& features, const std::vector<double>& weights, const Tensor& mask);

// A = G − b over the masked steps, then (when `normalise`) centred and divided by its
// standard deviation (+1e-8), as rllab's center_adv; 0 where mask is 0. Not
// differentiable. ValueError when no step is masked in.
Tensor advantages(const Tensor& returns, const Tensor& baseline, const Tensor& mask, bool normalise = true);

// −Σ mask · log_prob · A / Σ mask: the REINFORCE surrogate, a scalar. log_prob [B, T]
// carries the gradient (nn/gaussian_policy.h, gaussian_log_prob); A and mask are
// constants. ShapeError for mismatched shapes, ValueError when no step is masked in.
Tensor reinforce_loss(const Tensor& log_prob, const Tensor& advantage, const Tensor& mask);

}  // namespace mg::meta
