// Meta-SGD (Li, Zhou, Chen & Li 2017, arXiv:1707.09835): MAML whose inner
// learning rate is a learned tensor α of θ's shape, one rate per parameter
// *element*, so that α encodes both the direction and the size of the inner
// step (θ' = θ − α ∘ ∇L). meta/meta_sgd.cpp reads like the paper's Algorithm 1.
//
// Not to be confused with LSLR (MamlOptions::learn_inner_lr, Antoniou et al.
// 2019): one learned scalar per parameter *tensor*. Meta-SGD's α has as many
// elements as θ, which doubles the meta-learned numbers.
//
//   MetaSgd learner(model, meta::regression(), {.inner_lr = 0.01, .outer_lr = 1e-3});
//   learner.train(train_tasks, 1000);
//   EvalResult r = learner.test(test_tasks, {.num_tasks = 600, .inner_steps = 1});  // uses the learned α
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "meta/meta_learner.h"

namespace mg::meta {

struct MetaSgdOptions {
  double inner_lr = 0.01;  // the initial value of every element of α
  double outer_lr = 1e-3;  // β, the outer Adam's learning rate on (θ, α)
  int inner_steps = 1;     // k (the paper takes one step)
  int meta_batch = 25;     // tasks per meta-update
  int threads = 1;         // worker threads over the tasks of a batch
  int task_stacks = 2;     // as MamlOptions::task_stacks
  bool checkpoint_steps = false;  // as MamlOptions::checkpoint_steps (α's gradient included)
};

class MetaSgd : public MetaLearner {
 public:
  // ValueError for inner_steps < 0, task_stacks < 0 or an inner_lr that is not finite.
  MetaSgd(nn::Module& model, Objective objective, const MetaSgdOptions& options);

  std::string name() const override { return "metasgd"; }
  // θ (the model's parameters) followed by α_j, one tensor of θ_j's shape for each.
  std::vector<Tensor> outer_parameters() const;
  nn::Optimizer* optimizer() override { return outer_.get(); }
  // α_j, saved in checkpoints as "alpha.<θ_j's name>".
  std::vector<nn::NamedTensor> extra_parameters() const override;
  // The learned α at test time (SGD, elementwise rates).
  InnerLrSetting test_inner_lr() const override;
  const MetaSgdOptions& options() const { return options_; }

 private:
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t iteration) override;

  MetaSgdOptions options_;
  std::vector<Tensor> alpha_;  // α_j, of θ_j's shape
  std::unique_ptr<nn::Optimizer> outer_;
};

}  // namespace mg::meta
