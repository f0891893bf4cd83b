// bench_meta's nav2d workload (issue 18, item 8): meta-RL on 2-D navigation with
// metagrad's defaults (meta/nav_meta.h: MAML, second or first order, 1 inner step,
// meta-batch 20, 20 trajectories per task, horizon 100, REINFORCE inner step with the
// per-task linear feature baseline, TRPO outer step with max KL 0.01), side by side
// with bench/torch_nav_ref.py.
//
// A timed iteration is one NavMetaLearner::step(): it samples the batch's
// trajectories (before and after adaptation) as well as taking the meta-gradient and
// the TRPO step, as the PyTorch reference does; the sampling is part of the algorithm
// (the post-update trajectories depend on θ), so it cannot be done before timing.
//
// The fixture: the numbers that let bench/torch_nav_ref.py --check compare its
// computation with metagrad's on the same sampled actions and parameters (float64,
// a small batch); see write_nav_fixture.
#pragma once

#include <cstdint>
#include <string>

#include "meta/nav_meta.h"
#include "nn/gaussian_policy.h"

namespace mg::bench {

// The learner and its policy (2-100-100-2 from kSeed's initialisation) of one nav2d
// configuration: algo "maml" or "fomaml", K inner steps, T worker threads.
// ValueError for another algo.
class NavBench {
 public:
  NavBench(const std::string& algo, int inner_steps, int threads);
  NavBench(const NavBench&) = delete;  // the learner refers to the policy
  NavBench& operator=(const NavBench&) = delete;
  // Meta-step `iteration` (tasks iteration·20 … iteration·20 + 19).
  meta::NavStepStats step(std::int64_t iteration) { return learner_.step(iteration); }

 private:
  nn::GaussianPolicy policy_;
  meta::NavMetaLearner learner_;
};

// Writes the JSON fixture of bench/torch_nav_ref.py --check to `path`, for a float64
// policy and a small batch (3 tasks of 4 trajectories, horizon 100, the other settings
// as the benchmark's) at meta-step 0:
//   options        the settings, as the reference's Settings names them
//   theta          θ_0, one {"shape", "data"} per parameter (nn::GaussianPolicy order)
//   goals          [tasks, 2]
//   tasks[i]       pre / post: the rollouts ({"obs", "actions", "rewards", "mask"},
//                  each {"shape", "data"}) that NavMetaLearner::step(0) samples;
//                  adapted: θ'_i (second order, its values); loss: L_τ'_i(θ'_i)
//   meta_gradient, meta_gradient_first_order   NavMetaLearner::meta_gradient(0)
//   theta_after, accepted, kl                   after NavMetaLearner::step(0)
// DataError when the file cannot be written.
void write_nav_fixture(const std::string& path);

}  // namespace mg::bench
