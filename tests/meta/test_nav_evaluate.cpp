// The navigation evaluation (meta/nav_evaluate.h): the oracle against hand-computed
// returns, the protocol's shape, its independence of the thread count, and that the
// adaptation steps it takes improve a policy on its goal.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/errors.h"
#include "meta/nav_evaluate.h"

using namespace mg;
using namespace mg::meta;

TEST_SUITE("nav_evaluate") {
  TEST_CASE("the oracle moves at full speed along each coordinate") {
    const data::NavConfig env{};
    // Goal (0.25, −0.05): after moves 1, 2, 3 the agent is at (0.1, −0.05), (0.2, −0.05),
    // (0.25, −0.05): rewards −0.15, −0.05, 0 (the episode ends on the goal).
    CHECK(nav_oracle_return(env, {0.25, -0.05}) == doctest::Approx(-0.2).epsilon(1e-12));
    data::NavConfig squared = env;
    squared.reward = data::NavReward::SquaredDistance;
    CHECK(nav_oracle_return(squared, {0.25, -0.05}) == doctest::Approx(-(0.15 * 0.15 + 0.05 * 0.05)).epsilon(1e-12));
    const Summary s = nav_oracle({.num_goals = 50});
    CHECK(s.n == 50);
    CHECK(s.mean < 0.0);
    CHECK(s.mean > -1.5);  // a goal is at most 5 moves away: each reward is above −0.71
    CHECK(s.ci95 > 0.0);
  }

  TEST_CASE("returns after 0 … k steps, the same at 1 and 2 threads; steps on a goal raise its return") {
    Generator init(4);
    nn::GaussianPolicy policy = nn::nav_policy(init);
    NavEvalOptions o{.num_goals = 6, .max_steps = 2, .trajectories = 10, .env = {.horizon = 30, .seed = 9}};
    const NavEvalResult one = evaluate_nav(policy, policy.parameters(), o);
    o.threads = 2;
    const NavEvalResult two = evaluate_nav(policy, policy.parameters(), o);
    CHECK(one.steps == std::vector<int>{0, 1, 2});
    REQUIRE(one.returns.size() == 3);
    for (std::size_t k = 0; k < 3; ++k) {
      CHECK(one.returns[k].mean == two.returns[k].mean);
      CHECK(one.returns[k].n == 6);
      CHECK(one.returns[k].mean < 0.0);
    }
    // Many large steps on one goal: the return climbs (policy gradient with α 0.1 and a
    // fresh batch of trajectories each step).
    Generator gen(3);
    const std::vector<data::NavRollout> r =
        nav_adaptation_rollouts(policy, policy.parameters(), {0.4, 0.4}, gen,
                                {.max_steps = 30, .inner_lr = 0.2, .trajectories = 20, .env = {.horizon = 30}});
    REQUIRE(r.size() == 31);
    CHECK(mean_return(r[30]) > mean_return(r[0]) + 2.0);
  }

  TEST_CASE("settings that cannot run are refused") {
    Generator init(4);
    nn::GaussianPolicy policy = nn::nav_policy(init);
    const auto run = [&](NavEvalOptions o) { return evaluate_nav(policy, policy.parameters(), o); };
    CHECK_THROWS_WITH_AS(run({.num_goals = 0}), "nav-eval: num_goals must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(run({.max_steps = -1}), "nav-eval: max_steps must be >= 0, got -1", ValueError);
    CHECK_THROWS_WITH_AS(run({.trajectories = 0}), "nav-eval: trajectories must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(run({.threads = 0}), "nav-eval: threads must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(nav_oracle({.num_goals = 0}), "nav-eval: num_goals must be >= 1, got 0", ValueError);
  }
}
