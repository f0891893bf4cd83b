// The transfer-learning baseline of the MAML paper (Finn et al. 2017, §5.1,
// "pretrained"): one network trained jointly on all tasks, with no adaptation
// in the loop,
//   θ ← θ − β·Adam(∇_θ L(f_θ) on ∪_i (D_i ∪ D'_i)),
// the loss taken over all the batch's examples at once (for tasks of equal size,
// the mean of the task losses), in one forward pass: for the meta-batch driver
// (Note [Meta-batch driver], meta/driver.h) the whole batch is one group. It is
// then fine-tuned on each test task's support set exactly as MAML's
// evaluation does (meta/evaluate.h).
//
// Note [Pretraining a classifier]: in N-way episodes the labels are a new
// permutation in every task, so there is nothing to learn jointly from them.
// Classification needs tasks whose labels are global class ids
// (data::GlobalLabelTasks, datasets/global_labels.h), a model whose head has one
// output per training class, and `test_model`, the same network with the test
// tasks' N-way head. At test time test_model runs with the pretrained parameters
// wherever the shapes agree and zeros elsewhere: the body is kept, the head is new
// and learned on each support set by the fine-tuning steps (the "pretrained
// classifier, new head on the support set" baseline of ../shared/REFERENCE.md).
// A zero head predicts the uniform distribution, so its first step is the
// class-mean direction of the support embeddings.
#pragma once

#include <memory>

#include "meta/meta_learner.h"

namespace mg::meta {

struct PretrainOptions {
  double lr = 1e-3;         // β, Adam
  double eval_inner_lr = 0.01;  // fine-tuning step at test time (MAML's α)
  int meta_batch = 25;
  int threads = 1;  // evaluation only: a training step is one joint pass
  // Classification only: the network with the test tasks' head (Note [Pretraining a classifier]).
  std::shared_ptr<nn::Module> test_model = nullptr;
};

class Pretrain : public MetaLearner {
 public:
  // ValueError for a classification objective without options.test_model.
  Pretrain(nn::Module& model, Objective objective, const PretrainOptions& options);
  std::string name() const override { return "pretrain"; }
  nn::Optimizer* optimizer() override { return adam_.get(); }
  InnerLrSetting test_inner_lr() const override { return {options_.eval_inner_lr, {}}; }
  // With a test_model: the protocol of meta/evaluate.h on test_model from head_for_test(); otherwise
  // MetaLearner::test.
  EvalResult test(const data::TaskSource& tasks, const EvalOptions& options) const override;
  // test_model's parameters (in its parameters() order): the model's where the shapes agree, zeros
  // elsewhere. ValueError without a test_model or when the parameter counts differ.
  std::vector<Tensor> head_for_test() const;

 private:
  GroupPlan plan(std::span<const data::Task> tasks) const override;
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& gradient, std::int64_t iteration) override;

  PretrainOptions options_;
  std::unique_ptr<nn::Optimizer> adam_;
};

}  // namespace mg::meta
