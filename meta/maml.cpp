// MAML (Finn, Abbeel & Levine 2017), Algorithm 2: few-shot supervised learning.
//
//   Require: p(T), a distribution over tasks;  α, β, step sizes
//   1  randomly initialise θ
//   2  while not done:
//   3    sample a batch of tasks T_i ~ p(T)
//   4    for all T_i:
//   5      take K examples D_i = {x⁽ʲ⁾, y⁽ʲ⁾} from T_i              (the support set)
//   6      evaluate ∇_θ L_Ti(f_θ) on D_i
//   7      adapt: θ'_i = θ − α ∇_θ L_Ti(f_θ)                     (k times for k steps)
//   8      take examples D'_i from T_i for the meta-update        (the query set)
//   9    end for
//  10    θ ← θ − β ∇_θ Σ_i L_Ti(f_θ'_i)    on the D'_i            (here: Adam on the mean)
//
// Lines 2–4 and the sum of line 10 are the meta-batch driver's (Note [Meta-batch
// driver], meta/driver.h). This file is the rest: lines 5–8 for a group of tasks
// (query_gradient, Maml::task_step) and line 10's update (Maml::outer_direction,
// Maml::outer_update).
//
// Symbols → code: θ = theta (the model's parameters), θ'_i = theta_i,
// α = options_.inner_lr (or the learned inner_lrs_), β = options_.outer_lr,
// D_i = task.support_x / support_y, D'_i = task.query_x / query_y.
//
// Line 10 differentiates through line 7. With create_graph the inner gradient
// is itself recorded, so the chain rule gives
//   ∇_θ L(f_θ'_i) = (I − α ∇²_θ L_Ti(f_θ)) ∇_θ' L(f_θ'_i),
// the Hessian term costing one extra backward pass (a Hessian-vector product),
// never an explicit Hessian. First-order MAML treats ∇_θ L_Ti(f_θ) as a
// constant, so the factor becomes I (meta/adapt.h, AdaptMode).
//
// Memory: the tape holds, per task, the forward and backward of k inner steps
// plus the query pass; each task runs in its own TapeScope, which frees it as
// soon as the task's meta-gradient is taken. With checkpoint_steps it holds one
// step's at a time, recomputed during line 10 (meta/checkpointed_adapt.h).
//
// Speed: for small networks (the sinusoid MLP) the loop of line 4 runs as a few
// stacks of tasks, each stack one batched pass (meta/task_group.h); the
// arithmetic is the same, the sum over tasks just happens in fewer, larger ops.
#include "meta/maml.h"

#include <fmt/format.h>

#include <cmath>
#include <span>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/checkpointed_adapt.h"
#include "meta/option_checks.h"
#include "meta/task_group.h"
#include "nn/adam.h"

namespace mg::meta {

namespace {
MamlOptions short_form(double inner_lr, double outer_lr, int num_inner_steps) {
  MamlOptions o;
  o.inner_lr = inner_lr;
  o.outer_lr = outer_lr;
  o.inner_steps = num_inner_steps;
  return o;
}
}  // namespace

Maml::Maml(nn::Module& model, Objective objective, double inner_lr, double outer_lr, int num_inner_steps)
    : Maml(model, std::move(objective), short_form(inner_lr, outer_lr, num_inner_steps)) {}

Maml::Maml(nn::Module& model, Objective objective, const MamlOptions& options, std::unique_ptr<nn::Optimizer> outer)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads, options.task_stacks),
      options_(options) {
  check_inner_steps("maml", options.inner_steps);
  check_task_stacks("maml", options.task_stacks);
  check_inner_lr("maml", options.inner_lr);
  check_checkpoint_steps("maml", options.checkpoint_steps, options.first_order);
  if (options.learn_inner_lr) {
    const DType dtype = model.parameters().empty() ? DType::F32 : model.parameters()[0].dtype();
    for (std::size_t j = 0; j < model.parameters().size(); ++j)
      inner_lrs_.push_back(full({}, options.inner_lr, dtype).requires_grad_());
  }
  outer_ = outer ? std::move(outer) : std::make_unique<nn::Adam>(outer_parameters(), nn::AdamOptions{.lr = options.outer_lr});
  if (outer_->params().size() != outer_parameters().size())
    throw ValueError(fmt::format("maml: the outer optimizer has {} parameters, MAML meta-learns {}",
                                 outer_->params().size(), outer_parameters().size()));
}

