// The algorithms of issue 16 on the command line: `metalearn train --algo metasgd |
// maml++ | anil | protonet`. Their construction lives here (their flag checks in
// tools/algorithm_flags.h), one hook
// each in tools/train_config.cpp and tools/experiment.cpp, so that the MAML, Reptile
// and pretraining code paths there stay as they were.
#pragma once

#include <memory>
#include <string>

#include "meta/meta_learner.h"
#include "meta/objective.h"
#include "nn/sequential.h"
#include "tools/algorithm_flags.h"
#include "tools/train_config.h"

namespace mg::tools {

// The learner of a resolved config whose algo is one of them, on `model`.
std::unique_ptr<meta::MetaLearner> make_added_learner(const TrainConfig& c, nn::Sequential& model,
                                                      const meta::Objective& objective);

}  // namespace mg::tools
