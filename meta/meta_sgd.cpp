// Meta-SGD (Li et al. 2017), Algorithm 1: few-shot supervised learning.
//
//   Input: task distribution p(T), learning rate β
//   1  initialise θ, α
//   2  while not done:
//   3    sample a batch of tasks T_i ~ p(T)
//   4    for all T_i:
//   5      L_train(T_i)(θ) = mean loss of f_θ on train(T_i)          (the support set D_i)
//   6      θ'_i = θ − α ∘ ∇L_train(T_i)(θ)                         (∘: elementwise; k times for k steps)
//   7      L_test(T_i)(θ'_i) = mean loss of f_θ'_i on test(T_i)      (the query set D'_i)
//   8    end for
//   9    (θ, α) ← (θ, α) − β ∇_(θ,α) Σ_i L_test(T_i)(θ'_i)          (here: Adam on the mean)
//
// Lines 2–4 and the sum of line 9 are the meta-batch driver's (Note [Meta-batch
// driver], meta/driver.h); this file is lines 5–7 (MetaSgd::task_step) and line 9.
//
// Symbols → code: θ = theta (the model's parameters), α = alpha (alpha_, one tensor
// of θ_j's shape per parameter tensor, initialised to options.inner_lr where the
// paper draws it from U[0.005, 0.1]), θ'_i = theta_i, β = options.outer_lr.
//
// Line 9 differentiates through line 6 with create_graph, as in MAML:
//   ∇_θ L_test(θ'_i) = (I − diag(α) ∇²L_train(θ)) ∇_θ' L_test(θ'_i),
//   ∇_α L_test(θ'_i) = −∇L_train(θ) ∘ ∇_θ' L_test(θ'_i)              (one step)
// so α grows where the support and query gradients agree and shrinks, or turns
// negative, where they disagree. α is used unchanged at test time.
#include "meta/meta_sgd.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/checkpointed_adapt.h"
#include "meta/option_checks.h"
#include "nn/adam.h"

namespace mg::meta {

MetaSgd::MetaSgd(nn::Module& model, Objective objective, const MetaSgdOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads, options.task_stacks),
      options_(options) {
  check_inner_steps("metasgd", options.inner_steps);
  check_task_stacks("metasgd", options.task_stacks);
  check_inner_lr("metasgd", options.inner_lr, RateBound::Any);
  // Line 1: α starts at the inner rate everywhere; θ is the model's initialisation.
  for (const Tensor& theta_j : model.parameters())
    alpha_.push_back(full(theta_j.shape(), options.inner_lr, theta_j.dtype()).requires_grad_());
  outer_ = std::make_unique<nn::Adam>(outer_parameters(), nn::AdamOptions{.lr = options.outer_lr});
}

std::vector<Tensor> MetaSgd::outer_parameters() const {
  std::vector<Tensor> p = model().parameters();
  p.insert(p.end(), alpha_.begin(), alpha_.end());
  return p;
}

// Lines 5–7 for a group of tasks on a worker thread (Note [Task parallelism]): the
// summands of line 9, ∇_(θ,α) of the group's summed query loss, detached.
GroupResult MetaSgd::task_step(const GroupAt& at) const {
  const TaskGroup tasks = group(at);
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  const std::vector<Tensor> alpha = thread_aliases(alpha_);
  if (options_.checkpoint_steps && options_.inner_steps > 0)  // the same steps, recomputed (checkpointed_adapt.h)
    return checkpointed_query_gradient(tasks, theta, InnerLr{options_.inner_lr, alpha}, options_.inner_steps);
  // Lines 5–6: θ'_i = θ − α ∘ ∇L_train(θ), recorded so that line 9 can see through it.
  const std::vector<Tensor> theta_i =
      adapt([&](std::span<const Tensor> t) { return tasks.support_loss(t); }, tasks.start(theta),
            InnerLr{options_.inner_lr, alpha}, options_.inner_steps, AdaptMode::SecondOrder);
  // Line 7.
  const Tensor prediction = tasks.predict_query(theta_i);
  const Tensor query_loss = tasks.query_loss(prediction);
  // Line 9's summand.
  std::vector<Tensor> wrt = theta;
  wrt.insert(wrt.end(), alpha.begin(), alpha.end());
  return {detached_gradient(query_loss, wrt), query_loss.item(), {tasks.query_metrics(prediction)}};
}

// Line 9's gradient: the mean over the batch, summed in group order.
std::vector<Tensor> MetaSgd::outer_direction(const BatchResult& batch, std::int64_t) const { return batch.mean(); }

// Line 9: (θ, α) ← (θ, α) − β·Adam(∇).
void MetaSgd::outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t) { outer_->step(meta_gradient); }

std::vector<nn::NamedTensor> MetaSgd::extra_parameters() const {
  std::vector<nn::NamedTensor> out;
  const std::vector<nn::NamedTensor> theta = model().named_parameters();
  for (std::size_t j = 0; j < alpha_.size(); ++j) out.push_back({"alpha." + theta[j].name, alpha_[j]});
  return out;
}

InnerLrSetting MetaSgd::test_inner_lr() const { return {options_.inner_lr, alpha_}; }

}  // namespace mg::meta