std::vector<Tensor> Maml::outer_parameters() const {
  std::vector<Tensor> p = model().parameters();
  p.insert(p.end(), inner_lrs_.begin(), inner_lrs_.end());
  return p;
}

namespace {

// Lines 5–8 and the summands of line 10 for a group of tasks (one task, or a
// stack): the gradient of Σ_i L_Ti(f_θ'_i) on the query sets, with respect to
// θ and then α_j (when learned), detached; the query-loss sum and the metrics.
// `theta` and `alpha` must be this thread's leaves (thread_aliases).
GroupResult query_gradient(const TaskGroup& group, std::span<const Tensor> theta, std::span<const Tensor> alpha,
                           double inner_lr, int inner_steps, AdaptMode mode, bool checkpoint_steps) {
  if (checkpoint_steps && mode == AdaptMode::SecondOrder && inner_steps > 0)
    return checkpointed_query_gradient(group, theta, InnerLr{inner_lr, alpha}, inner_steps);
  // Lines 5–7: θ'_i from the support sets D_i, differentiable in θ.
  const std::vector<Tensor> theta_i =
      adapt([&](std::span<const Tensor> t) { return group.support_loss(t); }, group.start(theta),
            InnerLr{inner_lr, alpha}, inner_steps, mode);
  // Line 8: the query sets D'_i, scored with the adapted θ'_i.
  const Tensor prediction = group.predict_query(theta_i);
  const Tensor query_loss = group.query_loss(prediction);
  // Line 10's summand: ∇_θ L_Ti(f_θ'_i), through line 7.
  std::vector<Tensor> wrt(theta.begin(), theta.end());
  wrt.insert(wrt.end(), alpha.begin(), alpha.end());
  return {detached_gradient(query_loss, wrt), query_loss.item(), {group.query_metrics(prediction)}};
}

}  // namespace

std::vector<Tensor> maml_meta_gradient(nn::Module& model, const Objective& objective, std::span<const Tensor> theta,
                                       const data::Task& task, const MetaGradientOptions& options) {
  if (theta.size() != model.parameters().size())
    throw ValueError(fmt::format("maml meta-gradient: theta has {} tensors, the model has {} parameters", theta.size(),
                                 model.parameters().size()));
  check_inner_steps("maml meta-gradient", options.inner_steps);
  check_checkpoint_steps("maml meta-gradient", options.checkpoint_steps, options.first_order);
  const TaskGroup group(model, objective, std::span(&task, 1), false);
  TapeScope scope;
  return query_gradient(group, thread_aliases(theta), {}, options.inner_lr, options.inner_steps,
                        options.first_order ? AdaptMode::FirstOrder : AdaptMode::SecondOrder, options.checkpoint_steps)
      .terms;
}

// Lines 4–9 for one group, on a worker thread (Note [Task parallelism]).
GroupResult Maml::task_step(const GroupAt& at) const {
  const TaskGroup tasks = group(at);
  TapeScope scope;
  return query_gradient(tasks, thread_aliases(model().parameters()), thread_aliases(inner_lrs_), options_.inner_lr,
                        options_.inner_steps, options_.first_order ? AdaptMode::FirstOrder : AdaptMode::SecondOrder,
                        options_.checkpoint_steps);
}

// Line 10's gradient: the mean over tasks, summed in group order.
std::vector<Tensor> Maml::outer_direction(const BatchResult& batch, std::int64_t) const { return batch.mean(); }

// Line 10: θ ← θ − β·Adam(∇θ).
void Maml::outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t) { outer_->step(meta_gradient); }

std::vector<nn::NamedTensor> Maml::extra_parameters() const {
  std::vector<nn::NamedTensor> out;
  for (std::size_t j = 0; j < inner_lrs_.size(); ++j) out.push_back({fmt::format("inner_lr.{}", j), inner_lrs_[j]});
  return out;
}

InnerLrSetting Maml::test_inner_lr() const { return {options_.inner_lr, inner_lrs_}; }

}  // namespace mg::meta
