// MAML++ (Antoniou, Edwards & Storkey 2019, arXiv:1810.09502), §4 on top of MAML's
// Algorithm 2 (meta/maml.cpp). For a task T_i with support set D_i and query set D'_i:
//
//   θ'_0 = θ
//   for k = 0 … S − 1:                                                  (the inner loop)
//     θ'_{k+1} = θ'_k − α_{k,j} ∇_θ'_k L_Ti(f(D_i; θ'_k, γ_k, β_k))        LSLR: α per step k, tensor j
//     L_k      = L_Ti(f(D'_i; θ'_{k+1}, γ_k, β_k))                        BNWB: step k's BN weights
//   L_i = Σ_k v_k(e) L_k                                                 MSL (Note [MSL weights])
//   (θ, α, γ, β) ← (θ, α, γ, β) − β_e · Adam(∇ mean_i L_i)               CA: β_e cosine-annealed
//
// DA: the ∇ through the inner loop is first order (∇_θ'_k L treated as a constant, as
// in FOMAML) while the iteration e < first_order_until, second order afterwards.
//
// Symbols → code: θ = theta (the model's parameters), θ'_k = weights, S =
// options_.inner_steps, α_{k,j} = alpha_[k·A + a] (the a-th adapted tensor, j =
// adapted_[a]), (γ_k, β_k) = bn_[k·B + b] (the b-th batch-norm tensor, θ index
// bn_slots_[b]), v_k(e) = msl_weights(S, e, options_.msl_iterations), β_e = outer_lr_at(e),
// e = the iteration, D_i, D'_i = the task's support and query sets.
//
// Lines of MAML's Algorithm 2 that stay: the meta-batch driver samples the batch and sums
// the per-task terms in task order (Note [Meta-batch driver], meta/driver.h); this file is
// the per-task step (MamlPlusPlus::task_step) and the outer rule.
//
// Memory: as second-order MAML, plus one query pass per step under MSL; first order
// (DA's first phase) keeps no inner backward graphs.
//
// Note [MAML++ per-step parameters]
// The paper's BNWB gives each inner step its own batch-norm weights and biases; its
// code keeps them as tensors of shape [S, C] that are meta-learned and never updated
// in the inner loop (enable_inner_loop_optimizable_bn_params = False). Here a module's
// parameters are a flat list (nn/module.h), so per step k the forward reads the list
// with step k's γ_k, β_k put in the batch-norm slots (PerStep::at_step): the model
// needs no change. The inner loop adapts every other tensor (adapted_); step k's support
// loss and the query loss after update k both use (γ_k, β_k), as in the paper's code
// (net_forward(…, num_step=k) on both). Without BNWB the batch-norm tensors are
// ordinary θ: adapted in the inner loop, as in MAML. LSLR has one rate per adapted
// tensor and step (a "layer" is one weight or bias tensor, as in the paper's code).
// A test with more steps than S reuses step S − 1's rates and batch-norm tensors.
// BNRS (per-step running statistics) is not kept: the BatchNorm2d Batch mode normalises
// every forward by its own batch, which is what the reference code computes in both
// phases (it calls batch_norm with training=True), so running averages would be unused.
//
// Note [MSL weights]
// The paper (§4, "multi-step loss optimisation") weights the query loss after each of
// the S steps, starting uniform and annealing to the last step, the schedule of its
// code (get_per_step_loss_importance_vector): with t = e / E (E = msl_iterations; the
// code's epochs · 500 iterations, 15 epochs) and m = 0.03 / S,
//   v_k = max(1/S − t/S, m)                      for k < S − 1
//   v_{S−1} = min(1/S + t(S − 1)/S, 1 − (S − 1)m)
// which sums to 1 for every t; from e ≥ E on, the last step alone (v = e_{S−1}), as the
// code stops MSL after E epochs. The code steps t once per epoch; here it moves with
// every iteration (the same endpoints, no jump between epochs).
#include "meta/maml_pp.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/option_checks.h"
#include "meta/task_group.h"
#include "nn/adam.h"
#include "nn/batchnorm.h"
#include "nn/lr_schedule.h"
#include "nn/sequential.h"

