// MAML's inner loop on a reinforcement-learning task (Finn, Abbeel & Levine 2017, §5.3,
// Algorithm 3): the support set is a batch of trajectories sampled from π_θ, and the
// support loss is the REINFORCE surrogate of meta/policy_gradient.h with the advantages
// of those trajectories (returns minus the fitted linear baseline) as constants:
//
//   L_τ(θ) = −Σ_t mask · log π_θ(a_t | s_t) · A_t / Σ_t mask,   θ' = θ − α ∇_θ L_τ(θ)
//
// With AdaptMode::SecondOrder the step is recorded, so θ' is a differentiable function
// of θ through log π_θ on the sampled actions; the meta-objective is the same surrogate
// on trajectories τ' sampled from π_θ', L_τ'(θ'(θ)), and grad() of it is the paper's
// meta-gradient (the trajectories, and so their distribution's dependence on θ, are
// data: as in the paper's code).
//
//   NavRollout pre = rollout(env, sampler(policy, theta));
//   std::vector<Tensor> adapted = policy_adapt(policy, theta, pre, {}, 0.1, AdaptMode::SecondOrder);
//   NavRollout post = rollout(env2, sampler(policy, detached(adapted)));
//   Tensor meta_loss = policy_surrogate(policy, adapted, post, {});
#pragma once

#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/navigation.h"
#include "meta/adapt.h"
#include "nn/gaussian_policy.h"

namespace mg::meta {

struct PolicyGradientOptions {
  double discount = 0.99;
  double baseline_ridge = 1e-5;
  bool normalise_advantages = true;
  // Subtract the fitted linear baseline (false: A = G; the unbiased estimator a
  // finite-difference test compares against, tests/meta/test_nav_meta.cpp).
  bool fit_baseline = true;
};

// log π_θ(a_t | s_t) of a rollout's steps, [B, T], differentiable in θ (the policy's
// functional forward on the rollout's observations). θ in policy.parameters() order.
Tensor rollout_log_prob(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const data::NavRollout& rollout);

// A_t of a rollout's steps, [B, T]: returns, minus the fitted baseline, normalised, as
// `options` say; constants.
Tensor rollout_advantages(const data::NavRollout& rollout, const PolicyGradientOptions& options);

// The REINFORCE surrogate L_τ(θ) of a rollout: its advantages (returns, fitted baseline,
// normalisation as `options` says) are computed from the rollout alone, as constants.
Tensor policy_surrogate(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const data::NavRollout& rollout,
                        const PolicyGradientOptions& options);

// θ' = θ − α ∇_θ L_τ(θ), one step (meta/adapt.h's adapt() with L_τ as the support loss).
std::vector<Tensor> policy_adapt(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                 const data::NavRollout& rollout, const PolicyGradientOptions& options, double lr,
                                 AdaptMode mode);

}  // namespace mg::meta
