// The transfer-learning baseline of the MAML paper (Finn et al. 2017, §5.1,
// "pretrained"): one network trained jointly on all tasks, with no adaptation
// in the loop,
//   θ ← θ − β·Adam(∇_θ L(f_θ) on ∪_i (D_i ∪ D'_i)),
// the loss taken over all the batch's examples at once (for tasks of equal size,
// the mean of the task losses), in one forward pass: for the meta-batch driver
// (Note [Meta-batch driver], meta/driver.h) the whole batch is one group. It is
// then fine-tuned on each test task's support set exactly as MAML's
// evaluation does (meta/evaluate.h). For regression families only: in
// N-way episodes the labels are a random permutation per task, so there is
// nothing to learn jointly.
#pragma once

#include <memory>

#include "meta/meta_learner.h"

namespace mg::meta {

struct PretrainOptions {
  double lr = 1e-3;         // β, Adam
  double eval_inner_lr = 0.01;  // fine-tuning step at test time (MAML's α)
  int meta_batch = 25;
  int threads = 1;  // evaluation only: a training step is one joint pass
};

class Pretrain : public MetaLearner {
 public:
  Pretrain(nn::Module& model, Objective objective, const PretrainOptions& options);
  std::string name() const override { return "pretrain"; }
  nn::Optimizer* optimizer() override { return adam_.get(); }
  InnerLrSetting test_inner_lr() const override { return {options_.eval_inner_lr, {}}; }

 private:
  GroupPlan plan(std::span<const data::Task> tasks) const override;
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& gradient, std::int64_t iteration) override;

  PretrainOptions options_;
  std::unique_ptr<nn::Optimizer> adam_;
};

}  // namespace mg::meta
