// `metalearn train --diagnose-order N` (issue 20, item 3): at every N-th meta-iteration
// (0, N, 2N, …), before its update, both MAML meta-gradients of that iteration's batch at the
// same θ, compared by meta/order_diagnostic.h; the cosine and the Hessian term's share go to
// metrics.csv (columns order_cosine, hessian_share; empty on the other rows) and to
// order_diagnostic.svg. The training itself is untouched: the diagnostic draws the batch
// again from the task stream (meta-step s always draws tasks s·B … s·B + B − 1) and
// updates nothing, so the parameters after N steps are bit-identical with and without it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "meta/order_diagnostic.h"
#include "tools/experiment.h"
#include "tools/metrics_log.h"
#include "tools/train_config.h"

namespace mg::tools {

// ValueError "train: --diagnose-order …" when the diagnostic does not apply to the run
// (`every` > 0; 0 means off): an algorithm other than maml or fomaml, --learn-inner-lr, nav2d.
void check_diagnose_order(const TrainConfig& c, std::int64_t every);

// The comparison for meta-iteration `iteration` of the experiment (its learner must be a MAML).
meta::OrderComparison diagnose_iteration(const Experiment& e, std::int64_t iteration);

// The cosine and the Hessian term's share of the diagnosed rows against the iteration.
void write_order_figure(const std::string& path, const std::vector<MetricsRow>& rows, const std::string& algo);

}  // namespace mg::tools
