// MAML++ (Antoniou, Edwards & Storkey, "How to train your MAML", ICLR 2019,
// arXiv:1810.09502): MAML with the paper's five training fixes (§4), each one a
// switch of MamlPlusPlusOptions and of `metalearn train --algo maml++`.
// meta/maml_pp.cpp reads like the paper's §4 on top of MAML's Algorithm 2.
//
//   MamlPlusPlus learner(model, meta::classification(), {.inner_steps = 5, .iterations = 60000});
//   learner.train(train_tasks, 60000);
//   EvalResult r = learner.test(test_tasks, {.num_tasks = 600, .inner_steps = 5});  // the learned per-step α, BN
//
//   paper (§4)                                    option            meta-learned tensors (checkpoint names)
//   MSL  multi-step loss, annealed weights v_k    multi_step_loss   —
//   DA   derivative-order annealing               first_order_until —
//   BNWB per-step batch-norm weights and biases   per_step_bn       bn.<k>.<θ_j's name>, k = 0 … S − 1
//   BNRS per-step batch-norm running statistics   (see below)       —
//   LSLR per-layer per-step learned inner rates   learn_inner_lr    lslr.<k>.<θ_j's name>, k = 0 … S − 1
//   CA   cosine annealing of the meta rate β      cosine_lr         —
//
// What is per step, exactly (Note [MAML++ per-step parameters], maml_pp.cpp): with
// per_step_bn every BatchNorm2d weight γ and bias β of the model has S copies, one for
// each inner step; the forward of inner step k (its support loss, and the query loss
// after update k) reads copy k. These copies are meta-learned but not adapted in the
// inner loop, as in the paper's code; the model's own γ, β are then unused. BNRS is not
// kept: every forward normalises with its own batch's statistics (the BatchNorm2d
// Batch mode, transductive, which is what the reference code does in both phases).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "meta/meta_learner.h"

namespace mg::meta {

struct MamlPlusPlusOptions {
  double inner_lr = 0.1;     // α, every learned rate's initial value (the paper's 0.1)
  double outer_lr = 1e-3;    // β₀, the outer Adam's initial learning rate
  int inner_steps = 5;       // S, during meta-training (≥ 1: there is one set of per-step tensors per step)
  bool multi_step_loss = true;           // MSL: the query loss after every step, weighted by msl_weights
  std::int64_t msl_iterations = 7500;    // MSL's annealing length (the paper's 15 epochs of 500 iterations)
  bool per_step_bn = true;               // BNWB: per-step batch-norm weights and biases
  bool learn_inner_lr = true;            // LSLR: one learned α per parameter tensor and step
  std::int64_t first_order_until = 0;    // DA: iterations < this are first order, the rest second order
  bool cosine_lr = true;                 // CA: β from outer_lr down to min_outer_lr over `iterations`
  double min_outer_lr = 1e-5;            // the cosine's floor (the paper's code: 1e-5)
  std::int64_t iterations = 60000;       // the cosine's length: the run's meta-iterations
  int meta_batch = 25;
  int threads = 1;
  int task_stacks = 2;  // as MamlOptions::task_stacks
};

// MSL's weights v_0 … v_{S−1} at `iteration` (Note [MSL weights], maml_pp.cpp): uniform at
// iteration 0, annealed linearly towards the last step over `anneal_iterations`, then the last
// step alone. They sum to 1. ValueError for steps < 1, iteration < 0 or anneal_iterations < 1.
std::vector<double> msl_weights(int steps, std::int64_t iteration, std::int64_t anneal_iterations);

// The indices, in model.parameters() order, of the weights and biases of the model's
// BatchNorm2d layers (the model itself, or the layers of a Sequential, depth first).
std::vector<std::size_t> batch_norm_slots(nn::Module& model);

class MamlPlusPlus : public MetaLearner {
 public:
  // ValueError (meta/option_checks.h) for inner_steps < 1, task_stacks < 0, an inner_lr that is not finite and
  // ≥ 0, msl_iterations < 1, first_order_until < 0, iterations < 1, or a min_outer_lr
  // outside [0, outer_lr].
  MamlPlusPlus(nn::Module& model, Objective objective, const MamlPlusPlusOptions& options);

  std::string name() const override { return "maml++"; }
  // θ, then the per-step rates (LSLR), then the per-step batch-norm tensors (BNWB),
  // each step by step in θ's order: what the outer Adam optimises.
  std::vector<Tensor> outer_parameters() const;
  nn::Optimizer* optimizer() override { return outer_.get(); }
  // The per-step tensors by name (lslr.<k>.<name>, bn.<k>.<name>), saved in checkpoints.
  std::vector<nn::NamedTensor> extra_parameters() const override;
  // The rates of step 0 (a step-independent description of the inner rule); test() uses
  // every step's own rates and batch-norm tensors.
  InnerLrSetting test_inner_lr() const override;
  // The evaluation protocol with the per-step rates and batch-norm tensors: step k ≥ S
  // reuses step S − 1's.
  EvalResult test(const data::TaskSource& tasks, const EvalOptions& options) const override;
  // β at `iteration`: the cosine (nn::CosineLr) when cosine_lr, else outer_lr.
  double outer_lr_at(std::int64_t iteration) const;
  // Whether `iteration` differentiates through the inner loop (DA).
  bool second_order_at(std::int64_t iteration) const { return iteration >= options_.first_order_until; }
  const MamlPlusPlusOptions& options() const { return options_; }

 private:
  GroupResult task_step(const GroupAt& at) const override;
  std::vector<Tensor> outer_direction(const BatchResult& batch, std::int64_t iteration) const override;
  void outer_update(const std::vector<Tensor>& meta_gradient, std::int64_t iteration) override;

  MamlPlusPlusOptions options_;
  std::vector<std::size_t> bn_slots_;  // θ indices with per-step copies (empty without per_step_bn)
  std::vector<std::size_t> adapted_;   // θ indices adapted in the inner loop (the others)
  std::vector<Tensor> alpha_;          // α[k · |adapted_| + a], rank 0 (empty without LSLR)
  std::vector<Tensor> bn_;             // bn[k · |bn_slots_| + b], of θ_{bn_slots_[b]}'s shape
  std::unique_ptr<nn::Optimizer> outer_;
};

}  // namespace mg::meta