namespace mg::meta {

std::vector<double> msl_weights(int steps, std::int64_t iteration, std::int64_t anneal_iterations) {
  if (steps < 1) throw ValueError(fmt::format("msl_weights: steps must be >= 1, got {}", steps));
  if (iteration < 0) throw ValueError(fmt::format("msl_weights: iteration must be >= 0, got {}", iteration));
  if (anneal_iterations < 1)
    throw ValueError(fmt::format("msl_weights: anneal_iterations must be >= 1, got {}", anneal_iterations));
  const double s = steps;
  std::vector<double> v(static_cast<std::size_t>(steps), 0.0);
  if (iteration >= anneal_iterations) {
    v.back() = 1.0;
    return v;
  }
  const double t = static_cast<double>(iteration) / static_cast<double>(anneal_iterations);
  const double floor = 0.03 / s;
  for (std::size_t k = 0; k + 1 < v.size(); ++k) v[k] = std::max(1.0 / s - t / s, floor);
  v.back() = std::min(1.0 / s + t * (s - 1.0) / s, 1.0 - (s - 1.0) * floor);
  return v;
}

namespace {

void collect_batch_norm(nn::Module& m, std::size_t& index, std::vector<std::size_t>& out) {
  if (dynamic_cast<nn::BatchNorm2d*>(&m)) {
    out.push_back(index);      // weight γ
    out.push_back(index + 1);  // bias β
    index += 2;
    return;
  }
  if (auto* seq = dynamic_cast<nn::Sequential*>(&m)) {
    for (std::size_t i = 0; i < seq->size(); ++i) collect_batch_norm((*seq)[i], index, out);
    return;
  }
  index += m.parameters().size();
}

}  // namespace

std::vector<std::size_t> batch_norm_slots(nn::Module& model) {
  std::vector<std::size_t> out;
  std::size_t index = 0;
  collect_batch_norm(model, index, out);
  return out;
}

MamlPlusPlus::MamlPlusPlus(nn::Module& model, Objective objective, const MamlPlusPlusOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads, options.task_stacks),
      options_(options) {
  const MamlPlusPlusOptions& o = options;
  // Note [MAML++ per-step parameters]: one set of per-step tensors per step, so at least one step.
  check_inner_steps("maml++", o.inner_steps, 1);
  check_task_stacks("maml++", o.task_stacks);
  check_inner_lr("maml++", o.inner_lr);
  if (o.msl_iterations < 1)
    throw ValueError(fmt::format("maml++: msl_iterations must be >= 1, got {}", o.msl_iterations));
  if (o.first_order_until < 0)
    throw ValueError(fmt::format("maml++: first_order_until must be >= 0, got {}", o.first_order_until));
  if (o.iterations < 1) throw ValueError(fmt::format("maml++: iterations must be >= 1, got {}", o.iterations));
  if (!(o.min_outer_lr >= 0.0 && o.min_outer_lr <= o.outer_lr))
    throw ValueError(fmt::format("maml++: min_outer_lr must be in [0, outer_lr = {}], got {}", o.outer_lr,
                                 o.min_outer_lr));
  const std::vector<Tensor> theta = model.parameters();
  if (o.per_step_bn) bn_slots_ = batch_norm_slots(model);
  for (std::size_t j = 0; j < theta.size(); ++j)
    if (std::find(bn_slots_.begin(), bn_slots_.end(), j) == bn_slots_.end()) adapted_.push_back(j);
  // Every step's tensors start where MAML starts: α everywhere, the model's γ and β.
  NoGradGuard no_grad;
  for (int k = 0; k < o.inner_steps; ++k) {
    if (o.learn_inner_lr)
      for (std::size_t j : adapted_) alpha_.push_back(full({}, o.inner_lr, theta[j].dtype()).requires_grad_());
    for (std::size_t j : bn_slots_) bn_.push_back(theta[j].clone().requires_grad_());
  }
  outer_ = std::make_unique<nn::Adam>(outer_parameters(), nn::AdamOptions{.lr = o.outer_lr});
}

std::vector<Tensor> MamlPlusPlus::outer_parameters() const {
  std::vector<Tensor> p = model().parameters();
  p.insert(p.end(), alpha_.begin(), alpha_.end());
  p.insert(p.end(), bn_.begin(), bn_.end());
  return p;
}

std::vector<nn::NamedTensor> MamlPlusPlus::extra_parameters() const {
  const std::vector<nn::NamedTensor> theta = model().named_parameters();
  std::vector<nn::NamedTensor> out;
  for (std::size_t i = 0; i < alpha_.size(); ++i)
    out.push_back({fmt::format("lslr.{}.{}", i / adapted_.size(), theta[adapted_[i % adapted_.size()]].name),
                   alpha_[i]});
  for (std::size_t i = 0; i < bn_.size(); ++i)
    out.push_back(
        {fmt::format("bn.{}.{}", i / bn_slots_.size(), theta[bn_slots_[i % bn_slots_.size()]].name), bn_[i]});
  return out;
}

namespace {

// One group's view of the per-step tensors (Note [MAML++ per-step parameters]), on this
// thread's tape: its aliases of α and of (γ, β), the latter started for the group (one
// copy per task of a stack, as θ).
struct PerStep {
  std::span<const std::size_t> adapted, bn_slots;
  std::vector<Tensor> alpha, bn;
  double inner_lr = 0.0;
  int steps = 1;

