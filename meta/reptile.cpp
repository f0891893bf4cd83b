#include "meta/reptile.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/parallel.h"

namespace mg::meta {

Reptile::Reptile(nn::Module& model, Objective objective, const ReptileOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads), options_(options) {
  if (options.inner_steps < 1)
    throw ValueError(fmt::format("reptile: inner_steps must be >= 1, got {}", options.inner_steps));
  if (options.task_stacks < 0)
    throw ValueError(fmt::format("reptile: task_stacks must be >= 0, got {}", options.task_stacks));
  if (!(options.inner_lr > 0.0))
    throw ValueError(fmt::format("reptile: inner_lr must be > 0, got {}", options.inner_lr));
  if (options.anneal_iterations < 0)
    throw ValueError(fmt::format("reptile: anneal_iterations must be >= 0, got {}", options.anneal_iterations));
}

double Reptile::epsilon_at(std::int64_t iteration) const {
  if (options_.anneal_iterations == 0) return options_.epsilon;
  const double frac = static_cast<double>(iteration) / static_cast<double>(options_.anneal_iterations);
  return options_.epsilon * std::max(0.0, 1.0 - frac);
}

std::vector<Tensor> Reptile::inner_loop(const data::Task& task) const {
  return inner_loop(TaskGroup(model(), objective(), std::span(&task, 1), false));
}

std::vector<Tensor> Reptile::inner_loop(const TaskGroup& group) const {
  // Adam and SGD act elementwise, so one optimizer over a stack of W_i is the same
  // as one optimizer per task.
  Adaptation w(group.start(model().parameters()), test_inner_lr_for(options_.inner_lr));
  w.run([&](std::span<const Tensor> t) { return group.support_loss(t); }, options_.inner_steps);
  return w.weights();
}

StepStats Reptile::step(std::span<const data::Task> tasks, std::int64_t iteration) {
  if (tasks.empty()) throw ValueError("reptile: a meta-batch needs at least one task");
  const std::size_t n = tasks.size();
  const GroupPlan plan = plan_groups(model(), tasks, options_.task_stacks);
  const auto& groups = plan.ranges;
  std::vector<std::vector<Tensor>> w_sums(groups.size());  // Σ W_i over each group's tasks
  std::vector<double> loss_sums(groups.size()), metrics(n);
  data::parallel_for(groups.size(), threads(), [&](std::size_t i, int) {
    const TaskGroup group = plan.group(model(), objective(), tasks, i);
    const std::vector<Tensor> w = inner_loop(group);
    // Statistics: the adapted weights on the tasks' query sets.
    TapeScope scope;
    NoGradGuard no_grad;
    const Tensor pred = group.predict_query(w);
    loss_sums[i] = group.query_loss(pred).item();
    const std::vector<double> m = group.query_metrics(pred);
    std::copy(m.begin(), m.end(), metrics.begin() + static_cast<std::ptrdiff_t>(groups[i].first));
    for (const Tensor& wj : w) w_sums[i].push_back(plan.stacked ? sum(wj, {0}) : wj);
  });

  // θ ← θ + ε · mean_i (W_i − θ), summed in group order (Note [Task parallelism]).
  const double eps = epsilon_at(iteration);
  NoGradGuard no_grad;
  std::vector<Tensor> theta = model().parameters();
  for (std::size_t j = 0; j < theta.size(); ++j) {
    Tensor mean_w = w_sums[0][j];
    for (std::size_t i = 1; i < groups.size(); ++i) mean_w = mean_w + w_sums[i][j];
    mean_w = mean_w * (1.0 / static_cast<double>(n));
    const Tensor updated = theta[j] + (mean_w - theta[j]) * eps;
    std::copy_n(static_cast<const char*>(updated.raw_data()), updated.nbytes(), static_cast<char*>(theta[j].raw_data()));
    theta[j].bump_version();
  }
  StepStats stats;
  for (double l : loss_sums) stats.loss += l / static_cast<double>(n);
  for (double m : metrics) stats.metric += m / static_cast<double>(n);
  return stats;
}

InnerLrSetting Reptile::test_inner_lr() const {
  return test_inner_lr_for(options_.eval_inner_lr < 0 ? options_.inner_lr : options_.eval_inner_lr);
}

InnerLrSetting Reptile::test_inner_lr_for(double lr) const {
  return {lr, {}, options_.inner_optimizer, options_.inner_adam_beta1};
}

}  // namespace mg::meta
