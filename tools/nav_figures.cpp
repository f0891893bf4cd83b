#include "tools/nav_figures.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "tools/svg_plot.h"

namespace mg::tools {

std::string nav_returns_svg(const std::vector<std::pair<std::string, meta::EvalResult>>& curves,
                            const meta::Summary* oracle) {
  if (curves.empty()) throw ValueError("nav_returns_svg: no curves");
  std::vector<Series> series;
  double last_step = 1.0;
  for (const auto& [who, r] : curves) {
    Series s{who, {}, {}};
    for (std::size_t k = 0; k < r.steps.size(); ++k) {
      s.x.push_back(r.steps[k]);
      s.y.push_back(r.metric[k].mean);
      last_step = std::max(last_step, static_cast<double>(r.steps[k]));
    }
    series.push_back(s);
  }
  if (oracle) series.push_back({"oracle", {0.0, last_step}, {oracle->mean, oracle->mean}, "#444444", false, true});
  PlotOptions o;
  o.title = "2-D navigation: return on held-out goals";
  o.x_label = "policy-gradient steps";
  o.y_label = "average return";
  return svg_plot(series, o);
}

std::string nav_trajectories_svg(const std::vector<data::NavGoal>& goals,
                                 const std::vector<std::vector<data::NavRollout>>& rollouts,
                                 const std::vector<std::string>& step_labels, int trajectories_shown) {
  static const char* kColors[] = {"#1f5fa8", "#d1495b", "#2e8b57", "#e0a100"};
  std::vector<std::pair<std::vector<Series>, PlotOptions>> panels;
  for (std::size_t g = 0; g < goals.size(); ++g) {
    if (rollouts[g].size() != step_labels.size())
      throw ValueError(fmt::format("nav_trajectories_svg: goal {} has {} rollouts for {} labels", g, rollouts[g].size(),
                                   step_labels.size()));
    std::vector<Series> series;
    for (std::size_t k = 0; k < rollouts[g].size(); ++k) {
      const data::NavRollout& r = rollouts[g][k];
      const std::int64_t b = r.mask.shape()[0], t = r.mask.shape()[1];
      const std::vector<double> obs = r.observations.to_vector<double>(), mask = r.mask.to_vector<double>();
      for (std::int64_t i = 0; i < std::min<std::int64_t>(b, trajectories_shown); ++i) {
        Series s{i == 0 ? step_labels[k] : "", {}, {}, kColors[k % 4]};
        for (std::int64_t m = 0; m < t; ++m) {
          const auto at = static_cast<std::size_t>(i * t + m);
          if (mask[at] == 0.0) break;
          s.x.push_back(obs[2 * at]);
          s.y.push_back(obs[2 * at + 1]);
        }
        series.push_back(s);
      }
    }
    series.push_back({"goal", {goals[g].x}, {goals[g].y}, "#000000", true});
    // Designated: GCC 12's -Wrestrict misfires on assigning a one-letter literal to a member.
    const PlotOptions o{.title = fmt::format("goal ({:.2f}, {:.2f})", goals[g].x, goals[g].y),
                        .x_label = "x",
                        .y_label = "y",
                        .width = 420,
                        .height = 420,
                        .y_min = -0.7,
                        .y_max = 0.7};
    panels.emplace_back(series, o);
  }
  return svg_panels(panels);
}

}  // namespace mg::tools
