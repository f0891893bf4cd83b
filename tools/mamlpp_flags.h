// The command-line flags of `metalearn train --algo maml++` (tools/mamlpp_config.h), for
// metalearn.cpp (header-only: the tools library does not link CLI11).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>

#include "tools/cli.h"
#include "tools/train_config.h"

namespace mg::tools {

inline void add_mamlpp_flags(CLI::App& cmd, TrainConfig& c) {
  // A switch on by default for maml++: "--x" and "--no-x" set it (the last one given wins).
  auto add_switch = [&cmd](const std::string& name, std::optional<bool>& target, const std::string& help) {
    cmd.add_flag_function(
        "--" + name + ",!--no-" + name, [&target](std::int64_t count) { target = count > 0; }, help);
  };
  add_switch("msl", c.mamlpp.msl,
             "maml++: the query loss after every inner step, weights annealed to the last step (MSL; default on)");
  add_switch("per-step-bn", c.mamlpp.per_step_bn,
             "maml++: batch-norm weights and biases per inner step, meta-learned (BNWB; default on)");
  add_switch("lslr", c.mamlpp.lslr, "maml++: a learned inner rate per parameter tensor and step (LSLR; default on)");
  add_switch("cosine-lr", c.mamlpp.cosine_lr,
             "maml++: cosine annealing of --meta-lr over --iterations down to --min-meta-lr (default on)");
  add_number(cmd, "--msl-iterations", c.mamlpp.msl_iterations, limits::kIterations,
             "maml++: iterations over which the multi-step loss anneals to the last step (default: --iterations / 10)");
  add_number(cmd, "--first-order-until", c.mamlpp.first_order_until, limits::kFirstOrderUntil,
             "maml++: first-order meta-gradients before this iteration, second order from it (default: "
             "--iterations / 3; 0: second order throughout)");
  add_number(cmd, "--min-meta-lr", c.mamlpp.min_meta_lr, limits::kMinMetaLr,
             "maml++: the cosine's final meta learning rate (default 1e-5)");
}

}  // namespace mg::tools
