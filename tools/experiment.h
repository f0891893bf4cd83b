// An experiment: the task sources, the network and the meta-learner that a
// TrainConfig describes, built the same way by `train`, `eval` and `--resume`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "datasets/global_labels.h"
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

// The network of a classification experiment and the tasks it trains on, for e.config.algo:
// pretrain (Note [Pretraining a classifier], meta/pretrain.h) gets the episodes with global
// labels, a model with one output per training class and e.test_model with the tasks' N-way
// head (drawn from a generator of its own: that head starts at zero); every other algorithm
// the episodes as they are and a model with N outputs. make_model(outputs, gen) builds one
// network; the model is drawn from `gen`.
using MakeClassifier = std::function<std::unique_ptr<nn::Sequential>(std::int64_t outputs, Generator& gen)>;
void set_classifier(Experiment& e, std::unique_ptr<data::ClassEpisodes> train, Generator& gen,
                    const MakeClassifier& make_model);

// Builds everything from a resolved, validated config (the model initialised from config.seed).
// `algo` overrides config.algo (the sinusoid baseline runs "pretrain" beside MAML).
Experiment build_experiment(const TrainConfig& config, const std::string& algo = "");

}  // namespace mg::tools
