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

// The whole batch is one group: joint training has no per-task work.
GroupPlan Pretrain::plan(std::span<const data::Task> tasks) const { return {false, {{0, tasks.size()}}}; }

// ∇_θ L(f_θ) on ∪_i (D_i ∪ D'_i), in one forward pass. The joint loss is the mean
// of the task losses (tasks of equal size), so the driver's loss is that times n,
// and every task's metric is the joint loss.
GroupResult Pretrain::task_step(const GroupAt& at) const {
  std::vector<Tensor> xs, ys;
  for (const data::Task& t : at.tasks) {
    xs.insert(xs.end(), {t.support_x, t.query_x});
    ys.insert(ys.end(), {t.support_y, t.query_y});
  }
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  const Tensor loss = objective().loss(model().forward(concat(xs, 0), theta), concat(ys, 0));
  std::vector<Tensor> g = grad({loss}, theta);
  for (Tensor& gj : g) gj = gj.detach();
  const auto n = static_cast<double>(at.tasks.size());
  return {std::move(g), loss.item() * n, {std::vector<double>(at.tasks.size(), loss.item())}};
}

// The one group's term is already the gradient of the batch's (joint) loss.
std::vector<Tensor> Pretrain::outer_direction(const BatchResult& batch, std::int64_t) const { return batch.sum; }

// θ ← θ − β·Adam(∇_θ L).
void Pretrain::outer_update(const std::vector<Tensor>& gradient, std::int64_t) { adam_->step(gradient); }

}  // namespace mg::meta
