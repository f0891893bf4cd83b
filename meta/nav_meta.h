// Meta-reinforcement learning on 2-D navigation (Finn, Abbeel & Levine 2017, §5.3 and
// Algorithm 3): MAML (second and first order) and the pretrained baseline, with a TRPO
// (or Adam) outer step, and Reptile, on the meta-batch driver (meta/driver.h).
//
// Per task i (a goal g_i) of meta-step s, task number n = s·B + i:
//   τ_0 ~ π_θ                    20 trajectories                      sample_nav_task
//   θ'_{k+1} = θ'_k − α ∇L_{τ_k}(θ'_k),  τ_{k+1} ~ π_θ'_{k+1}  (k < K = inner steps)
//   τ' = τ_K: the post-update trajectories; the meta-objective is L_τ'(θ'_K(θ))
// and the outer rule minimises the mean over the batch of that objective:
//   TRPO: x = F⁻¹(−g) by 10 CG steps on F = ∇²KL (the mean KL from π_θ'(θ_0) to π_θ'(θ) on
//   the post-update states, differentiated through θ'), β = sqrt(2δ / xᵀFx), backtracking
//   (nn/trpo.h's settings); or Adam on g.
// Pretrain is K = 0 (TRPO on all goals, no adaptation in the loop); first order takes
// the inner gradients as constants (meta/adapt.h).
//
// Reptile (Nichol, Achiam & Schulman 2018, Algorithm 2, with policy-gradient steps for
// SGD): the same K steps on fresh trajectories, θ'_K detached, then
//   g = (1/B) Σ_i (θ − θ'_K,i),   θ ← θ − ε_s g,   ε_s = ε (1 − s / anneal_iterations)
// (ε constant when anneal_iterations is 0). No second derivatives and no outer
// optimizer; the post-update trajectories only give the batch's statistics.
//
// Note [The sampling-distribution term]
// The objective is an expectation over the pre-update trajectories too, and their
// distribution depends on θ: with S(θ) = Σ_k Σ_{b,t} log π_θ'_k(a_bt | s_bt) over the
// pre-update steps (θ'_0 = θ), and J(θ) = E_τ[Ĵ(θ'(θ, τ))],
//   ∇J = E[ ∇_θ Ĵ(θ'(θ, τ)) ] + E[ Ĵ · ∇_θ S(θ) ]                 (score function)
// The paper's code keeps only the first half (the trajectories are data); E-MAML, DiCE
// and ProMP name the second. Here it is added when NavMetaOptions::sampling_term (off
// by default, see below; second order only), as the per-task weight (Ĵ_i − b_i) on ∇S_i,
// with b_i the mean Ĵ of the batch's other tasks: independent of τ_i, so the baseline adds no bias
// and removes the part of Ĵ that is common to the batch. Ĵ_i is the value whose gradient
// the post-update surrogate estimates: minus the mean reward per step, divided by the
// advantages' normalisation scale σ_i (1 without normalisation). In TRPO's line search
// the term enters to first order, Σ_i (Ĵ_i − b_i)(S_i(θ) − S_i(θ_0)), beside the
// importance-weighted post-update surrogate. tests/meta/test_nav_meta.cpp checks the
// estimator against finite differences of the objective with the sampling noise held
// fixed (reparameterised), and that it fails without the term.
// Why it is off by default (measured, 100 held-out goals, return after one step): with
// the term, a 150-iteration TRPO run did not learn (−88.6 ± 4.9, below random
// initialisation's −84.5 ± 1.9); without it, MAML learns (−16.8 ± 1.4 after 30
// iterations, the README's meta-RL table). The likely cause is variance, not bias: S_i
// sums ~2,000 log-probabilities, so ∇S_i is large beside the signal in Ĵ_i − b_i at
// meta-batch 20. The paper's code and the REFERENCE's PyTorch run leave the term out
// too. A lower-variance form (ProMP's per-step LVC, DiCE with baselines) was not tried.
//
// Determinism: task n's goal is NavTasks(env).goal(n) and its sampling noise comes from
// task_generator(splitmix64(env.seed), n), so the batch does not depend on the thread
// count, and the driver sums every term in task order.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"
#include "datasets/navigation.h"
#include "meta/adapt.h"
#include "meta/policy_adapt.h"
#include "nn/adam.h"
#include "nn/gaussian_policy.h"
#include "nn/trpo.h"

