#include "meta/pretrain.h"

#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/evaluate.h"
#include "nn/adam.h"

namespace mg::meta {

Pretrain::Pretrain(nn::Module& model, Objective objective, const PretrainOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads),
      options_(options),
      adam_(std::make_unique<nn::Adam>(model.parameters(), nn::AdamOptions{.lr = options.lr})) {
  if (this->objective().higher_is_better && !options.test_model)
    throw ValueError(
        "pretrain: the joint-training baseline is for regression task families only, or for classification with "
        "global labels and a test model (Note [Pretraining a classifier])");
}

std::vector<Tensor> Pretrain::head_for_test() const {
  if (!options_.test_model) throw ValueError("pretrain: no test model (Note [Pretraining a classifier])");
  const std::vector<Tensor> theta = model().parameters(), fresh = options_.test_model->parameters();
  if (theta.size() != fresh.size())
    throw ValueError(
        fmt::format("pretrain: the test model has {} parameters, the model {}", fresh.size(), theta.size()));
  std::vector<Tensor> out;
  for (std::size_t j = 0; j < theta.size(); ++j)
    out.push_back(theta[j].shape() == fresh[j].shape() ? theta[j] : zeros(fresh[j].shape(), fresh[j].dtype()));
  return out;
}

EvalResult Pretrain::test(const data::TaskSource& tasks, const EvalOptions& options) const {
  if (!options_.test_model) return MetaLearner::test(tasks, options);
  return evaluate(*options_.test_model, head_for_test(), objective(), test_inner_lr(), tasks, over_ranks(options));
}

// The whole batch is one group: joint training has no per-task work.
GroupPlan Pretrain::plan(std::span<const data::Task> tasks) const { return {false, {{0, tasks.size()}}}; }

namespace {

// The rows of `parts` one after another. Integer tensors (text tasks' token ids and global labels),
// which concat does not take and which never need a gradient, are joined on the host.
Tensor join_rows(const std::vector<Tensor>& parts) {
  if (parts[0].dtype() != DType::I64) return concat(parts, 0);
  std::vector<std::int64_t> out;
  std::vector<std::int64_t> dims = parts[0].shape().vec();
  dims[0] = 0;
  for (const Tensor& p : parts) {
    out.insert(out.end(), p.data<std::int64_t>(), p.data<std::int64_t>() + p.numel());
    dims[0] += p.shape()[0];
  }
  return from_vector(out, Shape(dims));
}

}  // namespace

// ∇_θ L(f_θ) on ∪_i (D_i ∪ D'_i), in one forward pass. The joint loss is the mean
// of the task losses (tasks of equal size), so the driver's loss is that times n,
// and every task's metric is the joint one.
GroupResult Pretrain::task_step(const GroupAt& at) const {
  std::vector<Tensor> xs, ys;
  for (const data::Task& t : at.tasks) {
    xs.insert(xs.end(), {t.support_x, t.query_x});
    ys.insert(ys.end(), {t.support_y, t.query_y});
  }
  TapeScope scope;
  const std::vector<Tensor> theta = thread_aliases(model().parameters());
  const Tensor y = join_rows(ys);
  const Tensor prediction = model().forward(join_rows(xs), theta);
  const Tensor loss = objective().loss(prediction, y);
  std::vector<Tensor> g = grad({loss}, theta);
  for (Tensor& gj : g) gj = gj.detach();
  const auto n = static_cast<double>(at.tasks.size());
  // Every task's metric is the joint one: the loss (regression) or the accuracy over all the batch's classes.
  const double metric = objective().higher_is_better ? objective().metric(prediction.detach(), y) : loss.item();
  return {std::move(g), loss.item() * n, {std::vector<double>(at.tasks.size(), metric)}};
}

// The one group's term is already the gradient of the batch's (joint) loss.
std::vector<Tensor> Pretrain::outer_direction(const BatchResult& batch, std::int64_t) const { return batch.sum; }

// θ ← θ − β·Adam(∇_θ L).
void Pretrain::outer_update(const std::vector<Tensor>& gradient, std::int64_t) { adam_->step(gradient); }

}  // namespace mg::meta
