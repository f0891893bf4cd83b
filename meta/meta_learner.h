// MetaLearner: what MAML, Reptile and the pretrained baseline have in common.
//
// A meta-learner owns the outer loop over batches of tasks. Each call to
// step() performs one meta-update from a batch; train() draws the batches
// from a TaskSource (meta-step s uses tasks s·B … s·B + B − 1, so a run is
// reproducible and resumable from its step count alone); test() runs the
// papers' evaluation protocol (meta/evaluate.h) from the current parameters.
// step() is the meta-batch driver (Note [Meta-batch driver], meta/driver.h): an
// algorithm supplies only its per-task step (task_step) and its outer rule
// (outer_direction, outer_update).
//
// Note [Task parallelism]: the tasks of a meta-batch are independent. step()
// runs them on worker threads, each recording on its own thread's tape and
// differentiating with respect to its own aliases of θ (meta/adapt.h,
// thread_aliases), and sums the per-task results in task order afterwards.
// Floating-point addition is not associative, so that fixed order is what
// makes the parameters after N steps bit-identical for any thread count. The
// same holds over the ranks of an MPI job (set_communicator; Note [Meta-batches
// over ranks], meta/rank_batch.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "datasets/task.h"
#include "meta/communicator.h"
#include "meta/driver.h"
#include "meta/evaluate.h"
#include "meta/objective.h"
#include "meta/task_group.h"
#include "nn/module.h"
#include "nn/optimizer.h"

namespace mg::meta {

// What a per-task step is given: a group of the batch's tasks (one task, or a stack
// of them, meta/task_group.h) and where it stands in the training stream.
struct GroupAt {
  std::span<const data::Task> tasks;  // the group's tasks
  bool stacked = false;               // run as one task stack
  std::int64_t iteration = 0;         // the meta-step
  std::uint64_t first_task = 0;       // the first task's number in the stream: iteration · B + offset
};

class MetaLearner {
 public:
  using StepCallback = std::function<void(std::int64_t iteration, const StepStats& stats)>;

  virtual ~MetaLearner() = default;
  MetaLearner(const MetaLearner&) = delete;
  MetaLearner& operator=(const MetaLearner&) = delete;

  // One meta-update from `tasks`; `iteration` is the meta-step's number (schedules use it).
  // The driver (Note [Meta-batch driver]): run_tasks, then the outer rule, checked first
  // (Note [Divergence]). ValueError for an empty batch.
  StepStats step(std::span<const data::Task> tasks, std::int64_t iteration);
  // The algorithm's name: "maml", "fomaml", "reptile", "pretrain", "metasgd", "maml++", "anil",
  // "protonet".
  virtual std::string name() const = 0;

  // Meta-steps first_iteration … first_iteration + iterations − 1 on batches from `tasks`;
  // `on_step` (optional) sees each step's statistics.
  void train(const data::TaskSource& tasks, std::int64_t iterations, const StepCallback& on_step = {},
             std::int64_t first_iteration = 0);
  // The mean over `tasks` of the per-task terms and the batch's statistics; nothing is
  // updated. For the gradient-based learners (MAML, Meta-SGD, ANIL, ProtoNets) that is the
  // meta-gradient, one tensor per outer parameter. ValueError for an empty batch.
  std::vector<Tensor> meta_gradient(std::span<const data::Task> tasks, StepStats* stats = nullptr) const;
  // The evaluation protocol from the current parameters (see meta/evaluate.h); an
  // algorithm without an inner loop (ProtoNets) replaces it.
  virtual EvalResult test(const data::TaskSource& tasks, const EvalOptions& options) const;

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
  // The ranks of a job that share every batch and the evaluation's tasks (Note
  // [Meta-batches over ranks], meta/rank_batch.h); null (the default): this process alone.
  void set_communicator(std::shared_ptr<Communicator> comm) { comm_ = std::move(comm); }

 protected:
  // `task_stacks`: the batch runs as this many task stacks when the model supports them
  // (meta/task_group.h, plan_groups); 0 runs tasks one by one.
  MetaLearner(nn::Module& model, Objective objective, int meta_batch, int threads, int task_stacks = 0);

  // The first half of the driver: every group's task_step on the worker pool, the
  // results gathered in group order (meta/driver.h, run_batch).
  BatchResult run_tasks(std::span<const data::Task> tasks, std::int64_t iteration) const;
  // How a batch splits into groups: plan_groups(model, tasks, task_stacks) unless overridden.
  virtual GroupPlan plan(std::span<const data::Task> tasks) const;
  // The per-task step, run on a worker thread for each group of the plan: its terms are
  // summed over the batch (one row of metrics, one value per task of the group).
  virtual GroupResult task_step(const GroupAt& at) const = 0;
  // The outer rule, in two halves: the direction of the update from the batch's sums
  // (the meta-gradient, or Reptile's mean W − θ), one tensor per outer-parameter name
  // (Note [Divergence]), and its application. The driver checks the direction between them.
  virtual std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const = 0;
  virtual void outer_update(const std::vector<Tensor>& direction, std::int64_t iteration) = 0;
  // The TaskGroup of `at` on this learner's model and objective.
  TaskGroup group(const GroupAt& at) const;
  // `options` with this learner's ranks (set_communicator) unless it names its own: every
  // test(), overridden or not, splits its tasks over the job's ranks this way.
  EvalOptions over_ranks(EvalOptions options) const;

 private:
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

  nn::Module& model_;
  Objective objective_;
  int meta_batch_;
  int threads_;
  int task_stacks_;
  std::shared_ptr<Communicator> comm_;
};

}  // namespace mg::meta
