#include "meta/pretrain.h"

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
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

StepStats Pretrain::step(std::span<const data::Task> tasks, std::int64_t iteration) {
  if (tasks.empty()) throw ValueError("pretrain: a batch needs at least one task");
  std::vector<Tensor> xs, ys;
  for (const data::Task& t : tasks) {
    xs.insert(xs.end(), {t.support_x, t.query_x});
    ys.insert(ys.end(), {t.support_y, t.query_y});
  }
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  const Tensor loss = objective().loss(model().forward(concat(xs, 0), theta), concat(ys, 0));
  std::vector<Tensor> g = grad({loss}, theta);
  for (Tensor& gj : g) gj = gj.detach();
  StepStats stats;
  stats.loss = stats.metric = loss.item();
  check_finite_step(iteration, stats.loss, g);  // Note [Divergence] (meta_learner.h)
  adam_->step(g);
  return stats;
}

}  // namespace mg::meta
