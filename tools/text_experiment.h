// The text experiments of `metalearn train` (issue 17): CLINC150 or a CSV of
// labelled texts, split by class (datasets/text_splits.h), tokenized with a
// vocabulary of the meta-training classes only (datasets/tokenizer.h), N-way
// K-shot tasks (datasets/text_episodes.h) and a text model (nn/text_models.h).
// experiment.cpp and train.cpp call in here for --dataset clinc150 | text-csv.
//
// Every text run also scores the training-free floor (meta/nearest_mean.h) on the
// same test tasks and reports it beside the learner; --algo nearest-mean runs the
// floor alone (no training, no checkpoint: results.txt only).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

#include "meta/evaluate.h"
#include "tools/experiment.h"
#include "tools/train.h"

namespace mg::tools {

// Loads the data and builds the task sources and the model of e.config (resolved, a
// text dataset). DataError, before anything is written, for a missing file or
// column, a malformed row, a split with fewer classes than --ways, or a class with
// fewer than shots + queries examples (named, with the split it is in).
void build_text_experiment(Experiment& e, Generator& gen);
// The floor on the test tasks of c, c.eval_tasks of them, over word and n-gram counts
// whatever c's model (the tasks are the same draws).
meta::EvalResult text_floor(const TrainConfig& c);
// The tasks of c's meta-validation classes, drawn as its test tasks are (K = c.shots, the
// test seed): what `eval --eval-split val` scores, for choosing settings without the test
// classes. DataError as build_text_experiment, naming the meta-validation classes.
std::unique_ptr<data::TaskSource> text_validation_tasks(const TrainConfig& c);
// eval's text flags: --eval-split test|val and --shots K into c (a checkpoint's config).
// ValueError for a value out of range or either flag on a checkpoint that is not text.
void apply_text_eval_request(const EvalRequest& request, TrainConfig& c);
// --eval-split and --shots on the eval command.
void add_text_eval_flags(CLI::App& cmd, EvalRequest& request);

// --algo nearest-mean: the floor on the test tasks, printed and written to --out/results.txt.
TrainResult run_text_floor(const TrainConfig& c, const RunOptions& run);

}  // namespace mg::tools
