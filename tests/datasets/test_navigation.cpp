// 2-D point navigation (datasets/navigation.h): goals, moves, rewards, the end of an
// episode, rollouts and every error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "datasets/navigation.h"

using namespace mg;
using namespace mg::data;

namespace {

// A [B, 2] float64 tensor of the same action for every trajectory.
Tensor same_action(std::int64_t b, double ax, double ay) {
  std::vector<double> v(static_cast<std::size_t>(2 * b));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = i % 2 == 0 ? ax : ay;
  return from_vector(v, Shape{b, 2});
}

}  // namespace

TEST_SUITE("datasets_navigation") {
  TEST_CASE("goals are uniform in the square, fixed by (seed, task), different across tasks") {
    const NavTasks tasks({.seed = 3});
    double lo = 1.0, hi = -1.0, sum = 0.0;
    for (std::uint64_t i = 0; i < 2000; ++i) {
      const NavGoal g = tasks.goal(i);
      lo = std::min({lo, g.x, g.y});
      hi = std::max({hi, g.x, g.y});
      sum += g.x + g.y;
    }
    CHECK(lo >= -0.5);
    CHECK(hi <= 0.5);
    CHECK(lo < -0.49);
    CHECK(hi > 0.49);
    CHECK(std::fabs(sum / 4000.0) < 0.02);
    CHECK(tasks.goal(7).x == NavTasks({.seed = 3}).goal(7).x);
    CHECK(tasks.goal(7).x != tasks.goal(8).x);
    CHECK(tasks.goal(7).x != NavTasks({.seed = 4}).goal(7).x);
    CHECK(std::fabs(NavTasks({.goal_range = 2.0, .seed = 3}).goal(7).x - 4.0 * tasks.goal(7).x) < 1e-12);
  }

  TEST_CASE("a move clips the velocity, and the reward is minus the distance (or its square) after it") {
    NavBatch env({}, {0.3, -0.2}, 2);
    CHECK(env.size() == 2);
    CHECK(env.positions(DType::F64).to_vector<double>() == std::vector<double>{0, 0, 0, 0});
    const std::vector<double> r = env.step(from_vector(std::vector<double>{0.05, 7.0, -1.0, 0.02}, Shape{2, 2}));
    CHECK(env.positions(DType::F64).to_vector<double>() == std::vector<double>{0.05, 0.1, -0.1, 0.02});
    CHECK(r[0] == doctest::Approx(-std::hypot(0.05 - 0.3, 0.1 + 0.2)));
    CHECK(r[1] == doctest::Approx(-std::hypot(-0.1 - 0.3, 0.02 + 0.2)));
    CHECK(env.moves() == 1);

    NavBatch squared({.reward = NavReward::SquaredDistance}, {0.3, -0.2}, 1);
    const double d2 = squared.step(same_action(1, 0.1, 0.0))[0];
    CHECK(d2 == doctest::Approx(-(0.2 * 0.2 + 0.2 * 0.2)));
    CHECK(squared.positions(DType::F32).dtype() == DType::F32);
  }

  TEST_CASE("an episode ends at the goal or at the horizon; ended trajectories stay and earn 0") {
    // Trajectory 0 heads for the goal (0.1, 0) and reaches it in one move; 1 stands still.
    NavBatch env({.horizon = 3}, {0.1, 0.0}, 2);
    std::vector<double> r = env.step(from_vector(std::vector<double>{0.1, 0.0, 0.0, 0.0}, Shape{2, 2}));
    CHECK(r[0] == doctest::Approx(0.0));
    CHECK_FALSE(env.running(0));
    CHECK(env.running(1));
    CHECK_FALSE(env.done());
    r = env.step(same_action(2, 0.05, 0.05));
    CHECK(r[0] == 0.0);  // ended: no reward, no move
    CHECK(env.positions(DType::F64).to_vector<double>()[0] == doctest::Approx(0.1));
    CHECK(r[1] == doctest::Approx(-std::hypot(0.05 - 0.1, 0.05)));
    env.step(same_action(2, 0.0, 0.0));
    CHECK(env.done());  // the horizon
    CHECK(env.moves() == 3);
    CHECK_THROWS_WITH_AS(env.step(same_action(2, 0.0, 0.0)), "navigation: step after the episode ended (3 moves)",
                         ValueError);

    NavBatch all_home({}, {0.0, 0.05}, 1);
    all_home.step(same_action(1, 0.0, 0.05));
    CHECK(all_home.done());  // every trajectory at the goal, long before the horizon
  }

  TEST_CASE("a rollout pads to the moves made and masks what came after each end") {
    const NavGoal goal{0.25, 0.0};
    NavBatch env({.max_step = 0.2, .horizon = 10}, goal, 3);
    // Trajectory 0 moves right by 0.05 a move and reaches the goal after 5 moves, 1 by
    // 0.125 (2 moves); 2 by 0.15 never comes within 0.01 of it and runs to the horizon.
    int calls = 0;
    const NavRollout r = rollout(
        env,
        [&](const Tensor& p) {
          ++calls;
          CHECK(p.shape() == Shape{3, 2});
          CHECK(p.dtype() == DType::F64);
          return from_vector(std::vector<double>{0.05, 0.0, 0.125, 0.0, 0.15, 0.0}, Shape{3, 2});
        },
        DType::F64);
    CHECK(calls == 10);
    CHECK(r.observations.shape() == Shape{3, 10, 2});
    CHECK(r.actions.shape() == Shape{3, 10, 2});
    CHECK(r.rewards.shape() == Shape{3, 10});
    const std::vector<double> mask = r.mask.to_vector<double>();
    const auto moves = [&](int b) {
      double n = 0;
      for (int t = 0; t < 10; ++t) n += mask[static_cast<std::size_t>(b * 10 + t)];
      return n;
    };
    CHECK(moves(0) == 5);   // 5 × 0.05 = 0.25
    CHECK(moves(1) == 2);   // 2 × 0.125 = 0.25
    CHECK(moves(2) == 10);  // 0.15, 0.3, … never within 0.01 of 0.25
    const std::vector<double> obs = r.observations.to_vector<double>(), act = r.actions.to_vector<double>();
    CHECK(obs[2 * 1] == doctest::Approx(0.05));  // trajectory 0, move 1 starts from 0.05
    CHECK(obs[2 * 5] == 0.0);                     // padding after its end
    CHECK(act[2 * 4] == doctest::Approx(0.05));
    CHECK(act[2 * 5] == 0.0);
    const std::vector<double> rew = r.rewards.to_vector<double>();
    CHECK(rew[0] == doctest::Approx(-0.2));
    CHECK(rew[4] == doctest::Approx(0.0));
    CHECK(rew[5] == 0.0);
    CHECK(rew[20] == doctest::Approx(-0.1));  // trajectory 2, first move: 0.15 from 0.25

    NavBatch f32({.horizon = 2}, goal, 1);
    const NavRollout r32 = rollout(f32, [](const Tensor& p) { return zeros(p.shape()); });
    CHECK(r32.rewards.dtype() == DType::F32);
    CHECK(r32.rewards.shape() == Shape{1, 2});
  }

  TEST_CASE("bad settings, actions and policies are refused with a reason") {
    CHECK_THROWS_WITH_AS(NavTasks({.goal_range = 0.0}), "navigation: goal_range must be positive and finite, got 0",
                         ValueError);
    CHECK_THROWS_WITH_AS(NavTasks({.max_step = std::numeric_limits<double>::infinity()}),
                         "navigation: max_step must be positive and finite, got inf", ValueError);
    CHECK_THROWS_WITH_AS(NavTasks({.horizon = 0}), "navigation: horizon must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(NavTasks({.goal_radius = -1.0}), "navigation: goal_radius must be >= 0 and finite, got -1",
                         ValueError);
    CHECK_THROWS_WITH_AS(NavBatch({}, {}, 0), "navigation: a batch needs at least one trajectory, got 0", ValueError);
    NavBatch env({}, {0.2, 0.2}, 2);
    CHECK_THROWS_WITH_AS(env.step(zeros({3, 2})), "navigation: actions must be [2, 2], got [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(env.step(zeros({2, 2}, DType::I64)), "navigation: actions must be float32 or float64, got i64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(env.positions(DType::I64), "navigation: positions must be float32 or float64, got i64",
                         DTypeError);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(env.step(from_vector(std::vector<double>{0.0, 0.0, nan, 0.0}, Shape{2, 2})),
                         "navigation: the action of trajectory 1 at move 0 is NaN", ValueError);
    CHECK_THROWS_WITH_AS(rollout(env, [](const Tensor&) { return zeros({2, 3}); }),
                         "navigation: the policy must answer [2, 2] actions, got [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(rollout(env, [](const Tensor& p) { return p; }, DType::I64),
                         "navigation: the rollout must be float32 or float64, got i64", DTypeError);
  }
}
