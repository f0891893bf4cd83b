#include "meta/pretrain.h"

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/parallel.h"
#include "meta/adapt.h"
#include "nn/adam.h"

namespace mg::meta {

Pretrain::Pretrain(nn::Module& model, Objective objective, const PretrainOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads),
      options_(options),
      adam_(std::make_unique<nn::Adam>(model.parameters(), nn::AdamOptions{.lr = options.lr})) {
  if (this->objective().higher_is_better)
    throw ValueError("pretrain: the joint-training baseline is for regression task families only");
}

StepStats Pretrain::step(std::span<const data::Task> tasks, std::int64_t) {
  if (tasks.empty()) throw ValueError("pretrain: a batch needs at least one task");
  const std::size_t n = tasks.size();
  const std::vector<Tensor> theta = model().parameters();
  std::vector<std::vector<Tensor>> grads(n);
  std::vector<double> losses(n);
  data::parallel_for(n, threads(), [&](std::size_t i, int) {
    TapeScope scope;
    const std::vector<Tensor> local = thread_aliases(theta);
    const Tensor x = concat({tasks[i].support_x, tasks[i].query_x}, 0);
    const Tensor y = concat({tasks[i].support_y, tasks[i].query_y}, 0);
    const Tensor loss = objective().loss(model().forward(x, local), y);
    grads[i] = grad({loss}, local);
    for (Tensor& g : grads[i]) g = g.detach();
    losses[i] = loss.item();
  });
  NoGradGuard no_grad;
  std::vector<Tensor> mean = grads[0];
  for (std::size_t i = 1; i < n; ++i)
    for (std::size_t j = 0; j < mean.size(); ++j) mean[j] = mean[j] + grads[i][j];
  for (Tensor& m : mean) m = m * (1.0 / static_cast<double>(n));
  adam_->step(mean);
  StepStats stats;
  for (double l : losses) stats.loss += l / static_cast<double>(n);
  stats.metric = stats.loss;
  return stats;
}

}  // namespace mg::meta