  std::size_t step(int k) const { return static_cast<std::size_t>(std::min(k, steps - 1)); }

  // The forward's list at step k: `weights` with (γ_k, β_k) in the batch-norm slots.
  std::vector<Tensor> at_step(const std::vector<Tensor>& weights, int k) const {
    std::vector<Tensor> p = weights;
    for (std::size_t b = 0; b < bn_slots.size(); ++b) p[bn_slots[b]] = bn[step(k) * bn_slots.size() + b];
    return p;
  }

  // Inner step k: θ'_{k+1, j} = θ'_{k, j} − α_{k, j} ∇_j L(D_i; θ'_k, γ_k, β_k) for the adapted j;
  // the gradient is recorded (second order) when `create_graph`.
  std::vector<Tensor> descend(const SupportLoss& support_loss, const std::vector<Tensor>& weights, int k,
                              bool create_graph) const {
    std::vector<Tensor> wrt;
    for (std::size_t j : adapted) wrt.push_back(weights[j]);
    const std::vector<Tensor> g = grad({support_loss(at_step(weights, k))}, wrt, {.create_graph = create_graph});
    std::vector<Tensor> next = weights;
    for (std::size_t a = 0; a < adapted.size(); ++a)
      next[adapted[a]] = alpha.empty() ? wrt[a] - g[a] * inner_lr : wrt[a] - g[a] * alpha[step(k) * adapted.size() + a];
    return next;
  }
};

}  // namespace

// The paper's per-task step for a group of tasks on a worker thread (Note [Task
// parallelism]): the summands of ∇ L_i with respect to (θ, α, γ, β), detached; the query
// loss after the last step and its metrics (what MAML reports, whatever the weights v).
GroupResult MamlPlusPlus::task_step(const GroupAt& at) const {
  const TaskGroup tasks = group(at);
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  const std::vector<Tensor> bn = thread_aliases(bn_);
  const PerStep rule{adapted_, bn_slots_, thread_aliases(alpha_), tasks.start(bn), options_.inner_lr,
                     options_.inner_steps};
  const int steps = options_.inner_steps;
  // Without MSL the weights are those after annealing: the last step alone.
  const std::vector<double> v =
      msl_weights(steps, options_.multi_step_loss ? at.iteration : options_.msl_iterations, options_.msl_iterations);
  const bool second_order = second_order_at(at.iteration);
  const SupportLoss support = [&](std::span<const Tensor> t) { return tasks.support_loss(t); };
  std::vector<Tensor> weights = tasks.start(theta);
  Tensor objective, prediction, last_loss;
  for (int k = 0; k < steps; ++k) {
    TapeLabel label(fmt::format("inner step {}", k + 1));
    weights = rule.descend(support, weights, k, second_order);
    const double v_k = v[static_cast<std::size_t>(k)];
    if (v_k == 0.0) continue;  // MSL off or annealed away: no query pass (v_{S-1} > 0 always)
    prediction = tasks.predict_query(rule.at_step(weights, k));
    last_loss = tasks.query_loss(prediction);
    objective = objective.defined() ? objective + last_loss * v_k : last_loss * v_k;
  }
  // (γ, β) enter through tasks.start's repeat over a stack: the gradient is taken with
  // respect to the un-repeated aliases.
  std::vector<Tensor> wrt = theta;
  wrt.insert(wrt.end(), rule.alpha.begin(), rule.alpha.end());
  wrt.insert(wrt.end(), bn.begin(), bn.end());
  return {detached_gradient(objective, wrt), last_loss.item(), {tasks.query_metrics(prediction)}};
}

// The gradient of the outer step: the mean over the batch, summed in group order.
std::vector<Tensor> MamlPlusPlus::outer_direction(const BatchResult& batch, std::int64_t) const {
  return batch.mean();
}

double MamlPlusPlus::outer_lr_at(std::int64_t iteration) const {
  if (!options_.cosine_lr) return options_.outer_lr;
  return nn::CosineLr(options_.outer_lr, options_.iterations, options_.min_outer_lr).lr(iteration);
}

// (θ, α, γ, β) ← (θ, α, γ, β) − β_e·Adam(∇): β_e from the iteration alone, so a resumed
// run continues the same schedule.
void MamlPlusPlus::outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t iteration) {
  outer_->set_lr(outer_lr_at(iteration));
  outer_->step(meta_gradient);
}