namespace mg::meta {

enum class NavAlgo { Maml, FoMaml, Pretrain, Reptile };
enum class NavOuter { Trpo, Adam };

struct NavMetaOptions {
  NavAlgo algo = NavAlgo::Maml;
  NavOuter outer = NavOuter::Trpo;
  data::NavConfig env = {};  // the tasks; env.seed seeds goals and sampling noise
  int trajectories = 20;     // per batch of trajectories
  int inner_steps = 1;       // K (pretrain: 0 whatever this says)
  double inner_lr = 0.1;     // α
  PolicyGradientOptions pg = {};
  nn::TrpoOptions trpo = {};
  double adam_lr = 1e-3;  // NavOuter::Adam
  double epsilon = 1.0;                // Reptile's ε at iteration 0 (outer is then unused)
  std::int64_t anneal_iterations = 0;  // Reptile: ε reaches 0 here; 0 keeps it constant
  int meta_batch = 20;
  int threads = 1;
  bool sampling_term = false;  // Note [The sampling-distribution term]; second order only
};

// One task's trajectories: pre[k] sampled from θ'_k (k < K), post from θ'_K; and θ'_K
// itself, detached (θ when K = 0).
struct NavTaskSamples {
  std::vector<data::NavRollout> pre = {};
  data::NavRollout post = {};
  std::vector<Tensor> adapted = {};
};

// Samples a task from θ as the header says (the adapted parameters detached), drawing
// all noise from `gen` in a fixed order: the same generator state gives the same noise
// whatever θ is (the rollouts are a smooth function of θ while no action is clipped and
// no episode ends early). The rollouts are in θ's dtype. ValueError for
// trajectories < 1, inner steps < 0 or a non-finite α.
NavTaskSamples sample_nav_task(nn::GaussianPolicy& policy, std::span<const Tensor> theta, data::NavGoal goal,
                               Generator& gen, const NavMetaOptions& options);

// θ'_K(θ) on fixed samples (K = samples.pre.size()), recorded as `mode` says. With
// `score`, also S(θ) = Σ_k Σ mask · log π_θ'_k on samples.pre[k] (a scalar, recorded).
std::vector<Tensor> nav_adapted(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                const NavTaskSamples& samples, const NavMetaOptions& options, AdaptMode mode,
                                Tensor* score = nullptr);

// Ĵ of a post-update rollout: −Σ mask · r / (Σ mask · σ), σ the advantages'
// normalisation scale (std + 1e-8; 1 without normalisation).
double nav_objective(const data::NavRollout& post, const PolicyGradientOptions& options);

// One task's pieces of the meta-gradient at θ (all detached, one tensor per θ_j):
struct NavTaskGradient {
  std::vector<Tensor> outer = {};  // ∇_θ L_τ'(θ'(θ)), trajectories as data
  std::vector<Tensor> score = {};  // ∇_θ S(θ); empty unless the sampling term is on
  double objective = 0.0;          // Ĵ
  double loss = 0.0;               // L_τ'(θ'(θ)) at θ
};
NavTaskGradient nav_task_gradient(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                  const NavTaskSamples& samples, const NavMetaOptions& options);
// Reptile's piece of one task: outer = θ − θ'_K (samples.adapted), the loss and Ĵ of the
// post-update trajectories at θ'_K, no score. ValueError when samples.adapted does not
// hold one tensor per θ_j.
NavTaskGradient reptile_task_gradient(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                      const NavTaskSamples& samples, const NavMetaOptions& options);

// Sums over a batch's tasks of the pieces above, and the meta-gradient they give:
//   (1/n) Σ_i [outer_i + (Ĵ_i − b_i) score_i],  b_i = Σ_{j≠i} Ĵ_j / (n − 1)  (0 when n = 1)
//   = (1/n) [Σ outer + n/(n−1) Σ Ĵ_i score_i − (Σ Ĵ)/(n−1) Σ score]
// Without scores, the mean of the outer gradients. ValueError for tasks < 1.
struct NavGradientSums {
  std::vector<Tensor> outer = {}, weighted_score = {}, score = {};
  double objective = 0.0;
  std::size_t tasks = 0;
};
std::vector<Tensor> nav_meta_gradient(const NavGradientSums& sums);

struct NavStepStats {
  double loss = 0.0;         // mean post-update surrogate before the update
  double pre_return = 0.0;   // mean undiscounted return of the first trajectories (before adaptation)
  double post_return = 0.0;  // of the post-update trajectories
  bool accepted = true;      // TRPO: the line search found a step
  double kl = 0.0;           // TRPO: the mean KL of the step taken
};

class NavMetaLearner {
 public:
  // The learner updates `policy`'s parameters in place. ValueError for meta_batch or
  // threads < 1, Reptile with no inner step, a negative or non-finite ε or a negative
  // anneal_iterations, and the settings sample_nav_task refuses.
  NavMetaLearner(nn::GaussianPolicy& policy, const NavMetaOptions& options);
  // Meta-step `iteration` on tasks iteration·B … iteration·B + B − 1. DivergenceError
  // (nothing updated) when the loss or the meta-gradient is not finite.
  NavStepStats step(std::int64_t iteration);
  // The mean meta-gradient of that batch at the current θ (Reptile: its g, the mean of
  // θ − θ'_K); nothing is updated.
  std::vector<Tensor> meta_gradient(std::int64_t iteration);
  // Reptile's ε at `iteration` (the header's schedule, never below 0).
  double epsilon_at(std::int64_t iteration) const;
  // "maml", "fomaml", "pretrain" or "reptile".
  std::string name() const;
  nn::Optimizer* optimizer() { return adam_.get(); }  // null for TRPO and Reptile (they keep no state)
  const NavMetaOptions& options() const { return options_; }

 private:
  struct Batch;
  Batch sample_batch(std::int64_t iteration) const;
  NavStepStats trpo_update(const Batch& batch, const std::vector<Tensor>& g);

  nn::GaussianPolicy& policy_;
  NavMetaOptions options_;
  std::unique_ptr<nn::Adam> adam_;
};

}  // namespace mg::meta
