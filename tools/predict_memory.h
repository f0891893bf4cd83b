// `metalearn train --predict-memory` (issue 20, item 2): the peak of tensor memory of one
// meta-iteration of the run the other flags describe, predicted from the model and the
// settings (meta/memory_prediction.h) and printed as its named terms; nothing is trained,
// and no data is read. `--profile` measures the same peak (its "peak live tensor memory");
// both flags together train two iterations and print the measured peak beside the prediction.
//
//   metalearn train --dataset omniglot --algo maml --inner-steps 5 --meta-batch 32 --predict-memory
#pragma once

#include <cstdint>
#include <string>

#include "meta/memory_prediction.h"
#include "tools/train_config.h"

namespace mg::tools {

// ValueError "train: --predict-memory …" for a run the prediction does not cover: an
// algorithm other than maml or fomaml, --learn-inner-lr, a dataset other than sinusoid or
// omniglot.
void check_predict_memory(const TrainConfig& c);

// The prediction for a resolved config (prepare()): its model, task shape and settings.
meta::MemoryPrediction predict_run_memory(const TrainConfig& c);

// What --predict-memory prints: the run, the terms of the peak, and the bound for more than
// one thread over tasks (c.threads: run_train passes the task threads of its plan).
std::string memory_report(const TrainConfig& c);

// With --profile as well: the prediction against the peak of live tensor memory of a real
// meta-iteration (the second one, so that Adam's moments exist) over every thread's
// allocations (Storage::start_peak_tracking), less what was alive before the experiment was
// built. Reads the data and trains two iterations; needs one thread over tasks.
struct MemoryCheck {
  std::int64_t predicted = 0;
  std::int64_t measured = 0;
};
MemoryCheck measure_run_memory(const TrainConfig& c);
// "measured: … MB (predicted … MB, …%)".
std::string format_memory_check(const MemoryCheck& m);

}  // namespace mg::tools
