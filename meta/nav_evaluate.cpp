// The navigation evaluation; see nav_evaluate.h.
#include "meta/nav_evaluate.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/task.h"
#include "meta/driver.h"

namespace mg::meta {

namespace {

void check_options(const NavEvalOptions& o) {
  if (o.num_goals < 1) throw ValueError(fmt::format("nav-eval: num_goals must be >= 1, got {}", o.num_goals));
  if (o.max_steps < 0) throw ValueError(fmt::format("nav-eval: max_steps must be >= 0, got {}", o.max_steps));
  if (o.trajectories < 1) throw ValueError(fmt::format("nav-eval: trajectories must be >= 1, got {}", o.trajectories));
  if (o.threads < 1) throw ValueError(fmt::format("nav-eval: threads must be >= 1, got {}", o.threads));
}

}  // namespace

double mean_return(const data::NavRollout& rollout) {
  return sum(rollout.rewards * rollout.mask).item() / static_cast<double>(rollout.rewards.shape()[0]);
}

std::vector<data::NavRollout> nav_adaptation_rollouts(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                                      data::NavGoal goal, Generator& gen,
                                                      const NavEvalOptions& options) {
  check_options(options);
  const DType dtype = theta.empty() ? DType::F32 : theta[0].dtype();
  std::vector<Tensor> th;
  for (const Tensor& t : theta) th.push_back(t.detach());
  std::vector<data::NavRollout> out;
  for (int k = 0; k <= options.max_steps; ++k) {
    data::NavBatch env(options.env, goal, options.trajectories);
    out.push_back(data::rollout(
        env,
        [&](const Tensor& p) {
          NoGradGuard no_grad;
          return nn::gaussian_sample(policy.forward(p, th), gen);
        },
        dtype));
    if (k == options.max_steps) break;
    const double lr = k == 0 ? options.inner_lr : options.inner_lr / 2.0;
    std::vector<Tensor> next = policy_adapt(policy, th, out.back(), options.pg, lr, AdaptMode::Detached);
    for (std::size_t j = 0; j < next.size(); ++j) th[j] = next[j].detach();
  }
  return out;
}

NavEvalResult evaluate_nav(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const NavEvalOptions& options) {
  check_options(options);
  const auto n = static_cast<std::size_t>(options.num_goals);
  const auto rows = static_cast<std::size_t>(options.max_steps + 1);
  const data::NavTasks goals(options.env);
  std::vector<std::pair<std::size_t, std::size_t>> ranges;
  for (std::size_t i = 0; i < n; ++i) ranges.emplace_back(i, i + 1);
  const BatchResult r = run_batch(n, ranges, options.threads, rows, [&](std::size_t i) {
    const std::uint64_t index = options.first_goal + i;
    Generator gen = data::task_generator(splitmix64(options.env.seed), index);
    TapeScope scope;
    const std::vector<Tensor> leaves = thread_aliases(theta);
    const std::vector<data::NavRollout> rollouts =
        nav_adaptation_rollouts(policy, leaves, goals.goal(index), gen, options);
    GroupResult out;
    for (const data::NavRollout& ro : rollouts) out.metrics.push_back({mean_return(ro)});
    return out;
  });
  NavEvalResult result;
  for (std::size_t k = 0; k < rows; ++k) {
    result.steps.push_back(static_cast<int>(k));
    result.returns.push_back(summarize(r.metrics[k]));
  }
  return result;
}

double nav_oracle_return(const data::NavConfig& env, data::NavGoal goal) {
  data::NavBatch batch(env, goal, 1);
  double total = 0.0;
  while (!batch.done()) {
    const std::vector<double> p = batch.positions(DType::F64).to_vector<double>();
    const double step = env.max_step;
    const std::vector<double> a = {std::clamp(goal.x - p[0], -step, step), std::clamp(goal.y - p[1], -step, step)};
    for (double r : batch.step(from_vector(a, Shape{1, 2}))) total += r;
  }
  return total;
}

Summary nav_oracle(const NavEvalOptions& options) {
  check_options(options);
  const data::NavTasks goals(options.env);
  std::vector<double> returns;
  for (int i = 0; i < options.num_goals; ++i)
    returns.push_back(nav_oracle_return(options.env, goals.goal(options.first_goal + static_cast<std::uint64_t>(i))));
  return summarize(returns);
}

}  // namespace mg::meta
