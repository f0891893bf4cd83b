// The pictures a run writes (SVG, see tools/svg_plot.h):
//  * the learning curve: query loss per meta-iteration, raw and smoothed;
//  * for sinusoid, the MAML paper's Figure 2: for one test task, the ground
//    truth, the K support points, and the network's prediction before and
//    after 1 and 10 gradient steps, for MAML beside the pretrained baseline.
#pragma once

#include <string>
#include <vector>

#include "tools/experiment.h"
#include "tools/metrics_log.h"

namespace mg::tools {

void write_learning_curve(const std::string& path, const std::vector<MetricsRow>& rows, const std::string& metric_name,
                          const std::string& algo);

// `baseline` may be null (then one panel). Uses test task 0 and the learners' test-time inner learning rate.
void write_sinusoid_figure(const std::string& path, const Experiment& maml, const Experiment* baseline);

// Exponential moving average with weight 1 - 1/window on the past (window >= 1).
std::vector<double> smooth(const std::vector<double>& values, double window);

}  // namespace mg::tools
