// MetaLearner: what MAML, Reptile and the pretrained baseline have in common.
//
// A meta-learner owns the outer loop over batches of tasks. Each call to
// step() performs one meta-update from a batch; train() draws the batches
// from a TaskSource (meta-step s uses tasks s·B … s·B + B − 1, so a run is
// reproducible and resumable from its step count alone); test() runs the
// papers' evaluation protocol (meta/evaluate.h) from the current parameters.
//
// Note [Task parallelism]: the tasks of a meta-batch are independent. step()
// runs them on worker threads, each recording on its own thread's tape and
// differentiating with respect to its own aliases of θ (meta/adapt.h,
// thread_aliases), and sums the per-task results in task order afterwards.
// Floating-point addition is not associative, so that fixed order is what
// makes the parameters after N steps bit-identical for any thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "datasets/task.h"
#include "meta/evaluate.h"
#include "meta/objective.h"
#include "nn/module.h"
#include "nn/optimizer.h"

namespace mg::meta {

struct StepStats {
  double loss = 0.0;    // mean query loss over the batch (before the update)
  double metric = 0.0;  // mean query metric over the batch (after adaptation, before the update)
};

class MetaLearner {
 public:
  using StepCallback = std::function<void(std::int64_t iteration, const StepStats& stats)>;

  virtual ~MetaLearner() = default;
  MetaLearner(const MetaLearner&) = delete;
  MetaLearner& operator=(const MetaLearner&) = delete;

  // One meta-update from `tasks`; `iteration` is the meta-step's number (schedules use it).
  virtual StepStats step(std::span<const data::Task> tasks, std::int64_t iteration) = 0;
  // The algorithm's name: "maml", "fomaml", "reptile", "pretrain".
  virtual std::string name() const = 0;

  // Meta-steps first_iteration … first_iteration + iterations − 1 on batches from `tasks`;
  // `on_step` (optional) sees each step's statistics.
  void train(const data::TaskSource& tasks, std::int64_t iterations, const StepCallback& on_step = {},
             std::int64_t first_iteration = 0);
  // The evaluation protocol from the current parameters (see meta/evaluate.h).
  EvalResult test(const data::TaskSource& tasks, const EvalOptions& options) const;

  nn::Module& model() const { return model_; }
  const Objective& objective() const { return objective_; }
  // The outer optimizer, if the algorithm has one (for checkpoints); null for Reptile.
  virtual nn::Optimizer* optimizer() { return nullptr; }
  // Extra meta-learned tensors beyond the model's parameters (MAML's learned α), by name.
  virtual std::vector<nn::NamedTensor> extra_parameters() const { return {}; }
  // The inner learning rate used at test time (per tensor when learned).
  virtual InnerLrSetting test_inner_lr() const = 0;

  int meta_batch() const { return meta_batch_; }
  int threads() const { return threads_; }

 protected:
  MetaLearner(nn::Module& model, Objective objective, int meta_batch, int threads);

  // Note [Divergence]: a run whose loss or meta-gradient stops being finite only gets
  // worse (Adam's moments and θ turn NaN, and every later step is NaN). So step()
  // checks both before it updates anything, and throws DivergenceError naming the
  // learner, the iteration and what is not finite: "the loss", else the first tensor of
  // `meta_gradient` (in outer-parameter order: the model's parameters by name, then
  // extra_parameters()) that holds a NaN or an infinity:
  //   maml: iteration 12: the meta-gradient of 0.weight holds nan (the loss is inf);
  //   the update was not applied
  // The parameters and the optimizer state stay those after iteration − 1, all
  // finite, which is what a caller saves (tools/train.cpp). The check reads each
  // gradient element once: a small fraction of a step.
  void check_finite_step(std::int64_t iteration, double loss, std::span<const Tensor> meta_gradient) const;

 private:
  nn::Module& model_;
  Objective objective_;
  int meta_batch_;
  int threads_;
};

}  // namespace mg::meta
