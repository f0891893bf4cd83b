// Reptile (Nichol, Achiam & Schulman 2018, arXiv:1803.02999), Algorithm 2
// (the batched version):
//
//   for iteration = 1, 2, …
//     sample tasks τ_1 … τ_n
//     for each i: W_i = U_τi^k(θ)      (k steps of SGD or Adam on τ_i, from θ)
//     θ ← θ + ε · (1/n) Σ_i (W_i − θ)
//
// with ε annealed linearly from epsilon to 0 over the run (§5). No second
// derivatives: the inner loop is plain training (meta/adapt.h's Detached
// mode, the tape rewound after every inner step), so memory does not grow
// with k. Symbols → code: θ = the model's parameters, W_i = w (in task_step()),
// ε = epsilon, k = inner_steps. The loop over the sampled tasks and the mean are
// the meta-batch driver's (Note [Meta-batch driver], meta/driver.h): Reptile
// supplies W_i (task_step) and the interpolation (outer_direction, outer_update).
//
// Two details of the paper's experiments (§5 and its reference code) that
// decide how well Reptile learns on Omniglot (the README's ablation: after 1,000
// meta-iterations, 95% with both, 92% with minibatches alone, 79% with the kept
// Adam state alone, 70% with neither):
//   * Minibatches: each inner step sees `inner_batch` examples of the task's
//     training set, drawn as successive shuffles of it (batches of 10 out of
//     5 × 10 in the paper), not the whole set. The paper's Taylor expansion of
//     the update shows why this matters: besides joint training, Reptile moves θ
//     to raise the inner product between the gradients of *different* minibatches
//     of a task, i.e. it rewards steps on some examples that also help on others.
//     With the same examples at every step that term only rewards fitting them.
//   * Adam's second moment is not reset per task: in the reference code the
//     optimizer's slots are not among the variables that Reptile interpolates,
//     so v (with β1 = 0) keeps averaging g² over all tasks seen. A fresh Adam
//     per task instead takes a step of ±lr on every weight at its first step,
//     signal or not; with the kept v a weight moves in proportion to how large
//     its gradient is against its long-run size. Our tasks of a meta-batch run
//     in parallel, so each starts from the same kept v and the new kept v is the
//     mean of their final ones (summed in task order, so threads do not change
//     it). It is saved with checkpoints and used at test time, as in the paper.
#pragma once

#include <cstdint>
#include <vector>

#include "meta/adapt.h"
#include "meta/meta_learner.h"
#include "meta/task_group.h"

namespace mg::meta {

struct ReptileOptions {
  double inner_lr = 1e-3;                        // SGD step or Adam lr of the inner loop
  int inner_steps = 5;                           // k
  InnerOptimizer inner_optimizer = InnerOptimizer::Adam;
  // Adam's β1 in the inner loop: 0, no momentum, as in the paper's reference code
  // (openai/supervised-reptile); the second moment still normalises the step.
  double inner_adam_beta1 = 0.0;
  double epsilon = 1.0;                          // ε at iteration 0
  std::int64_t anneal_iterations = 0;            // ε reaches 0 here; 0 keeps ε constant
  double eval_inner_lr = -1.0;                   // test-time step (same optimizer); < 0: inner_lr
  int inner_batch = 0;                           // examples per inner step; 0: the whole support set
  bool keep_adam_state = true;                   // Adam: v and its step count kept across tasks (above)
  std::uint64_t seed = 0;                        // the order of the inner minibatches
  int meta_batch = 5;
  int threads = 1;
  // As MamlOptions::task_stacks: the meta-batch runs as this many task stacks when
  // the model supports them (meta/task_group.h); 0 runs tasks one by one.
  int task_stacks = 2;
};

class Reptile : public MetaLearner {
 public:
  Reptile(nn::Module& model, Objective objective, const ReptileOptions& options);

  // ε at `iteration`: epsilon · (1 − iteration / anneal_iterations), never below 0.
  double epsilon_at(std::int64_t iteration) const;
  // W_i for one task: k inner steps from θ (no graph kept); `task_number` (the
  // task's place in the training stream) seeds its minibatch order.
  std::vector<Tensor> inner_loop(const data::Task& task, std::uint64_t task_number = 0) const;
  // The same for every task of a group at once (stacked: each tensor is [T, ...]),
  // whose first task is number `first_task`; the adaptation is returned whole
  // (weights and, for Adam, the second moments).
  Adaptation adapt_group(const TaskGroup& group, std::uint64_t first_task) const;
  std::string name() const override { return "reptile"; }
  InnerLrSetting test_inner_lr() const override;
  // The kept Adam state, "reptile.adam_v.<j>" and "reptile.adam_step" (for checkpoints;
  // empty unless the inner loop is Adam with keep_adam_state).
  std::vector<nn::NamedTensor> extra_parameters() const override;
  const ReptileOptions& options() const { return options_; }

 private:
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& direction, std::int64_t iteration) override;
  // The inner loop's rule (optimizer, β1, kept Adam state) at learning rate `lr`.
  InnerLrSetting test_inner_lr_for(double lr) const;
  bool keeps_adam_state() const;

  ReptileOptions options_;
  std::vector<Tensor> adam_v_;  // kept second moment, one per parameter tensor
  Tensor adam_step_;            // rank-0 f64: inner steps the kept v has seen
};

// The rows of k minibatches of `batch` examples out of `n`, as the paper draws them:
// successive uniformly random permutations of 0..n−1 read `batch` at a time (a
// batch may span two permutations), from a generator seeded with `seed`.
// ValueError unless n, batch >= 1 and k >= 0.
std::vector<std::vector<std::int64_t>> minibatch_rows(std::int64_t n, std::int64_t batch, int k, std::uint64_t seed);

}  // namespace mg::meta
