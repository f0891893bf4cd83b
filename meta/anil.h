// ANIL, "Almost No Inner Loop" (Raghu, Raghu, Bengio & Vinyals, ICLR 2020,
// arXiv:1909.09157): MAML whose inner loop adapts only the head of the network
// (Note [Body and head], meta/body_head.h); the body is meta-learned by the outer
// loop alone. The paper's finding is that MAML's inner loop mostly reuses features,
// so removing it from the body costs no accuracy. meta/anil.cpp reads like the
// paper's algorithm (its §4, MAML's Algorithm 2 restricted to the head).
//
//   Anil anil(model, meta::classification(), {.inner_lr = 0.4, .outer_lr = 1e-3});
//   anil.train(train_tasks, 1000);
//   EvalResult r = anil.test(test_tasks, {.num_tasks = 600, .inner_steps = 3});  // head-only adaptation
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "meta/adapt.h"
#include "meta/body_head.h"
#include "meta/meta_learner.h"
#include "meta/task_group.h"

namespace mg::meta {

struct AnilOptions {
  double inner_lr = 0.01;    // α, the head's inner step
  double outer_lr = 1e-3;    // β, the outer Adam's learning rate
  int inner_steps = 1;       // k
  bool first_order = false;  // the body's meta-gradient without the second-order term through the head's steps
  int meta_batch = 25;       // tasks per meta-update
  int threads = 1;           // worker threads over the tasks of a batch
  int task_stacks = 2;       // as MamlOptions::task_stacks
};

// The inner loop of ANIL on a group of tasks: θ' = (θ_body, θ_head after `steps` steps of
// size α on the group's support sets). `theta` is in model.parameters() order (repeated
// over a task stack when the group is stacked: pass group.start(θ)); the body tensors of
// the result are `theta`'s own, untouched. `mode` as for adapt() (meta/adapt.h).
std::vector<Tensor> anil_adapt(const TaskGroup& group, const BodyHead& split, std::span<const Tensor> theta,
                               double inner_lr, int steps, AdaptMode mode);

class Anil : public MetaLearner {
 public:
  // ValueError for inner_steps < 0, task_stacks < 0, an inner_lr that is not finite and
  // >= 0, or a model without a layer with parameters (no head).
  Anil(nn::Sequential& model, Objective objective, const AnilOptions& options);

  std::string name() const override { return "anil"; }
  nn::Optimizer* optimizer() override { return outer_.get(); }
  // Head-only adaptation at test time: α for the head's tensors, 0 for the body's.
  InnerLrSetting test_inner_lr() const override;
  const BodyHead& split() const { return split_; }

 private:
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t iteration) override;

  AnilOptions options_;
  BodyHead split_;
  std::unique_ptr<nn::Optimizer> outer_;
};

}  // namespace mg::meta
