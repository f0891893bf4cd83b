// 2-D point navigation; see navigation.h.
#include "datasets/navigation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "datasets/task.h"

namespace mg::data {
namespace {

void check_config(const NavConfig& c) {
  const auto positive = [](const char* name, double v) {
    if (!(v > 0.0) || !std::isfinite(v))
      throw ValueError(fmt::format("navigation: {} must be positive and finite, got {}", name, v));
  };
  positive("goal_range", c.goal_range);
  positive("max_step", c.max_step);
  if (c.horizon < 1) throw ValueError(fmt::format("navigation: horizon must be >= 1, got {}", c.horizon));
  if (!(c.goal_radius >= 0.0) || !std::isfinite(c.goal_radius))
    throw ValueError(fmt::format("navigation: goal_radius must be >= 0 and finite, got {}", c.goal_radius));
}

void check_float(const char* what, DType dtype) {
  if (dtype != DType::F32 && dtype != DType::F64)
    throw DTypeError(fmt::format("navigation: {} must be float32 or float64, got {}", what, dtype_name(dtype)));
}

}  // namespace

NavTasks::NavTasks(const NavConfig& config) : config_(config) { check_config(config); }

NavGoal NavTasks::goal(std::uint64_t task_index) const {
  Generator gen = task_generator(config_.seed, task_index);
  const double r = config_.goal_range;
  NavGoal g;
  g.x = gen.uniform(-r, r);
  g.y = gen.uniform(-r, r);
  return g;
}

NavBatch::NavBatch(const NavConfig& config, NavGoal goal, std::int64_t trajectories) : config_(config), goal_(goal) {
  check_config(config);
  if (trajectories < 1)
    throw ValueError(fmt::format("navigation: a batch needs at least one trajectory, got {}", trajectories));
  pos_.assign(static_cast<std::size_t>(2 * trajectories), 0.0);
  running_.assign(static_cast<std::size_t>(trajectories), 1);
}

bool NavBatch::done() const {
  return moves_ >= config_.horizon || std::none_of(running_.begin(), running_.end(), [](std::uint8_t r) { return r; });
}

Tensor NavBatch::positions(DType dtype) const {
  check_float("positions", dtype);
  return from_vector(pos_, Shape{size(), 2}).to(dtype);
}

std::vector<double> NavBatch::step(const Tensor& actions) {
  if (done()) throw ValueError(fmt::format("navigation: step after the episode ended ({} moves)", moves_));
  check_float("actions", actions.dtype());
  if (actions.shape() != Shape{size(), 2})
    throw ShapeError(fmt::format("navigation: actions must be [{}, 2], got {}", size(), actions.shape().str()));
  const std::vector<double> a = actions.to_vector<double>();
  std::vector<double> rewards(static_cast<std::size_t>(size()), 0.0);
  const double lim = config_.max_step;
  for (std::int64_t b = 0; b < size(); ++b) {
    const auto bu = static_cast<std::size_t>(b);
    if (!running_[bu]) continue;
    const double ax = a[2 * bu], ay = a[2 * bu + 1];
    if (std::isnan(ax) || std::isnan(ay))
      throw ValueError(fmt::format("navigation: the action of trajectory {} at move {} is NaN", b, moves_));
    double& x = pos_[2 * bu];
    double& y = pos_[2 * bu + 1];
    x += std::clamp(ax, -lim, lim);
    y += std::clamp(ay, -lim, lim);
    const double dx = x - goal_.x, dy = y - goal_.y, d2 = dx * dx + dy * dy;
    rewards[bu] = config_.reward == NavReward::Distance ? -std::sqrt(d2) : -d2;
    if (std::sqrt(d2) < config_.goal_radius) running_[bu] = 0;
  }
  ++moves_;
  return rewards;
}

NavRollout rollout(NavBatch& env, const NavPolicy& policy, DType dtype) {
  check_float("the rollout", dtype);
  const std::int64_t b = env.size();
  // Per move: positions, actions, rewards, mask, collected move-major ([T, B, ...]).
  std::vector<double> obs, act, rew, mask;
  while (!env.done()) {
    const Tensor p = env.positions(dtype);
    const Tensor a = policy(p);
    if (a.shape() != Shape{b, 2})
      throw ShapeError(fmt::format("navigation: the policy must answer [{}, 2] actions, got {}", b, a.shape().str()));
    const std::vector<double> pv = p.to_vector<double>(), av = a.to_vector<double>();
    for (std::int64_t i = 0; i < b; ++i) {
      const bool on = env.running(i);
      for (std::size_t k = 0; k < 2; ++k) {
        obs.push_back(on ? pv[static_cast<std::size_t>(2 * i) + k] : 0.0);
        act.push_back(on ? av[static_cast<std::size_t>(2 * i) + k] : 0.0);
      }
      mask.push_back(on ? 1.0 : 0.0);
    }
    for (double r : env.step(a)) rew.push_back(r);
  }
  // Stored trajectory-major ([B, T, ...]): value (m, i, k) of `move_major` goes to (i, m, k).
  const std::int64_t t = env.moves();
  const auto trajectory_major = [&](const std::vector<double>& move_major, std::int64_t width) {
    std::vector<double> out(move_major.size());
    for (std::int64_t m = 0; m < t; ++m)
      for (std::int64_t i = 0; i < b; ++i)
        for (std::int64_t k = 0; k < width; ++k)
          out[static_cast<std::size_t>((i * t + m) * width + k)] =
              move_major[static_cast<std::size_t>((m * b + i) * width + k)];
    return out;
  };
  return NavRollout{from_vector(trajectory_major(obs, 2), Shape{b, t, 2}).to(dtype),
                    from_vector(trajectory_major(act, 2), Shape{b, t, 2}).to(dtype),
                    from_vector(trajectory_major(rew, 1), Shape{b, t}).to(dtype),
                    from_vector(trajectory_major(mask, 1), Shape{b, t}).to(dtype)};
}

}  // namespace mg::data
