// Trust-region policy optimisation's step (Schulman et al. 2015, TRPO), the outer
// optimiser of the MAML paper's reinforcement-learning experiments (§5.3), with its two
// tools: Hessian-vector products by double backward, and conjugate gradients.
//
//   minimise L(θ) subject to KL(θ) <= δ, KL(θ) the mean KL from the old policy (0 at θ_0):
//   g = ∇L(θ_0);  F = ∇²KL(θ_0) + damping·I (as products F v, never a matrix)
//   x = F⁻¹(−g) by conjugate gradients;  β = sqrt(2δ / xᵀFx)  (the step that makes the
//   quadratic model of KL exactly δ);  θ = θ_0 + ratioᵏ β x for the first k = 0, 1, …
//   at which L decreases and KL <= δ, else θ_0 (the step is rejected)
//
// Settings as rllab's ConjugateGradientOptimizer, which the MAML code used: 10 CG
// iterations, damping 1e-5, backtrack ratio 0.8, at most 15 backtracks.
//
//   mg::nn::TrpoStep s = mg::nn::trpo_step(theta, loss, kl, {.max_kl = 0.01});
//   if (s.accepted) theta = s.theta;
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "autograd/tensor.h"

namespace mg::nn {

// A scalar function of a parameter list, built from differentiable ops.
using ParamFunction = std::function<Tensor(std::span<const Tensor> theta)>;

// H v with H = ∇²f(θ): the gradient of ∇f(θ) · v (two backward sweeps, the first
// recorded). One tensor per parameter; v must match θ's shapes (ShapeError) and f must
// give a scalar (ShapeError).
std::vector<Tensor> hessian_vector_product(const ParamFunction& f, std::span<const Tensor> theta,
                                           std::span<const Tensor> v);

// x with A x = b for a symmetric positive-definite A given by its products, after at
// most `iterations` steps (fewer once the residual's squared norm is below
// `tolerance`, or at a direction p with pᵀAp <= 0, where A is not positive definite).
// x starts at 0.
using LinearMap = std::function<std::vector<Tensor>(std::span<const Tensor> v)>;
std::vector<Tensor> conjugate_gradient(const LinearMap& a, std::span<const Tensor> b, int iterations = 10,
                                       double tolerance = 1e-10);

struct TrpoOptions {
  double max_kl = 0.01;       // δ
  int cg_iterations = 10;
  double damping = 1e-5;      // added to F's products: F v + damping · v
  double backtrack_ratio = 0.8;
  int max_backtracks = 15;
};

struct TrpoStep {
  std::vector<Tensor> theta = {};  // the new parameters (θ_0 itself when rejected); no graph
  bool accepted = false;
  double loss_before = 0.0, loss_after = 0.0;  // L(θ_0), L(θ)
  double kl = 0.0;                             // KL(θ)
  int backtracks = 0;                          // k of the accepted step
};

// One TRPO step from θ_0 = theta (not modified). ValueError for max_kl <= 0, a
// backtrack ratio outside (0, 1), cg_iterations < 1 or max_backtracks < 0, and when
// the loss, its gradient or the step is not finite.
TrpoStep trpo_step(std::span<const Tensor> theta, const ParamFunction& loss, const ParamFunction& kl,
                   const TrpoOptions& options = {});

}  // namespace mg::nn
