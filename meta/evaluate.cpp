#include "meta/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
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
  if (options.num_tasks < 1)
    throw ValueError(fmt::format("evaluate: num_tasks must be >= 1, got {}", options.num_tasks));
  if (options.inner_steps < 0)
    throw ValueError(fmt::format("evaluate: inner_steps must be >= 0, got {}", options.inner_steps));
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
  std::vector<std::vector<double>> scores(steps.size(), std::vector<double>(n));
  // Adapts tasks [begin, end) as one group and scores them after each report step.
  auto run_group = [&](std::span<const data::Task> group_tasks, bool stack, std::size_t begin) {
    const TaskGroup group(model, objective, group_tasks, stack);
    InnerLrSetting rule = inner_lr;
    rule.adam_v = group.start(rule.adam_v);  // a kept Adam state, repeated like θ over a stack
    Adaptation theta_i(group.start(thread_aliases(theta)), rule);
    int done = 0;
    for (std::size_t r = 0; r < steps.size(); ++r) {
      theta_i.run([&](std::span<const Tensor> t) { return group.support_loss(t); }, steps[r] - done);
      done = steps[r];
      TapeScope scope;
      NoGradGuard no_grad;
      const std::vector<double> m = group.query_metrics(group.predict_query(theta_i.weights()));
      std::copy(m.begin(), m.end(), scores[r].begin() + static_cast<std::ptrdiff_t>(begin));
    }
  };
  const std::size_t n_stacks = (n + per_stack - 1) / per_stack;
  parallel_for(n_stacks, options.threads, [&](std::size_t s, int) {
    const std::size_t begin = s * per_stack, end = std::min(n, begin + per_stack);
    std::vector<data::Task> sampled;
    for (std::size_t i = begin; i < end; ++i) sampled.push_back(tasks.sample(options.first_task + i));
    if (per_stack > 1 && TaskGroup::can_stack(model, sampled)) return run_group(sampled, true, begin);
    for (std::size_t i = 0; i < sampled.size(); ++i) run_group(std::span(sampled).subspan(i, 1), false, begin + i);
  });

  EvalResult result;
  result.metric_name = objective.metric_name;
  result.steps = steps;
  for (const auto& s : scores) result.metric.push_back(summarize(s));
  return result;
}

}  // namespace mg::meta
