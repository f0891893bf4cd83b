// The settings of a `metalearn train` run, their per-dataset defaults (the
// papers' settings, ../shared/REFERENCE.md), their validation, and their
// round trip through a checkpoint's metadata (so `metalearn eval` and
// `--resume` rebuild exactly the same experiment).
//
// A setting whose default depends on the dataset or algorithm is a
// std::optional: empty means "not given", and resolve_defaults() fills it.
// No value a user can type means "unset" (a typed -1 is an error, not the
// default). After resolve_defaults() every optional holds a value.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/mamlpp_config.h"
#include "tools/nav_config.h"
#include "tools/numbers.h"

namespace mg::tools {

struct TrainConfig {
  std::string dataset = "sinusoid";            // sinusoid | omniglot | nav2d | clinc150 | text-csv (tools/text_config.h)
  std::optional<std::string> data;             // omniglot: its root (images_background/, images_evaluation/)
  std::optional<std::string> split;            // omniglot: vinyals (1200 train characters; default) | official
  // maml | fomaml | reptile | pretrain | metasgd | maml++ | anil | protonet | nearest-mean (text)
  std::string algo = "maml";
  std::optional<std::string> model;            // text: bag | bag-counts | cnn; sinusoid mlp, omniglot conv4
  std::optional<std::string> text_column, label_column;  // text-csv
  std::optional<std::string> inner_optimizer;  // reptile: sgd | adam (default: adam for omniglot, sgd for sinusoid)
  std::optional<int> ways, shots, queries;
  std::optional<int> train_shots;  // K of the training tasks (default: --shots; Reptile on Omniglot 10)
  std::optional<int> train_ways;   // N of the training tasks (default: --ways; only protonet may differ)
  std::optional<int> inner_batch;  // reptile: examples per inner step; 0: all
  std::optional<int> inner_steps, eval_inner_steps, meta_batch;
  std::optional<double> inner_lr, meta_lr;
  std::optional<std::int64_t> iterations;
  std::uint64_t seed = 0;
  std::optional<int> threads;     // default: one per core
  bool learn_inner_lr = false;    // maml, fomaml
  bool first_order = false;       // anil (first-order MAML is --algo fomaml)
  // maml, metasgd: recompute inner steps in the meta-backward (meta/checkpointed_adapt.h). Not
  // saved in checkpoints: it changes memory and time, never a result.
  bool checkpoint_steps = false;
  bool reset_inner_adam = false;  // reptile: a fresh inner Adam per task instead of the kept second moment
  bool strided = false;           // omniglot: stride-2 convolutions instead of max-pooling
  bool baseline = true;           // sinusoid: also train the pretrained baseline (MAML paper, Figure 2)
  int eval_tasks = 600;
  std::string out = "runs/latest";
  std::int64_t checkpoint_every = 1000;
  int log_every = 100;
  bool resume = false;
  NavSettings nav = {};  // --dataset nav2d (tools/nav_config.h)
  MamlppSettings mamlpp = {};  // --algo maml++ (tools/mamlpp_config.h)
};

// The allowed values of every numeric setting: the command line parses each
// flag against these (tools/numbers.h) and validate() checks them again.
namespace limits {
inline constexpr int kMaxThreads = 1024;
inline constexpr Bounds<int> kWays{2, 1000};
inline constexpr Bounds<int> kShots{1, 10'000};  // --shots, --train-shots, --queries
inline constexpr Bounds<int> kInnerBatch{0, 10'000};
inline constexpr Bounds<int> kInnerSteps{1, 10'000};  // --inner-steps, --eval-inner-steps
inline constexpr Bounds<int> kMetaBatch{1, 10'000};
inline constexpr Bounds<double> kLearningRate{0.0, 1000.0, true};
inline constexpr Bounds<std::int64_t> kIterations{1, 1'000'000'000};  // --iterations, --checkpoint-every
inline constexpr Bounds<std::uint64_t> kSeed{0, std::numeric_limits<std::uint64_t>::max()};
inline constexpr Bounds<int> kThreads{1, kMaxThreads};
inline constexpr Bounds<int> kEvalTasks{1, 1'000'000};
inline constexpr Bounds<int> kLogEvery{1, 1'000'000'000};
}  // namespace limits

// "this machine has N cores", the note of a --threads error.
std::string threads_note();

// Throws ValueError("train: " + what): how every check of a setting refuses it (here and in
// the per-dataset and per-algorithm files: nav_config, text_config, mamlpp_config).
[[noreturn]] void config_error(const std::string& what);
// Throws ValueError naming the flag when a flag was given that does nothing
// for the chosen dataset or algorithm (--ways with sinusoid, --inner-batch
// without reptile...). Call on the config as the user gave it, before
// resolve_defaults (which fills every setting).
void check_flags_apply(const TrainConfig& c);
// Fills every setting that was not given with the dataset's default.
void resolve_defaults(TrainConfig& c);
// Throws ValueError with a one-line message for an invalid setting, naming the flag,
// the value and the allowed values. `c` must be resolved.
void validate(const TrainConfig& c);
// The three in order: what run_train does with the flags it is given.
void prepare(TrainConfig& c);

// The settings that define the experiment, as checkpoint metadata ("config.<name>"). `c` must be resolved.
std::vector<std::pair<std::string, std::string>> to_metadata(const TrainConfig& c);
// The inverse; DataError naming the key for a missing or malformed entry.
TrainConfig from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata);

// The Omniglot root to use: --data, else $METAGRAD_OMNIGLOT, else ../shared/data/omniglot.
std::string omniglot_root(const std::optional<std::string>& data);
// Where that root came from, for messages: "--data", "$METAGRAD_OMNIGLOT" or "the default Omniglot folder".
std::string omniglot_root_source(const std::optional<std::string>& data);
// That root, checked to be a readable folder (tools/paths.h); DataError naming where it came from.
std::string checked_omniglot_root(const std::optional<std::string>& data);

}  // namespace mg::tools
