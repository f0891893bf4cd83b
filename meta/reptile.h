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
// with k. Symbols → code: θ = the model's parameters, W_i = theta_tilde,
// ε = epsilon, k = inner_steps.
#pragma once

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
  // W_i for one task: k inner steps from θ (no graph kept).
  std::vector<Tensor> inner_loop(const data::Task& task) const;
  // The same for every task of a group at once (stacked: each tensor is [T, ...]).
  std::vector<Tensor> inner_loop(const TaskGroup& group) const;
  StepStats step(std::span<const data::Task> tasks, std::int64_t iteration) override;
  std::string name() const override { return "reptile"; }
  InnerLrSetting test_inner_lr() const override;
  const ReptileOptions& options() const { return options_; }

 private:
  // The inner loop's rule (optimizer, β1) at learning rate `lr`.
  InnerLrSetting test_inner_lr_for(double lr) const;

  ReptileOptions options_;
};

}  // namespace mg::meta
