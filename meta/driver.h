// The meta-batch driver: the one loop over the tasks of a batch that every
// meta-learner, the pretraining baseline and the evaluation protocol share.
//
// Note [Meta-batch driver]
// Every algorithm in meta/ has the same outer shape,
//
//   for iteration = first, first + 1, …                      MetaLearner::train
//     tasks  = the batch of `iteration` (tasks s·B … s·B + B − 1 of the source)
//     groups = the tasks split into groups                   GroupPlan (meta/task_group.h)
//     for each group g, on the worker pool:                  run_batch, below
//       (of this rank's slice, with MPI)                     Note [Meta-batches over ranks]
//       r_g  = per_task_step(g)                              the algorithm: MetaLearner::task_step
//     Σ      = r_0 + r_1 + …  in group order                 run_batch (OrderedSum)
//     d      = outer_direction(Σ)                            the algorithm
//     check d and the loss are finite                        Note [Divergence] (meta_learner.h)
//     outer_update(d)                                        the algorithm
//     on_step(iteration, statistics)                         the caller's hooks (logging, checkpoints)
//
// and an algorithm is only its two halves, per-task step and outer rule (Meta-SGD,
// MAML++, ANIL and ProtoNets are meta/meta_sgd.h, meta/maml_pp.h, meta/anil.h and
// meta/protonet.h):
//
//   algorithm   per-task step (a group of tasks)              terms summed      outer rule
//   MAML        θ'_i = adapt(θ) on D_i; ∇θ L(f_θ'_i) on D'_i  ∇θ (and ∇α)       θ ← θ − β·Adam(mean)
//   FOMAML      the same, adapt() first order                 ∇θ                the same
//   Reptile     W_i = k steps of SGD/Adam from θ              W_i (and Adam v)  θ ← θ + ε(mean W − θ)
//   pretrain    one joint pass over the whole batch           ∇θ of the joint   θ ← θ − β·Adam(∇θ)
//   evaluation  adapt on D_i, score on D'_i after k steps      (none)            (none)
//   Meta-SGD    as MAML, α a learned tensor per θ_j            ∇θ, ∇α            Adam on (θ, α)
//   MAML++      as MAML, the query loss after every step       ∇θ, ∇α, ∇BN       Adam, cosine-annealed β
//   ANIL        as MAML, adapt() on the head's tensors only    ∇θ                Adam
//   ProtoNets   prototypes from D_i, distances on D'_i         ∇θ                Adam
//
// What the driver guarantees, so that no algorithm repeats it:
//   * Determinism. The groups depend on the batch and the task-stack setting, never
//     on the thread count; each group writes only its own slots; the terms are summed
//     in group order (OrderedSum, meta/ordered_sum.h) and the statistics in task order.
//     Floating-point addition is not associative, so this fixed order is what makes
//     the parameters after N steps bit-identical for any thread count (Note [Task
//     parallelism], meta/meta_learner.h).
//   * Memory. A group's terms are added (and freed) as soon as the groups before it
//     are in; each per-task step runs in its own TapeScope, so a task's tape is gone
//     when its step returns.
//   * Safety. Nothing is updated before the direction and the loss are checked.
//
// Why the per-task steps differentiate with respect to thread aliases of θ
// (meta/adapt.h, thread_aliases) rather than θ itself: the forward is already
// functional (nn::Module::forward(x, theta) takes its parameters explicitly), but
// recording an op binds each leaf it reads to this thread's tape, and that binding
// lives in the leaf's shared state. Two workers binding the model's own parameters
// at once would race on it (ThreadSanitizer found it), so each worker binds leaves
// of its own that share θ's storage: no copy, and θ's values are read, never written,
// until the outer update, which runs after every worker is done.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace mg::meta {

class Communicator;

struct StepStats {
  double loss = 0.0;    // mean query loss over the batch (before the update)
  double metric = 0.0;  // mean query metric over the batch (after adaptation, before the update)
};

// What a per-task step returns for its group of tasks.
struct GroupResult {
  // Summed over the batch's groups, elementwise, in group order: e.g. Σ over the group's
  // tasks of ∇θ L_Ti (MAML) or of W_i (Reptile). Empty when nothing is summed (evaluation).
  std::vector<Tensor> terms = {};
  double loss = 0.0;  // Σ over the group's tasks of the query loss
  // metrics[r][t]: metric row r (training has one row; evaluation one per report step)
  // of the group's t-th task.
  std::vector<std::vector<double>> metrics = {};
};

// The batch after every group is in.
struct BatchResult {
  std::size_t tasks = 0;
  std::vector<Tensor> sum = {};                  // Σ_g terms_g, in group order
  std::vector<double> losses = {};               // the groups' losses, in group order
  std::vector<std::vector<double>> metrics = {};  // [row][task], the whole batch in task order

  // sum · (1/tasks), off the tape: the mean over the batch's tasks.
  std::vector<Tensor> mean() const;
  // Σ_g loss_g / tasks and Σ_t metrics[0][t] / tasks, in order.
  StepStats stats() const;
};

// A per-task step's terms from its loss: ∇_wrt loss, detached (off the tape, so the
// task's TapeScope can free its graph), with zeros for tensors the loss does not reach.
std::vector<Tensor> detached_gradient(const Tensor& loss, std::span<const Tensor> wrt);

// Runs `step(g)` for every group g of `ranges` (contiguous [begin, end) task ranges
// covering 0 … tasks − 1, in order) on `threads` workers of the pool
// (autograd/parallel.h) and gathers the results in group order. Each result must hold
// `metric_rows` rows of one value per task of its group. ValueError for ranges that do
// not tile the batch or a result of the wrong size; an exception in a step is rethrown
// (the lowest group's, whatever the thread count). With a communicator of several
// ranks, each rank runs its slice of the groups and every rank gets the same result
// (Note [Meta-batches over ranks], meta/rank_batch.h).
BatchResult run_batch(std::size_t tasks, std::span<const std::pair<std::size_t, std::size_t>> ranges, int threads,
                      std::size_t metric_rows, const std::function<GroupResult(std::size_t group)>& step,
                      Communicator* comm = nullptr);

}  // namespace mg::meta
