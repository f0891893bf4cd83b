#include "meta/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/errors.h"
#include "autograd/tape.h"
#include "datasets/parallel.h"
#include "meta/adapt.h"

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

  const std::size_t n = static_cast<std::size_t>(options.num_tasks);
  std::vector<std::vector<double>> scores(steps.size(), std::vector<double>(n));
  data::parallel_for(n, options.threads, [&](std::size_t i, int) {
    const data::Task task = tasks.sample(options.first_task + i);
    const InnerLr lr{inner_lr.value, inner_lr.per_tensor};
    std::vector<Tensor> theta_i = thread_aliases(theta);
    int done = 0;
    for (std::size_t r = 0; r < steps.size(); ++r) {
      theta_i = adapt(model, objective.loss, theta_i, task.support_x, task.support_y, lr, steps[r] - done,
                      AdaptMode::Detached);
      done = steps[r];
      TapeScope scope;
      NoGradGuard no_grad;
      scores[r][i] = objective.metric(model.forward(task.query_x, theta_i), task.query_y);
    }
  });

  EvalResult result;
  result.metric_name = objective.metric_name;
  result.steps = steps;
  for (const auto& s : scores) result.metric.push_back(summarize(s));
  return result;
}

}  // namespace mg::meta
