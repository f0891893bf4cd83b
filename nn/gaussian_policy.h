// A Gaussian policy for continuous actions, π(a | s) = N(μ_θ(s), diag(σ²)): the MAML
// paper's reinforcement-learning policy (Finn, Abbeel & Levine 2017, §5.3) is an MLP
// with two hidden layers of 100 ReLU units for μ, and σ = exp(log_std), a learned vector
// that does not depend on the state.
//
// forward(s [B, obs]) returns the whole distribution as one tensor [B, 2, act]: entry
// [b, 0, :] is μ(s_b), entry [b, 1, :] the log standard deviation (the same for every
// b). The functions below take that tensor, so the functional forward with a list of
// parameters (MAML's θ') gives a distribution like the module's own:
//
//   mg::nn::GaussianPolicy policy = mg::nn::nav_policy(gen);         // 2 -> 100 -> 100 -> 2
//   mg::Tensor dist = policy.forward(states);                        // [B, 2, 2]
//   mg::Tensor a = mg::nn::gaussian_sample(dist, gen);               // [B, 2], no gradient
//   mg::Tensor logp = mg::nn::gaussian_log_prob(dist, a);            // [B], differentiable
//
// Parameters, in order: "log_std" [act], then the MLP's ("mean.0.weight", ...).
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "nn/module.h"

namespace mg::nn {

class GaussianPolicy : public Module {
 public:
  // An MLP obs -> hidden[0] -> … -> act with ReLU between layers (PyTorch's default
  // initialisation, nn/init.h), and log_std filled with `log_std`, all in `dtype` (Note
  // [Models of either dtype] in nn/module.h). ValueError for obs_dim or act_dim < 1 or a
  // hidden width < 1.
  GaussianPolicy(std::int64_t obs_dim, std::int64_t act_dim, const std::vector<std::int64_t>& hidden, Generator& gen,
                 double log_std = 0.0, DType dtype = DType::F32);
  GaussianPolicy(GaussianPolicy&&) = default;
  // s [B, obs] -> [B, 2, act] (μ, then log σ). ShapeError for another input shape.
  Tensor forward_with(const Tensor& s, ParamCursor& params) override;
  using Module::forward;

  std::int64_t obs_dim() const { return obs_dim_; }
  std::int64_t action_dim() const { return act_dim_; }

 private:
  std::int64_t obs_dim_, act_dim_;
};

// The navigation policy of the MAML paper: 2 -> 100 -> 100 -> 2, log σ = 0.
GaussianPolicy nav_policy(Generator& gen, DType dtype = DType::F32);

// log π(a | s), summed over the action's coordinates: dist [..., 2, act] and actions
// [..., act] give [...]. Differentiable in dist (any order); ShapeError when the shapes
// do not fit.
Tensor gaussian_log_prob(const Tensor& dist, const Tensor& actions);
// a = μ + σ ε with ε ~ N(0, I) from `gen`, one row per row of dist: [..., act]. Not
// differentiable (the result never requires grad): policy gradients use the score,
// gaussian_log_prob.
Tensor gaussian_sample(const Tensor& dist, Generator& gen);
// KL(p ‖ q) of two such distributions, summed over the action's coordinates: [...].
// Differentiable in both (TRPO's constraint and its Hessian-vector products).
Tensor gaussian_kl(const Tensor& p, const Tensor& q);

}  // namespace mg::nn
