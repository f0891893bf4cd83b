// The settings of `metalearn train --dataset nav2d` (meta-RL on 2-D navigation,
// meta/nav_meta.h) that the other datasets do not have, and the hooks through which
// tools/train_config.cpp checks, fills and saves them (tools/nav_flags.h adds the
// flags). Defaults: the MAML paper's §5.3 and
// the REFERENCE's PyTorch run (20 trajectories, horizon 100, reward −distance, TRPO).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/numbers.h"

namespace mg::tools {

struct TrainConfig;

struct NavSettings {
  std::optional<int> trajectories;   // per batch of trajectories (default 20)
  std::optional<int> horizon;        // moves per episode at most (default 100)
  std::optional<std::string> reward;  // distance (default) | squared
  std::optional<std::string> outer;   // trpo (default) | adam (--meta-lr)
  bool sampling_term = false;         // Note [The sampling-distribution term] in meta/nav_meta.h
  std::optional<std::string> pretrained;  // a pretrain checkpoint to score beside the learner (not saved)
  std::vector<std::string> compare;       // eval: more nav2d checkpoints scored beside, each named by its algo
};

namespace limits {
inline constexpr Bounds<int> kTrajectories{1, 100'000};
inline constexpr Bounds<int> kHorizon{1, 1'000'000};
}  // namespace limits

// ValueError naming the flag for a nav2d flag given with another dataset, or --algo reptile with nav2d.
void check_nav_flags_apply(const TrainConfig& c);
// Fills the nav2d defaults, the shared settings included (α 0.1, meta-batch 20, …); nothing for other datasets.
void resolve_nav_defaults(TrainConfig& c);
// ValueError for an invalid nav2d setting (c resolved).
void validate_nav(const TrainConfig& c);
// The nav2d settings as checkpoint metadata ("config.nav_<name>"), and back (DataError for a malformed entry).
std::vector<std::pair<std::string, std::string>> nav_to_metadata(const TrainConfig& c);
void nav_from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata, TrainConfig& c);

}  // namespace mg::tools
