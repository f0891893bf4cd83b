#include "meta/meta_learner.h"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/errors.h"

namespace mg::meta {

MetaLearner::MetaLearner(nn::Module& model, Objective objective, int meta_batch, int threads, int task_stacks)
    : model_(model),
      objective_(std::move(objective)),
      meta_batch_(meta_batch),
      threads_(threads),
      task_stacks_(task_stacks) {
  if (meta_batch < 1) throw ValueError(fmt::format("meta-learner: meta_batch must be >= 1, got {}", meta_batch));
  if (threads < 1) throw ValueError(fmt::format("meta-learner: threads must be >= 1, got {}", threads));
}

void MetaLearner::train(const data::TaskSource& tasks, std::int64_t iterations, const StepCallback& on_step,
                        std::int64_t first_iteration) {
  const auto batch = static_cast<std::size_t>(meta_batch_);
  for (std::int64_t it = first_iteration; it < first_iteration + iterations; ++it) {
    const std::vector<data::Task> batch_tasks =
        data::sample_tasks(tasks, static_cast<std::uint64_t>(it) * batch, batch, threads_);
    const StepStats stats = step(batch_tasks, it);
    if (on_step) on_step(it, stats);
  }
}

GroupPlan MetaLearner::plan(std::span<const data::Task> tasks) const {
  return plan_groups(model_, tasks, task_stacks_);
}

TaskGroup MetaLearner::group(const GroupAt& at) const { return TaskGroup(model_, objective_, at.tasks, at.stacked); }

BatchResult MetaLearner::run_tasks(std::span<const data::Task> tasks, std::int64_t iteration) const {
  if (tasks.empty()) throw ValueError(fmt::format("{}: a meta-batch needs at least one task", name()));
  const GroupPlan groups = plan(tasks);
  return run_batch(tasks.size(), groups.ranges, threads_, 1, [&](std::size_t g) {
    const auto [begin, end] = groups.ranges[g];
    return task_step({.tasks = tasks.subspan(begin, end - begin),
                      .stacked = groups.stacked,
                      .iteration = iteration,
                      .first_task = static_cast<std::uint64_t>(iteration) * tasks.size() + begin});
  }, comm_.get());
}

StepStats MetaLearner::step(std::span<const data::Task> tasks, std::int64_t iteration) {
  const BatchResult batch = run_tasks(tasks, iteration);
  const StepStats stats = batch.stats();
  const std::vector<Tensor> direction = outer_direction(batch, iteration);
  check_finite_step(iteration, stats.loss, direction);  // Note [Divergence]
  outer_update(direction, iteration);
  return stats;
}

void MetaLearner::check_finite_step(std::int64_t iteration, double loss, std::span<const Tensor> meta_gradient) const {
  const char* kNotApplied = "the update was not applied";
  if (!std::isfinite(loss))
    throw DivergenceError(fmt::format("{}: iteration {}: the loss is {}; {}", name(), iteration, loss, kNotApplied),
                          iteration);
  for (std::size_t j = 0; j < meta_gradient.size(); ++j) {
    if (!meta_gradient[j].defined() || all_finite(meta_gradient[j])) continue;
    // The names are gathered on the failure only, not every step.
    std::vector<std::string> names;
    for (const nn::NamedTensor& p : model_.named_parameters()) names.push_back(p.name);
    for (const nn::NamedTensor& p : extra_parameters()) names.push_back(p.name);
    throw DivergenceError(fmt::format("{}: iteration {}: the meta-gradient of {} holds {} (the loss is {}); {}", name(),
                                      iteration, j < names.size() ? names[j] : fmt::format("tensor {}", j),
                                      non_finite_kind(meta_gradient[j]), loss, kNotApplied),
                          iteration);
  }
}

std::vector<Tensor> MetaLearner::meta_gradient(std::span<const data::Task> tasks, StepStats* stats) const {
  const BatchResult batch = run_tasks(tasks, 0);
  if (stats) *stats = batch.stats();
  return batch.mean();
}

EvalOptions MetaLearner::over_ranks(EvalOptions options) const {
  if (!options.communicator) options.communicator = comm_.get();
  return options;
}

EvalResult MetaLearner::test(const data::TaskSource& tasks, const EvalOptions& options) const {
  return evaluate(model_, model_.parameters(), objective_, test_inner_lr(), tasks, over_ranks(options));
}

}  // namespace mg::meta
