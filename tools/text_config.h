// The text part of `metalearn train` (issue 17): the settings of --dataset
// clinc150 and --dataset text-csv, called from train_config.cpp's checks and
// defaults, and their flags, added to the train command by metalearn.cpp.
//
//   --dataset clinc150 [--data ROOT] [--split stratified|domain]     CLINC150 (datasets/clinc150.h)
//   --dataset text-csv --data FILE [--text-column text] [--label-column label] [--split TRAIN,VAL]
//                                     --split: the fractions of the labels in meta-train and
//                                     meta-validation (default 0.6,0.2; the rest meta-test), by the
//                                     hash rule of datasets/text_splits.h
//   --model bag | bag-counts | cnn    text_bag_model (bag-counts: with the count path, Note [The count
//                                     path] in nn/text_layers.h) or text_cnn (nn/text_models.h)
//   --algo nearest-mean               the training-free floor alone (meta/nearest_mean.h)
// Text defaults: 5-way 1-shot, 15 queries, α = 0.4, 3 test-time steps, meta-batch 8,
// 2000 iterations; Reptile as on Omniglot (Adam inner loop, 10 training shots).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "tools/train_config.h"

namespace CLI {
class App;  // add_text_flags's caller (tools/metalearn.cpp) and its definition include <CLI/CLI.hpp>
}

namespace mg::tools {

// clinc150 or text-csv.
bool is_text_dataset(std::string_view dataset);
// The models a dataset allows, for messages: "bag, bag-counts or cnn".
std::string model_names(std::string_view dataset);

// check_flags_apply's part for the text flags: ValueError naming a flag that does
// nothing for the chosen dataset or algorithm.
void check_text_flags(const TrainConfig& c);
// Fills the text settings (model, columns) for every dataset, then, for a text
// dataset, its defaults of the other settings; resolve_defaults calls it first.
void resolve_text_defaults(TrainConfig& c);
// validate's part: --model, --split and the algorithms a text dataset allows.
void validate_text(const TrainConfig& c);

// text-csv's --split "TRAIN,VAL" as the two fractions ("hash", what older checkpoints record,
// is 0.6,0.2). ValueError unless both are numbers in [0, 1] with a sum of at most 1.
std::pair<double, double> csv_split_fractions(const std::string& split);

// The CLINC150 root: --data, else $METAGRAD_CLINC150, else ../shared/data/clinc150.
std::string clinc150_root(const std::optional<std::string>& data);
// Where that root came from, for messages: "--data", "$METAGRAD_CLINC150" or "the default CLINC150 folder (...)".
std::string clinc150_root_source(const std::optional<std::string>& data);

// --model, --text-column, --label-column on the train command.
void add_text_flags(CLI::App& cmd, TrainConfig& c);

}  // namespace mg::tools
