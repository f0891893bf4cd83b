// 2-D point navigation, the MAML paper's reinforcement-learning tasks (Finn, Abbeel &
// Levine 2017, §5.3; the point environment of their code, after rllab):
//
//   state   the agent's position p ∈ ℝ², starting at the origin
//   action  a velocity a ∈ ℝ², clipped to [−max_step, max_step] per coordinate; p ← p + clip(a)
//   reward  −‖p − g‖ after the move (NavReward::Distance, the default, as the reference code),
//           or −‖p − g‖² (NavReward::SquaredDistance, as the paper's text says)
//   end     when ‖p − g‖ < goal_radius after a move, or after `horizon` moves
//   task    a goal g drawn uniformly from [−goal_range, goal_range]², from
//           task_generator(seed, task index) (datasets/task.h): any thread makes any task
//
// NavBatch runs many trajectories of one task in lockstep, as plain arrays (no per-step
// virtual calls): the policy sees every running trajectory's position at once, as one
// [B, 2] tensor, and answers with one [B, 2] tensor of actions.
//
//   mg::data::NavTasks tasks({.seed = 1});
//   mg::data::NavBatch env(tasks.config(), tasks.goal(7), /*trajectories=*/20);
//   mg::data::NavRollout r = mg::data::rollout(env, [&](const mg::Tensor& p) { return policy(p); });
//   // r.observations [20, T, 2], r.actions [20, T, 2], r.rewards [20, T], r.mask [20, T]
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "autograd/tensor.h"

namespace mg::data {

enum class NavReward { Distance, SquaredDistance };

struct NavConfig {
  double goal_range = 0.5;    // goals uniform in [−goal_range, goal_range]²
  double max_step = 0.1;      // |a_i| is clipped to this
  int horizon = 100;          // moves per episode at most
  double goal_radius = 0.01;  // an episode ends closer than this to the goal
  NavReward reward = NavReward::Distance;
  std::uint64_t seed = 0;
};

struct NavGoal {
  double x = 0.0, y = 0.0;
};

// The task family: one goal per task index. ValueError for a goal_range or max_step
// that is not positive and finite, a horizon < 1 or a goal_radius < 0.
class NavTasks {
 public:
  explicit NavTasks(const NavConfig& config = {});
  NavGoal goal(std::uint64_t task_index) const;
  const NavConfig& config() const { return config_; }

 private:
  NavConfig config_;
};

// B trajectories of one task, all starting at the origin, moved together.
class NavBatch {
 public:
  // ValueError for trajectories < 1 (and as NavTasks for the config).
  NavBatch(const NavConfig& config, NavGoal goal, std::int64_t trajectories);

  std::int64_t size() const { return static_cast<std::int64_t>(running_.size()); }
  int moves() const { return moves_; }  // moves made so far
  // Whether every trajectory has ended (reached the goal, or the horizon).
  bool done() const;
  // Whether trajectory b was still running before the last move (so that move counts).
  bool running(std::int64_t b) const { return running_[static_cast<std::size_t>(b)] != 0; }
  // Positions [B, 2] in `dtype` (float32 or float64): ended trajectories stay where they ended.
  Tensor positions(DType dtype = DType::F32) const;
  // One move: actions [B, 2] (float32 or float64; rows of ended trajectories are
  // ignored) are clipped and added to the positions of the running trajectories.
  // Returns the rewards [B] in float64, 0 for trajectories that had ended. ShapeError
  // for another shape, ValueError when done() or for a NaN action.
  std::vector<double> step(const Tensor& actions);

 private:
  NavConfig config_;
  NavGoal goal_;
  std::vector<double> pos_;             // [B, 2]
  std::vector<std::uint8_t> running_;   // [B]
  int moves_ = 0;
};

// What a rollout collected, each padded to T = the moves made (≤ horizon): rows past a
// trajectory's end are zero, with mask 0. Tensors of the rollout's dtype, never
// requiring grad.
struct NavRollout {
  Tensor observations = {};  // [B, T, 2]  the position each action was taken from
  Tensor actions = {};       // [B, T, 2]  as the policy gave them (before clipping)
  Tensor rewards = {};       // [B, T]
  Tensor mask = {};          // [B, T]     1 where the trajectory was running
};

// Runs `env` to its end: each move, policy(positions [B, 2]) -> actions [B, 2] for all B
// trajectories (those that ended keep their last position; their actions are ignored),
// positions in `dtype` (float32 or float64). ShapeError when the policy answers with
// another shape; ValueError for a NaN action.
using NavPolicy = std::function<Tensor(const Tensor& positions)>;
NavRollout rollout(NavBatch& env, const NavPolicy& policy, DType dtype = DType::F32);

}  // namespace mg::data
