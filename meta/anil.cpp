// ANIL (Raghu et al. 2020), MAML's Algorithm 2 with the inner loop on the head:
//
//   θ = (θ_body, θ_head)                                       (Note [Body and head])
//   while not done:
//     sample a batch of tasks T_i ~ p(T)
//     for all T_i:
//       θ'_head,i = θ_head − α ∇_θhead L_Ti(f_(θ_body, θ_head))   on D_i (k times for k steps)
//       L_i = L_Ti(f_(θ_body, θ'_head,i))                       on D'_i
//     (θ_body, θ_head) ← (θ_body, θ_head) − β ∇ Σ_i L_i         (here: Adam on the mean)
//
// The loop over tasks and the sum are the meta-batch driver's (Note [Meta-batch
// driver], meta/driver.h); this file is the per-task step and the update.
//
// Symbols → code: θ_body, θ_head = theta's first split_.body_params tensors and the
// rest, θ'_head,i = the tail of anil_adapt's result, α = options_.inner_lr,
// β = options_.outer_lr, D_i / D'_i = the support / query sets.
//
// The body's meta-gradient. The body is not adapted, but θ'_head depends on it
// through the inner gradient, so (one step)
//   ∇_body L_i = ∂_body L_q + (−α ∂²L_s/∂body∂head)ᵀ ∇_θ'head L_q,
// the second term coming from recording the inner gradient (create_graph). First
// order (--first-order) drops it and keeps the direct term ∂_body L_q. The head's
// meta-gradient is MAML's, (I − α∇²_head L_s) ∇_θ'head L_q.
//
// Cost: the inner loop differentiates with respect to the head only, so its
// backward stops at the head's input instead of the first layer and the
// second-order term touches the body once, in the outer backward.
#include "meta/anil.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/tape.h"
#include "meta/option_checks.h"
#include "nn/adam.h"

namespace mg::meta {

std::vector<Tensor> anil_adapt(const TaskGroup& group, const BodyHead& split, std::span<const Tensor> theta,
                               double inner_lr, int steps, AdaptMode mode) {
  const std::span<const Tensor> body = theta.first(split.body_params);
  // L_Ti(f_(θ_body, h)) on D_i as a function of the head h alone.
  const SupportLoss head_loss = [&](std::span<const Tensor> head) {
    std::vector<Tensor> all(body.begin(), body.end());
    all.insert(all.end(), head.begin(), head.end());
    return group.support_loss(all);
  };
  const std::vector<Tensor> head_i = adapt(head_loss, theta.subspan(split.body_params), {inner_lr, {}}, steps, mode);
  std::vector<Tensor> theta_i(body.begin(), body.end());
  theta_i.insert(theta_i.end(), head_i.begin(), head_i.end());
  return theta_i;
}

Anil::Anil(nn::Sequential& model, Objective objective, const AnilOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads, options.task_stacks),
      options_(options),
      split_(split_body_head(model, "anil")) {
  check_inner_steps("anil", options.inner_steps);
  check_task_stacks("anil", options.task_stacks);
  check_inner_lr("anil", options.inner_lr);
  outer_ = std::make_unique<nn::Adam>(model.parameters(), nn::AdamOptions{.lr = options.outer_lr});
}

// One task (or a stack of tasks) on a worker thread (Note [Task parallelism]).
GroupResult Anil::task_step(const GroupAt& at) const {
  const TaskGroup tasks = group(at);
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  // The inner loop: θ'_head,i from D_i; the body stays θ_body.
  const std::vector<Tensor> theta_i =
      anil_adapt(tasks, split_, tasks.start(theta), options_.inner_lr, options_.inner_steps,
                 options_.first_order ? AdaptMode::FirstOrder : AdaptMode::SecondOrder);
  // L_i on D'_i, and its gradient with respect to the whole θ.
  const Tensor prediction = tasks.predict_query(theta_i);
  const Tensor query_loss = tasks.query_loss(prediction);
  return {detached_gradient(query_loss, theta), query_loss.item(), {tasks.query_metrics(prediction)}};
}

std::vector<Tensor> Anil::outer_direction(const BatchResult& batch, std::int64_t) const { return batch.mean(); }

// θ ← θ − β·Adam(∇ Σ_i L_i).
void Anil::outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t) { outer_->step(meta_gradient); }

// The evaluation protocol adapts every tensor with its own rate (meta/evaluate.h); a
// rate of 0 keeps the body exactly θ_body (θ − 0·g = θ bit for bit, g finite).
InnerLrSetting Anil::test_inner_lr() const {
  InnerLrSetting rule{options_.inner_lr, {}};
  const std::vector<Tensor> theta = model().parameters();
  for (std::size_t j = 0; j < theta.size(); ++j)
    rule.per_tensor.push_back(scalar(j < split_.body_params ? 0.0 : options_.inner_lr, theta[j].dtype()));
  return rule;
}

}  // namespace mg::meta
