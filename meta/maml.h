// MAML: Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017,
// arXiv:1703.03400), full second order and first order. meta/maml.cpp reads
// like the paper's Algorithm 2.
//
//   Maml maml(model, meta::regression(), /*inner_lr=*/0.01, /*outer_lr=*/1e-3, /*num_inner_steps=*/1);
//   maml.train(train_tasks, 1000);
//   EvalResult r = maml.test(test_tasks, {.num_tasks = 600, .inner_steps = 10});
//   std::vector<Tensor> g = maml_meta_gradient(model, meta::regression(), theta, task, {.inner_lr = 0.01});
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "meta/meta_learner.h"

namespace mg::meta {

struct MamlOptions {
  double inner_lr = 0.01;     // α
  double outer_lr = 1e-3;     // β, the outer Adam's learning rate
  int inner_steps = 1;        // k during meta-training
  bool first_order = false;   // drop the second-order term (first-order MAML)
  bool learn_inner_lr = false;  // LSLR: meta-learn one α per parameter tensor (Meta-SGD's per element: meta_sgd.h)
  // Second order only: recompute each inner step in the meta-backward instead of keeping
  // its graph, so memory does not grow with inner_steps; the meta-gradient is bit-identical
  // (meta/checkpointed_adapt.h). ValueError with first_order.
  bool checkpoint_steps = false;
  int meta_batch = 25;        // tasks per meta-update
  int threads = 1;            // worker threads over the tasks of a batch
  // When the model supports task stacks (nn/module.h), the meta-batch runs as this
  // many stacks of tasks (meta/task_group.h), one per worker; 0 runs tasks one by one.
  // The split does not depend on `threads`, so results stay bit-identical across them.
  int task_stacks = 2;
};

// The inner loop of one task's meta-gradient (maml_meta_gradient).
struct MetaGradientOptions {
  double inner_lr = 0.01;    // α
  int inner_steps = 1;       // k
  bool first_order = false;  // drop the second-order term
  bool checkpoint_steps = false;  // as MamlOptions::checkpoint_steps
};

// ∇_θ L(f_θ'(query x), query y) for one task, θ' = k SGD steps of size α from θ on the
// task's support set: the MAML meta-gradient at an explicit θ, without a Maml object
// or an optimizer. `theta` (any tensors of the shapes of model.parameters(), in that
// order; the model's own parameters are not read) goes through the model's functional
// forward. The result is detached, one tensor per θ_j. ValueError for a θ of the wrong
// length, inner_steps < 0, or checkpoint_steps with first_order.
std::vector<Tensor> maml_meta_gradient(nn::Module& model, const Objective& objective, std::span<const Tensor> theta,
                                       const data::Task& task, const MetaGradientOptions& options = {});

class Maml : public MetaLearner {
 public:
  // The short form: maml(model, loss, inner_lr, outer_lr, num_inner_steps); outer Adam.
  Maml(nn::Module& model, Objective objective, double inner_lr, double outer_lr, int num_inner_steps);
  // All options; `outer` replaces the default Adam(β = outer_lr) when given. It must
  // optimise outer_parameters() in that order.
  Maml(nn::Module& model, Objective objective, const MamlOptions& options,
       std::unique_ptr<nn::Optimizer> outer = nullptr);

  std::string name() const override { return options_.first_order ? "fomaml" : "maml"; }

  // θ (the model's parameters) followed by the learned α_j when learn_inner_lr.
  std::vector<Tensor> outer_parameters() const;
  nn::Optimizer* optimizer() override { return outer_.get(); }
  std::vector<nn::NamedTensor> extra_parameters() const override;
  InnerLrSetting test_inner_lr() const override;
  const MamlOptions& options() const { return options_; }

 private:
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t iteration) override;

  MamlOptions options_;
  std::vector<Tensor> inner_lrs_;  // α_j, rank 0, when learned
  std::unique_ptr<nn::Optimizer> outer_;
};

}  // namespace mg::meta
