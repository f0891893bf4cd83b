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
//     so dθ'/dθ = I and the meta-gradient is ∇L_q(θ') alone. Each step's
//     forward is rewound once its g is known: memory does not grow with the steps.
//   * Detached: θ' is a fresh leaf after every step and the tape is rewound each
//     step; nothing flows back to θ (evaluation, fine-tuning, Reptile). Memory does
//     not grow with the number of steps.
//
// α is either one number for all tensors or one learned tensor per parameter
// tensor: a scalar (LSLR, MamlOptions::learn_inner_lr) or a tensor of θ_j's shape,
// one rate per element (Meta-SGD, meta/meta_sgd.h); θ_j − α_j·g_j broadcasts either.
//
// Reptile trains its inner loop with an optimizer that keeps state (Adam, §5 of
// Nichol et al. 2018) and is tested the same way; Adaptation runs either rule
// a few steps at a time, keeping the optimizer's moments between calls, so the
// evaluation can score after 0, 1, …, k steps from one run.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "autograd/tensor.h"
#include "meta/objective.h"
#include "nn/adam.h"
#include "nn/module.h"

namespace mg::meta {

enum class AdaptMode { SecondOrder, FirstOrder, Detached };

// The update rule of a detached inner loop: plain gradient descent θ − α·g, or Adam
// (lr α, the defaults of nn::AdamOptions otherwise), with fresh moments per task
// unless InnerLrSetting carries a kept second moment (Reptile, meta/reptile.h).
enum class InnerOptimizer { Sgd, Adam };

struct InnerLr {
  double value = 0.01;            // α when `per_tensor` is empty
  std::span<const Tensor> per_tensor = {};  // optional: one α_j per parameter tensor, rank 0 or θ_j's shape
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

// How a meta-learner adapts at test time: the inner learning rate (one value, or
// one learned value per parameter tensor) and the update rule.
struct InnerLrSetting {
  double value = 0.01;
  std::vector<Tensor> per_tensor = {};  // empty: `value` for every tensor (SGD only)
  InnerOptimizer optimizer = InnerOptimizer::Sgd;
  double adam_beta1 = 0.9;  // Adam's first-moment decay (Reptile's reference code uses 0)
  // Adam's second moment v to start from, one tensor per parameter tensor of the
  // shape of the weights it starts (for a task stack, TaskGroup::start repeats a
  // θ-shaped v as it repeats θ), and the step count its bias correction continues
  // from (Reptile keeps both across tasks, meta/reptile.h). Empty: fresh moments, step 0.
  std::vector<Tensor> adam_v = {};
  std::int64_t adam_step = 0;
};

// A detached inner loop that can be continued: run(loss, k) takes k more steps on
// `loss` from where the last call stopped. The weights start as a private copy of
// θ (never an alias: the optimizer updates them in place), and the optimizer's
// state (Adam's moments) carries over between calls. With InnerOptimizer::Sgd
// the steps equal adapt(…, AdaptMode::Detached).
class Adaptation {
 public:
  // ValueError for per-tensor rates with Adam, a per-tensor count that differs from θ's,
  // or an adam_v count that differs from θ's; ShapeError for an adam_v tensor whose
  // shape is not its θ_j's.
  Adaptation(std::span<const Tensor> theta, const InnerLrSetting& rule);
  // k ≥ 0 more steps; ValueError for k < 0.
  void run(const SupportLoss& loss, int steps);
  const std::vector<Tensor>& weights() const { return weights_; }
  // Adam's second moment now, one tensor per weight tensor (zeros before the first
  // step); ValueError for SGD.
  std::vector<Tensor> second_moments() const;

 private:
  InnerLrSetting rule_;
  std::vector<Tensor> weights_;
  std::unique_ptr<nn::Adam> optimizer_;  // Adam only
};

}  // namespace mg::meta
