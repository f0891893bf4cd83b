// `metalearn train --predict-memory` (issue 20, item 2): the peak of tensor memory of one
// meta-iteration of the run the other flags describe, predicted from the model and the
// settings (meta/memory_prediction.h) and printed as its named terms; nothing is trained,
// and no data is read. `--profile` measures the same peak (its "peak live tensor memory").
//
//   metalearn train --dataset omniglot --algo maml --inner-steps 5 --meta-batch 32 --predict-memory
#pragma once

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

// What --predict-memory prints: the run, the terms of the peak, and the bound for --threads > 1.
std::string memory_report(const TrainConfig& c);

}  // namespace mg::tools
