// `metalearn train --dataset nav2d` and `metalearn eval` of its checkpoints: meta-RL on
// 2-D navigation (meta/nav_meta.h), run_train and run_eval hand over to these (the same
// --out files, checkpoints, --resume, threads, progress and metrics.csv as the other
// datasets; metrics.csv's loss is the post-update surrogate, its metric the return after
// adaptation). The final evaluation (meta/nav_evaluate.h) scores, on eval-tasks held-out
// goals after 0 … eval-inner-steps policy-gradient steps: the trained learner, its random
// initialisation, the --pretrained checkpoint when given, and the oracle; results.txt
// holds the table, nav_returns.svg the return against steps, nav_trajectories.svg
// trajectories before and after adaptation for four goals.
#pragma once

#include <cstdio>
#include <string>

#include "meta/nav_evaluate.h"
#include "meta/nav_meta.h"
#include "tools/train.h"

namespace mg::tools {

// The learner's settings from a resolved nav2d config; `algo` as config.algo.
meta::NavMetaOptions nav_meta_options(const TrainConfig& c, const std::string& algo);
// The evaluation's: the goals of the test seed (kTestTaskSeed), α = --inner-lr.
meta::NavEvalOptions nav_eval_options(const TrainConfig& c);

// run_train for --dataset nav2d; `config` prepared (tools/train_config.h).
TrainResult run_nav_train(const TrainConfig& config, const RunOptions& run);
// run_eval for a nav2d checkpoint: the final evaluation of run_nav_train (printed to `out`;
// results.txt and the pictures written beside the checkpoint), with config.nav.pretrained.
meta::EvalResult run_nav_eval(const TrainConfig& config, const std::string& checkpoint, std::FILE* out);

}  // namespace mg::tools
