#include "meta/reptile.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/parallel.h"
#include "nn/adam.h"
#include "nn/sgd.h"

namespace mg::meta {

Reptile::Reptile(nn::Module& model, Objective objective, const ReptileOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads), options_(options) {
  if (options.inner_steps < 1)
    throw ValueError(fmt::format("reptile: inner_steps must be >= 1, got {}", options.inner_steps));
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
  // W starts as a private copy of θ (clone, not alias: the inner optimizer updates it in place).
  std::vector<Tensor> w;
  for (const Tensor& p : model().parameters()) w.push_back(p.clone().requires_grad_());
  std::unique_ptr<nn::Optimizer> opt;
  if (options_.inner_optimizer == InnerOptimizer::Adam)
    opt = std::make_unique<nn::Adam>(w, nn::AdamOptions{.lr = options_.inner_lr});
  else
    opt = std::make_unique<nn::Sgd>(w, nn::SgdOptions{.lr = options_.inner_lr});
  for (int k = 0; k < options_.inner_steps; ++k) {
    TapeScope scope;  // rewound after every inner step
    const std::vector<Tensor> g =
        grad({objective().loss(model().forward(task.support_x, w), task.support_y)}, w);
    opt->step(g);
  }
  return w;
}

StepStats Reptile::step(std::span<const data::Task> tasks, std::int64_t iteration) {
  if (tasks.empty()) throw ValueError("reptile: a meta-batch needs at least one task");
  const std::size_t n = tasks.size();
  std::vector<std::vector<Tensor>> w(n);
  std::vector<double> losses(n), metrics(n);
  data::parallel_for(n, threads(), [&](std::size_t i, int) {
    w[i] = inner_loop(tasks[i]);
    // Statistics: the adapted weights on the task's query set.
    TapeScope scope;
    NoGradGuard no_grad;
    const Tensor pred = model().forward(tasks[i].query_x, w[i]);
    losses[i] = objective().loss(pred, tasks[i].query_y).item();
    metrics[i] = objective().metric(pred, tasks[i].query_y);
  });

  // θ ← θ + ε · mean_i (W_i − θ), summed in task order (Note [Task parallelism]).
  const double eps = epsilon_at(iteration);
  NoGradGuard no_grad;
  std::vector<Tensor> theta = model().parameters();
  for (std::size_t j = 0; j < theta.size(); ++j) {
    Tensor mean_w = w[0][j];
    for (std::size_t i = 1; i < n; ++i) mean_w = mean_w + w[i][j];
    mean_w = mean_w * (1.0 / static_cast<double>(n));
    const Tensor updated = theta[j] + (mean_w - theta[j]) * eps;
    std::copy_n(static_cast<const char*>(updated.raw_data()), updated.nbytes(), static_cast<char*>(theta[j].raw_data()));
    theta[j].bump_version();
  }
  StepStats stats;
  for (std::size_t i = 0; i < n; ++i) {
    stats.loss += losses[i] / static_cast<double>(n);
    stats.metric += metrics[i] / static_cast<double>(n);
  }
  return stats;
}

InnerLrSetting Reptile::test_inner_lr() const {
  return {options_.eval_inner_lr < 0 ? options_.inner_lr : options_.eval_inner_lr, {}};
}

}  // namespace mg::meta
