// A differentiable Adam for inner loops: Adam's update written with the library's
// ops, so that a meta-gradient can flow through k Adam steps the way it flows
// through k SGD steps in adapt() (meta/adapt.h). (nn::Adam, the outer optimizer,
// updates in place off the tape and cannot be differentiated.)
//
//   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²,   t ← t + 1
//   θ' = θ − lr · m̂ / sqrt(v̂ + ε²),   m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
//
// The denominator is the one change from Kingma & Ba's sqrt(v̂) + ε: see
// Note [Safe square root].
//
// Note [Safe square root]
// d sqrt(v)/dv = 1 / (2 sqrt(v)) is infinite at v = 0, and v̂ is exactly 0 for a
// weight whose gradient is exactly 0 (a dead ReLU, an unused class of the head, a
// padded input). The backward of v = g² then multiplies that infinity by
// dv/dg = 2g = 0: 0 · ∞ = NaN, and one NaN element poisons the whole meta-gradient
// through Adam's outer moments (Note [Divergence]). Differentiating twice (second-
// order MAML through an inner Adam) meets it on every step.
// Two fixes were possible:
//   * a custom sqrt op whose derivative is clamped at 0. That keeps Adam's value
//     m̂ / (sqrt(v̂) + ε), but the function it differentiates is still g / (|g| + ε)
//     near g = 0 (one step), which has a kink: its second derivative jumps there, so
//     gradgradcheck cannot pass at 0 and the clamp is a choice, not a derivative.
//   * sqrt(v̂ + ε²), chosen here. It is an ordinary composite (add a constant, then
//     sqrt), needs no new op and no new backward, and the update becomes
//     g / sqrt(g² + ε²) near 0: smooth to every order, with finite derivatives of
//     every order at g = 0 (1/ε, 0, −3/ε³ …), so gradcheck and gradgradcheck pass
//     there. It differs from sqrt(v̂) + ε by less than ε (sqrt(a + b) ≤ sqrt(a) + sqrt(b)),
//     and both equal ε at v̂ = 0 and sqrt(v̂) for v̂ ≫ ε²: Adam's steps are the same
//     wherever Adam's ε did not already matter.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/adapt.h"

namespace mg::meta {

struct InnerAdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;  // ε of Note [Safe square root]
};

// Adam's moments along a differentiable inner loop (tensors on the tape, like θ'),
// one per parameter tensor; empty before the first step.
struct InnerAdamState {
  std::vector<Tensor> m = {};
  std::vector<Tensor> v = {};
  std::int64_t step = 0;
};

// sqrt(v + ε²), differentiable to every order at v = 0 (Note [Safe square root]).
Tensor safe_sqrt(const Tensor& v, double eps);

// One Adam step: folds `g` into `state` and returns θ − lr · m̂ / sqrt(v̂ + ε²), all
// recorded. ValueError for a g of another length than θ or options outside
// 0 <= β1, β2 < 1, ε > 0, lr finite.
std::vector<Tensor> inner_adam_step(std::span<const Tensor> theta, std::span<const Tensor> g, InnerAdamState& state,
                                    const InnerAdamOptions& options);

// θ' after `steps` Adam steps on the support loss from θ, fresh moments: SecondOrder
// records the gradients (create_graph), FirstOrder treats them as constants. ValueError
// for Detached (use Adaptation, meta/adapt.h) or steps < 0.
std::vector<Tensor> adapt_adam(const SupportLoss& support_loss, std::span<const Tensor> theta,
                               const InnerAdamOptions& options, int steps, AdaptMode mode);

}  // namespace mg::meta
