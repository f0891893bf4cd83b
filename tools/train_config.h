// The settings of a `metalearn train` run, their per-dataset defaults (the
// papers' settings, ../shared/REFERENCE.md), their validation, and their
// round trip through a checkpoint's metadata (so `metalearn eval` and
// `--resume` rebuild exactly the same experiment).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mg::tools {

struct TrainConfig {
  std::string dataset = "sinusoid";  // sinusoid | omniglot
  std::string data;                  // Omniglot root (images_background/, images_evaluation/)
  std::string split = "vinyals";     // omniglot: vinyals (1200 train characters) | official
  std::string algo = "maml";         // maml | fomaml | reptile | pretrain
  std::string inner_optimizer;       // reptile: sgd | adam; empty: adam for omniglot, sgd for sinusoid
  // -1 / negative: the dataset's default (resolve_defaults).
  int ways = -1, shots = -1, queries = -1;
  int train_shots = -1;  // K of the training tasks; negative: the default (--shots; Reptile on Omniglot 10)
  int inner_batch = -1;  // reptile: examples per inner step; 0: all; negative: the default
  int inner_steps = -1, eval_inner_steps = -1, meta_batch = -1;
  double inner_lr = -1, meta_lr = -1;
  std::int64_t iterations = -1;
  std::uint64_t seed = 0;
  int threads = -1;  // negative: one per core
  bool learn_inner_lr = false;
  bool reset_inner_adam = false;  // reptile: a fresh inner Adam per task instead of the kept second moment
  bool strided = false;   // omniglot: stride-2 convolutions instead of max-pooling
  bool baseline = true;   // sinusoid: also train the pretrained baseline (MAML paper, Figure 2)
  int eval_tasks = 600;
  std::string out = "runs/latest";
  std::int64_t checkpoint_every = 1000;
  int log_every = 100;
  bool resume = false;
};

// Fills every negative field with the dataset's default.
void resolve_defaults(TrainConfig& c);
// Throws ValueError with a one-line message for an invalid setting, naming the flag.
void validate(const TrainConfig& c);

// The settings that define the experiment, as checkpoint metadata ("config.<name>").
std::vector<std::pair<std::string, std::string>> to_metadata(const TrainConfig& c);
// The inverse; DataError naming the key for a missing or malformed entry.
TrainConfig from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata);

// The Omniglot root to use: --data, else $METAGRAD_OMNIGLOT, else ../shared/data/omniglot.
std::string omniglot_root(const std::string& data);

}  // namespace mg::tools
