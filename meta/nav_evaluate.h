// The evaluation of the MAML paper's navigation experiment (Finn et al. 2017, §5.3,
// Figure 5): on held-out goals, the average undiscounted return of trajectories sampled
// after 0, 1, …, k policy-gradient steps from θ, mean ± 95% CI over the goals; and the
// oracle, the analytic optimum that knows the goal.
//
// Per goal n: τ_0 ~ π_θ; θ_1 = θ − α ∇L_τ0(θ); τ_1 ~ π_θ1; θ_2 = θ_1 − (α/2) ∇L_τ1(θ_1); …
// (α for the first step, α/2 after it, as the REFERENCE's table: 0.1 then 0.05). Goal n
// is NavTasks(env).goal(n) and its noise comes from task_generator(splitmix64(env.seed), n),
// so the scores do not depend on the thread count.
//
//   NavEvalOptions o;  o.env.seed = 20170309;
//   NavEvalResult r = evaluate_nav(policy, policy.parameters(), o);   // r.returns[1]: after one step
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "autograd/random.h"
#include "datasets/navigation.h"
#include "meta/evaluate.h"
#include "meta/policy_adapt.h"
#include "nn/gaussian_policy.h"

namespace mg::meta {

struct NavEvalOptions {
  int num_goals = 100;
  std::uint64_t first_goal = 0;
  int max_steps = 3;      // report after 0, 1, …, max_steps steps
  double inner_lr = 0.1;  // α of the first step; α/2 after it
  int trajectories = 20;
  PolicyGradientOptions pg = {};
  data::NavConfig env = {};  // env.seed: the held-out goals and their noise
  int threads = 1;
};

struct NavEvalResult {
  std::vector<int> steps = {};        // 0 … max_steps
  std::vector<Summary> returns = {};  // one per entry of steps
};

// The rollouts of one goal after 0 … max_steps steps (the first max_steps + 1 batches of
// the protocol), noise from `gen`.
std::vector<data::NavRollout> nav_adaptation_rollouts(nn::GaussianPolicy& policy, std::span<const Tensor> theta,
                                                      data::NavGoal goal, Generator& gen,
                                                      const NavEvalOptions& options);

// The protocol above. ValueError for num_goals < 1, max_steps < 0, trajectories < 1 or threads < 1.
NavEvalResult evaluate_nav(nn::GaussianPolicy& policy, std::span<const Tensor> theta, const NavEvalOptions& options);

// The return of the analytic optimum for one goal: every move a = clip(g − p), full speed
// straight at the goal along each coordinate (no policy is faster under a per-coordinate
// clip); and its summary over the evaluation's goals.
double nav_oracle_return(const data::NavConfig& env, data::NavGoal goal);
Summary nav_oracle(const NavEvalOptions& options);

// The mean over a rollout's trajectories of Σ_t r_t.
double mean_return(const data::NavRollout& rollout);

}  // namespace mg::meta