InnerLrSetting MamlPlusPlus::test_inner_lr() const {
  if (alpha_.empty()) return {options_.inner_lr, {}};
  // Step 0's rates, one per θ tensor (the batch-norm slots, never adapted, read α).
  std::vector<Tensor> per_tensor;
  for (std::size_t j = 0, a = 0; j < model().parameters().size(); ++j) {
    const bool adapted = a < adapted_.size() && adapted_[a] == j;
    per_tensor.push_back(adapted ? alpha_[a++] : full({}, options_.inner_lr, model().parameters()[j].dtype()));
  }
  return {options_.inner_lr, per_tensor};
}

// The protocol of meta/evaluate.h with this learner's inner loop: detached steps (memory
// does not grow with k), step k's rates and batch-norm tensors.
EvalResult MamlPlusPlus::test(const data::TaskSource& tasks, const EvalOptions& options) const {
  const ScoreGroup score = [&](const TaskGroup& group, std::span<const int> report) {
    const PerStep rule{adapted_, bn_slots_, thread_aliases(alpha_), group.start(thread_aliases(bn_)),
                       options_.inner_lr, options_.inner_steps};
    const SupportLoss support = [&](std::span<const Tensor> t) { return group.support_loss(t); };
    std::vector<Tensor> weights = group.start(thread_aliases(model().parameters()));
    std::vector<std::vector<double>> rows;
    int done = 0;
    for (int s : report) {
      for (; done < s; ++done) {
        TapeScope scope;  // rewound after every step
        std::vector<Tensor> next = rule.descend(support, weights, done, false);
        NoGradGuard no_grad;
        for (std::size_t j : adapted_) weights[j] = next[j].detach().requires_grad_();
      }
      TapeScope scope;
      NoGradGuard no_grad;
      // After s updates the query is scored with the batch-norm tensors of the last step taken.
      rows.push_back(group.query_metrics(group.predict_query(rule.at_step(weights, std::max(s - 1, 0)))));
    }
    return rows;
  };
  return evaluate_with(model(), objective(), tasks, over_ranks(options), score);
}

}  // namespace mg::meta
