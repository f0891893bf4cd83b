// An experiment: the task sources, the network and the meta-learner that a
// TrainConfig describes, built the same way by `train`, `eval` and `--resume`.
#pragma once

#include <memory>

#include "datasets/task.h"
#include "meta/meta_learner.h"
#include "nn/sequential.h"
#include "tools/train_config.h"

namespace mg::tools {

// The fixed seed of the test tasks: every run is scored on the same tasks,
// whatever its training seed.
inline constexpr std::uint64_t kTestTaskSeed = 20170309;  // MAML's arXiv date

struct Experiment {
  TrainConfig config;
  std::unique_ptr<data::TaskSource> train_tasks;
  std::unique_ptr<data::TaskSource> test_tasks;
  std::unique_ptr<nn::Sequential> model;
  // Pretraining a classifier (Omniglot, text): the model with the test tasks' head (Note [Pretraining a
  // classifier]).
  std::shared_ptr<nn::Module> test_model;
  std::unique_ptr<meta::MetaLearner> learner;
};

// Builds everything from a resolved, validated config (the model initialised from config.seed).
// `algo` overrides config.algo (the sinusoid baseline runs "pretrain" beside MAML).
Experiment build_experiment(const TrainConfig& config, const std::string& algo = "");

}  // namespace mg::tools
