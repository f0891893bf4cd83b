// The command-line flags of `metalearn train --dataset nav2d` (tools/nav_config.h), for
// metalearn.cpp (header-only: the tools library does not link CLI11).
#pragma once

#include <CLI/CLI.hpp>

#include "tools/cli.h"
#include "tools/train_config.h"

namespace mg::tools {

inline void add_nav_flags(CLI::App& cmd, TrainConfig& c) {
  add_number(cmd, "--trajectories", c.nav.trajectories, limits::kTrajectories,
             "nav2d: trajectories per batch, before and after adaptation (default 20)");
  add_number(cmd, "--horizon", c.nav.horizon, limits::kHorizon, "nav2d: moves per episode at most (default 100)");
  cmd.add_option("--reward", c.nav.reward, "nav2d: distance (-|p - g|, default) | squared (-|p - g|^2)");
  cmd.add_option("--outer", c.nav.outer, "nav2d: the outer step, trpo (default, max KL 0.01) | adam (--meta-lr)");
  cmd.add_flag("--sampling-term", c.nav.sampling_term,
               "nav2d, maml: add the meta-gradient's term for the pre-update trajectories' distribution (off by "
               "default: unbiased, but its variance kept MAML from learning, Note [The sampling-distribution term])");
  cmd.add_option("--pretrained", c.nav.pretrained,
                 "nav2d: a checkpoint of --algo pretrain to evaluate beside this run (not saved in the checkpoint)");
}

}  // namespace mg::tools
