// The algorithms of issue 16 on the command line: `metalearn train --algo metasgd |
// anil | protonet`. Their flag checks and their construction live here, one hook
// each in tools/train_config.cpp and tools/experiment.cpp, so that the MAML, Reptile
// and pretraining code paths there stay as they were.
#pragma once

#include <memory>
#include <string>

#include "meta/meta_learner.h"
#include "meta/objective.h"
#include "nn/sequential.h"
#include "tools/train_config.h"

namespace mg::tools {

// Whether `algo` is one of "metasgd", "anil", "protonet".
bool is_added_algo(const std::string& algo);
// check_flags_apply's part for them (flags as the user gave them): ValueError "train: …"
// for --first-order without anil, and for the inner-loop flags with protonet.
void check_added_algo_flags(const TrainConfig& c);
// resolve_defaults' part, after --inner-steps is resolved: Meta-SGD is tested with its
// training step count (Li et al. 2017 adapt in one step; its learned α is tuned for that
// many steps, and ten steps of it can diverge); ProtoNets have no inner steps to report.
void resolve_added_algo_defaults(TrainConfig& c);
// validate's part (a resolved config): ValueError "train: …" for protonet on the sinusoid.
void validate_added_algo(const TrainConfig& c);
// The learner of a resolved config whose algo is one of them, on `model`.
std::unique_ptr<meta::MetaLearner> make_added_learner(const TrainConfig& c, nn::Sequential& model,
                                                      const meta::Objective& objective);

}  // namespace mg::tools
