// The command-line checks of the algorithms of issue 16 (`metalearn train --algo metasgd |
// anil | protonet`): what tools/train_config.cpp calls. Apart from their construction
// (tools/algorithms.h) so that the configuration parser, and its fuzz harness, need no meta/.
#pragma once

#include <string>

#include "tools/train_config.h"

namespace mg::tools {

// Whether `algo` is one of "metasgd", "maml++", "anil", "protonet".
bool is_added_algo(const std::string& algo);
// check_flags_apply's part for them (flags as the user gave them): ValueError "train: …"
// for --first-order without anil, for the inner-loop flags with protonet, and for
// --checkpoint-steps without maml or metasgd or with nav2d.
void check_added_algo_flags(const TrainConfig& c);
// resolve_defaults' part, after --inner-steps is resolved: Meta-SGD is tested with its
// training step count (Li et al. 2017 adapt in one step; its learned α is tuned for that
// many steps, and ten steps of it can diverge); ProtoNets have no inner steps to report.
void resolve_added_algo_defaults(TrainConfig& c);
// validate's part (a resolved config): ValueError "train: …" for protonet on the sinusoid,
// and for --train-ways other than --ways with any algorithm but protonet.
void validate_added_algo(const TrainConfig& c);

}  // namespace mg::tools
