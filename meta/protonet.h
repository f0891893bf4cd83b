// Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017, arXiv:1703.05175):
// the metric-learning baseline. No inner loop: a task is solved by embedding its
// support set with f_φ, averaging each class's embeddings into a prototype, and
// classifying a query by a softmax over its negative squared distances to the
// prototypes. meta/protonet.cpp reads like the paper's Algorithm 1.
//
// The embedding f_φ is the model minus its head (Note [Body and head],
// meta/body_head.h): for conv4, the 64-dimensional output of the four blocks.
// The head's parameters are kept (so checkpoints and models stay those of the
// other algorithms) but never read; their meta-gradient is 0.
//
//   ProtoNet net(model, meta::classification(), {.lr = 1e-3, .meta_batch = 32});
//   net.train(train_tasks, 1000);
//   EvalResult r = net.test(test_tasks, {.num_tasks = 600});  // prototypes from each test support set
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "meta/body_head.h"
#include "meta/meta_learner.h"

namespace mg::meta {

struct ProtoNetOptions {
  double lr = 1e-3;     // the outer Adam's learning rate (the paper's 1e-3)
  int meta_batch = 32;  // episodes per update
  int threads = 1;      // worker threads over the episodes of a batch
};

// c_k = the mean of the rows of `embedding` ([n, D]) whose label (`labels`, [n] int64,
// values 0 … ways − 1) is k: [ways, D]. ValueError for a class with no example or a
// label outside [0, ways); ShapeError when the counts differ.
Tensor prototypes(const Tensor& embedding, const Tensor& labels, std::int64_t ways);
// logits[q, k] = −‖z_q − c_k‖² for queries z ([m, D]) and prototypes c ([ways, D]): [m, ways].
// ShapeError when the embedding widths differ.
Tensor prototype_logits(const Tensor& queries, const Tensor& prototypes);

class ProtoNet : public MetaLearner {
 public:
  // ValueError for a model without a layer with parameters, or a regression objective.
  ProtoNet(nn::Sequential& model, Objective objective, const ProtoNetOptions& options);

  std::string name() const override { return "protonet"; }
  nn::Optimizer* optimizer() override { return adam_.get(); }
  // Nothing is adapted at test time; kept for the interface (unused by test()).
  InnerLrSetting test_inner_lr() const override { return {0.0, {}}; }
  // The 600-task protocol without inner steps: prototypes from each support set, the
  // accuracy on its query set, mean ± 95% CI, reported at step 0. options.inner_steps and
  // report_steps are ignored (there is no inner loop).
  EvalResult test(const data::TaskSource& tasks, const EvalOptions& options) const override;

 private:
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& gradient, std::int64_t iteration) override;
  // The episode's query logits from φ (this thread's aliases of the body's parameters).
  Tensor episode_logits(const data::Task& task, std::span<const Tensor> phi) const;

  nn::Sequential& net_;
  ProtoNetOptions options_;
  BodyHead split_;
  std::unique_ptr<nn::Optimizer> adam_;
};

}  // namespace mg::meta
