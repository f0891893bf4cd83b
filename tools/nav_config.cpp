#include "tools/nav_config.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "tools/train_config.h"

namespace mg::tools {

namespace {

template <class T>
void set(std::optional<T>& field, T value) {
  if (!field) field = std::move(value);
}

}  // namespace

void check_nav_flags_apply(const TrainConfig& c) {
  const NavSettings& n = c.nav;
  if (c.dataset != "nav2d") {
    for (const auto& [flag, given] :
         {std::pair{"--trajectories", n.trajectories.has_value()}, std::pair{"--horizon", n.horizon.has_value()},
          std::pair{"--reward", n.reward.has_value()}, std::pair{"--outer", n.outer.has_value()},
          std::pair{"--sampling-term", n.sampling_term}, std::pair{"--pretrained", n.pretrained.has_value()}})
      if (given) config_error(fmt::format("{} is for --dataset nav2d, not {}", flag, c.dataset));
    return;
  }
  if (c.algo == "reptile" && n.outer)
    config_error("--outer is for --algo maml, fomaml or pretrain: reptile's outer step is its interpolation "
                 "(--meta-lr is its epsilon)");
  for (const auto& [flag, given] : {std::pair{"--inner-batch", c.inner_batch.has_value()},
                                    std::pair{"--inner-optimizer", c.inner_optimizer.has_value()},
                                    std::pair{"--reset-inner-adam", c.reset_inner_adam}})
    if (given)
      config_error(fmt::format("{} is not for --dataset nav2d (its inner steps are policy-gradient steps)", flag));
  if (n.sampling_term && c.algo != "maml") config_error(fmt::format("--sampling-term is for --algo maml, not {}", c.algo));
  if (n.pretrained && c.algo == "pretrain") config_error("--pretrained does nothing with --algo pretrain (it is the baseline)");
}

void resolve_nav_defaults(TrainConfig& c) {
  if (c.dataset != "nav2d") return;
  set(c.nav.trajectories, 20);
  set(c.nav.horizon, 100);
  set(c.nav.reward, std::string("distance"));
  set(c.nav.outer, std::string("trpo"));
  const bool reptile = c.algo == "reptile";
  // Reptile: three steps (with one it is joint training), ε = 1 annealed to 0 (meta/nav_meta.h).
  set(c.inner_steps, reptile ? 3 : 1);
  set(c.eval_inner_steps, 3);
  set(c.meta_batch, 20);
  set(c.inner_lr, 0.1);
  set(c.meta_lr, reptile ? 1.0 : 1e-3);
  set(c.iterations, std::int64_t{200});
}

void validate_nav(const TrainConfig& c) {
  if (c.dataset != "nav2d") return;
  if (*c.nav.reward != "distance" && *c.nav.reward != "squared")
    config_error(fmt::format("--reward must be distance or squared, got '{}'", *c.nav.reward));
  if (*c.nav.outer != "trpo" && *c.nav.outer != "adam")
    config_error(fmt::format("--outer must be trpo or adam, got '{}'", *c.nav.outer));
  check_bounds("train", "--trajectories", *c.nav.trajectories, limits::kTrajectories);
  check_bounds("train", "--horizon", *c.nav.horizon, limits::kHorizon);
}

std::vector<std::pair<std::string, std::string>> nav_to_metadata(const TrainConfig& c) {
  if (c.dataset != "nav2d") return {};
  return {{"config.nav_trajectories", fmt::format("{}", *c.nav.trajectories)},
          {"config.nav_horizon", fmt::format("{}", *c.nav.horizon)},
          {"config.nav_reward", *c.nav.reward},
          {"config.nav_outer", *c.nav.outer},
          {"config.nav_sampling_term", c.nav.sampling_term ? "true" : "false"}};
}

void nav_from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata, TrainConfig& c) {
  for (const auto& entry : metadata) {
    const std::string &key = entry.first, &value = entry.second;
    const auto number = [&](std::optional<int>& field) {
      field = to_number<int>(value);
      if (!field) throw DataError(fmt::format("{}: expected a number, got '{}'", key, value));
    };
    if (key == "config.nav_trajectories") number(c.nav.trajectories);
    if (key == "config.nav_horizon") number(c.nav.horizon);
    if (key == "config.nav_reward") c.nav.reward = value;
    if (key == "config.nav_outer") c.nav.outer = value;
    if (key == "config.nav_sampling_term") {
      if (value != "true" && value != "false")
        throw DataError(fmt::format("{}: expected true or false, got '{}'", key, value));
      c.nav.sampling_term = value == "true";
    }
  }
}

}  // namespace mg::tools
