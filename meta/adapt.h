// The inner loop shared by every meta-learner: a few steps of gradient descent
// on one task's support set, run through the module's functional forward.
//
//   θ'⁽⁰⁾ = θ,   θ'⁽ᵏ⁺¹⁾ = θ'⁽ᵏ⁾ − α ∇_θ' L(f_θ'⁽ᵏ⁾(x_s), y_s)        (Finn et al. 2017, eq. 1)
//
// How the result depends on θ decides the algorithm:
//   * SecondOrder: the gradients are recorded (create_graph), so θ' is a
//     differentiable function of θ and a later grad() through it yields the full
//     MAML meta-gradient, curvature term (I − α∇²L) included.
//   * FirstOrder: each gradient is a constant (first-order MAML): θ' = θ − α·stop(g),
//     so dθ'/dθ = I and the meta-gradient is ∇L_q(θ') alone.
//   * Detached: θ' is a fresh leaf after every step and the tape is rewound each
//     step; nothing flows back to θ (evaluation, fine-tuning, Reptile). Memory does
//     not grow with the number of steps.
//
// α is either one number for all tensors or, Meta-SGD style, one learned scalar
// tensor per parameter tensor (see MamlOptions::learn_inner_lr).
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/objective.h"
#include "nn/module.h"

namespace mg::meta {

enum class AdaptMode { SecondOrder, FirstOrder, Detached };

struct InnerLr {
  double value = 0.01;            // α when `per_tensor` is empty
  std::span<const Tensor> per_tensor;  // optional: one rank-0 α_j per parameter tensor
};

// The support loss as a function of the parameters: L(f_θ(x_s), y_s).
using SupportLoss = std::function<Tensor(std::span<const Tensor> theta)>;

// θ' after `steps` gradient steps on (x, y), starting from `theta` (in model.parameters() order).
std::vector<Tensor> adapt(nn::Module& model, const LossFn& loss, std::span<const Tensor> theta, const Tensor& x,
                          const Tensor& y, const InnerLr& lr, int steps, AdaptMode mode);
// The same for any support loss, e.g. the summed loss of a stack of tasks (meta/task_group.h).
std::vector<Tensor> adapt(const SupportLoss& support_loss, std::span<const Tensor> theta, const InnerLr& lr,
                          int steps, AdaptMode mode);

// Leaves that share the storage of `theta` but are bound to this thread's tape on
// their own: each worker thread differentiates with respect to its own aliases,
// so the shared parameters are never written by two threads.
std::vector<Tensor> thread_aliases(std::span<const Tensor> theta);

}  // namespace mg::meta
