#include "meta/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/driver.h"
#include "meta/option_checks.h"
#include "meta/task_group.h"

namespace mg::meta {

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = static_cast<int>(values.size());
  if (values.empty()) return s;
  double sum = 0.0;
  for (double v : values) sum += v;
  s.mean = sum / s.n;
  if (s.n < 2) return s;
  double ss = 0.0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.ci95 = 1.96 * std::sqrt(ss / (s.n - 1)) / std::sqrt(static_cast<double>(s.n));
  return s;
}

EvalResult evaluate(nn::Module& model, const std::vector<Tensor>& theta, const Objective& objective,
                    const InnerLrSetting& inner_lr, const data::TaskSource& tasks, const EvalOptions& options) {
  // Adapts a group of tasks and scores it after each report step: row r of the metrics.
  const ScoreGroup score = [&](const TaskGroup& group, std::span<const int> steps) {
    InnerLrSetting rule = inner_lr;
    rule.adam_v = group.start(rule.adam_v);  // a kept Adam state, repeated like θ over a stack
    Adaptation theta_i(group.start(thread_aliases(theta)), rule);
    std::vector<std::vector<double>> rows;
    int done = 0;
    for (int s : steps) {
      theta_i.run([&](std::span<const Tensor> t) { return group.support_loss(t); }, s - done);
      done = s;
      TapeScope scope;
      NoGradGuard no_grad;
      rows.push_back(group.query_metrics(group.predict_query(theta_i.weights())));
    }
    return rows;
  };
  return evaluate_with(model, objective, tasks, options, score);
}

EvalResult evaluate_with(nn::Module& model, const Objective& objective, const data::TaskSource& tasks,
                         const EvalOptions& options, const ScoreGroup& score) {
  if (options.num_tasks < 1)
    throw ValueError(fmt::format("evaluate: num_tasks must be >= 1, got {}", options.num_tasks));
  check_inner_steps("evaluate", options.inner_steps);
  std::vector<int> steps = options.report_steps.empty() ? std::vector<int>{0, options.inner_steps} : options.report_steps;
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  for (int s : steps)
    if (s < 0 || s > options.inner_steps)
      throw ValueError(fmt::format("evaluate: report step {} is outside [0, {}]", s, options.inner_steps));

  if (options.tasks_per_stack < 1)
    throw ValueError(fmt::format("evaluate: tasks_per_stack must be >= 1, got {}", options.tasks_per_stack));

  const std::size_t n = static_cast<std::size_t>(options.num_tasks);
  const std::size_t per_stack = static_cast<std::size_t>(options.tasks_per_stack);
  // Up front: one score per task and report step, and the tasks in flight (each worker
  // holds a stack of tasks and their stacked copy). The model's own activations come on top.
  const std::uint64_t in_flight =
      saturating_mul(std::min<std::uint64_t>(per_stack, n),
                     static_cast<std::uint64_t>(resolve_threads(options.threads, (n + per_stack - 1) / per_stack)));
  check_memory("evaluate",
               fmt::format("{} tasks ({} scored after {} step counts, {} in memory at once)", n, n, steps.size(),
                           in_flight),
               saturating_add(saturating_mul(saturating_mul(n, steps.size()), sizeof(double)),
                              saturating_mul(saturating_mul(in_flight, 2), tasks.task_bytes())));
  auto run_group = [&](std::span<const data::Task> group_tasks, bool stack) {
    return score(TaskGroup(model, objective, group_tasks, stack), steps);
  };
  // The meta-batch driver (Note [Meta-batch driver], meta/driver.h) over stacks of
  // tasks, each sampled by its worker, so that only the stacks in flight are in memory.
  std::vector<std::pair<std::size_t, std::size_t>> stacks;
  for (std::size_t begin = 0; begin < n; begin += per_stack) stacks.emplace_back(begin, std::min(n, begin + per_stack));
  const BatchResult scored = run_batch(n, stacks, options.threads, steps.size(), [&](std::size_t s) {
    std::vector<data::Task> sampled;
    for (std::size_t i = stacks[s].first; i < stacks[s].second; ++i)
      sampled.push_back(tasks.sample(options.first_task + i));
    if (per_stack > 1 && TaskGroup::can_stack(model, sampled)) return GroupResult{{}, 0.0, run_group(sampled, true)};
    GroupResult r{{}, 0.0, std::vector<std::vector<double>>(steps.size())};
    for (std::size_t i = 0; i < sampled.size(); ++i) {
      const std::vector<std::vector<double>> one = run_group(std::span(sampled).subspan(i, 1), false);
      for (std::size_t row = 0; row < steps.size(); ++row) r.metrics[row].push_back(one[row][0]);
    }
    return r;
  }, options.communicator);

  EvalResult result;
  result.metric_name = objective.metric_name;
  result.steps = steps;
  for (const auto& s : scored.metrics) result.metric.push_back(summarize(s));
  return result;
}

}  // namespace mg::meta
