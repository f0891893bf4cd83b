#include "tools/algorithm_flags.h"

#include <fmt/format.h>

#include <utility>

#include "autograd/errors.h"

namespace mg::tools {

bool is_added_algo(const std::string& algo) {
  return algo == "metasgd" || algo == "maml++" || algo == "anil" || algo == "protonet";
}

void check_added_algo_flags(const TrainConfig& c) {
  if (c.first_order && c.algo != "anil")
    throw ValueError(
        fmt::format("train: --first-order is for --algo anil, not {} (first-order MAML is --algo fomaml)", c.algo));
  // Checkpointed steps recompute a second-order inner loop of supervised tasks (meta/checkpointed_adapt.h).
  if (c.checkpoint_steps && c.algo != "maml" && c.algo != "metasgd")
    config_error(fmt::format("--checkpoint-steps is for --algo maml or metasgd (second-order inner steps), not {}",
                             c.algo));
  if (c.checkpoint_steps && c.dataset == "nav2d")
    config_error("--checkpoint-steps is for supervised datasets, not nav2d (its policy-gradient inner steps are not "
                 "checkpointed)");
  if (c.algo != "protonet") return;
  for (const auto& [flag, given] : {std::pair{"--inner-steps", c.inner_steps.has_value()},
                                    std::pair{"--eval-inner-steps", c.eval_inner_steps.has_value()},
                                    std::pair{"--inner-lr", c.inner_lr.has_value()}})
    if (given)
      config_error(fmt::format("{} does nothing with --algo protonet (it has no inner loop)", flag));
}

void resolve_added_algo_defaults(TrainConfig& c) {
  if (c.eval_inner_steps) return;
  if (c.algo == "metasgd") c.eval_inner_steps = *c.inner_steps;
  if (c.algo == "protonet") c.eval_inner_steps = 1;  // unused: ProtoNet::test reports step 0 only
}

void validate_added_algo(const TrainConfig& c) {
  // The others' output layer has one unit per way: they test on the ways they train on.
  if (*c.train_ways != *c.ways && c.algo != "protonet")
    config_error(fmt::format("--train-ways {} differs from --ways {}: only --algo protonet (no output layer) trains "
                             "on other ways than it tests, not {}",
                             *c.train_ways, *c.ways, c.algo));
  const bool text = c.dataset == "clinc150" || c.dataset == "text-csv";
  if (c.algo == "protonet" && c.dataset != "omniglot" && !text)
    throw ValueError(fmt::format(
        "train: --algo protonet is for --dataset omniglot, clinc150 or text-csv, not {} (prototypes classify)",
        c.dataset));
  // bag-counts is one layer (the MLP and the count path summed, nn/text_models.h): all head, no body to embed with.
  if (c.algo == "protonet" && text && c.model == "bag-counts")
    config_error("--algo protonet needs --model bag or cnn (bag-counts has no body apart from its head)");
}

}  // namespace mg::tools
