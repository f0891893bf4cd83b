// The pictures of a nav2d run (the MAML paper's Figure 5 in spirit): return against the
// number of policy-gradient steps for each method, and sampled trajectories before and
// after adaptation for a few goals, one panel per goal.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "datasets/navigation.h"
#include "meta/evaluate.h"

namespace mg::tools {

// One curve per method: its name and its scores (steps 0 … k). The oracle, when given, is a
// dashed line at its mean. ValueError for no curves.
std::string nav_returns_svg(const std::vector<std::pair<std::string, meta::EvalResult>>& curves,
                            const meta::Summary* oracle);

// One panel per goal: the trajectories of rollouts[g][k] (k = the steps taken before
// sampling it, labelled by `step_labels[k]`), the goal as a marker. ValueError when a
// goal's rollouts and the labels differ in count.
std::string nav_trajectories_svg(const std::vector<data::NavGoal>& goals,
                                 const std::vector<std::vector<data::NavRollout>>& rollouts,
                                 const std::vector<std::string>& step_labels, int trajectories_shown);

}  // namespace mg::tools
