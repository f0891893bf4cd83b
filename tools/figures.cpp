#include "tools/figures.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/tape.h"
#include "datasets/sinusoid.h"
#include "meta/adapt.h"
#include "tools/atomic_file.h"
#include "tools/svg_plot.h"

namespace mg::tools {

std::vector<double> smooth(const std::vector<double>& values, double window) {
  std::vector<double> out;
  out.reserve(values.size());
  const double keep = 1.0 - 1.0 / std::max(window, 1.0);
  double avg = 0.0, weight = 0.0;
  for (double v : values) {
    avg = keep * avg + (1.0 - keep) * v;
    weight = keep * weight + (1.0 - keep);
    out.push_back(avg / weight);  // bias-corrected, so the start is not pulled to 0
  }
  return out;
}

void write_learning_curve(const std::string& path, const std::vector<MetricsRow>& rows, const std::string& metric_name,
                          const std::string& algo) {
  Series raw{"query loss", {}, {}, "#c7d7ea"}, avg{"smoothed", {}, {}, "#1f5fa8"};
  for (const MetricsRow& r : rows) {
    raw.x.push_back(static_cast<double>(r.iteration));
    raw.y.push_back(r.loss);
  }
  avg.x = raw.x;
  avg.y = smooth(raw.y, std::max(1.0, static_cast<double>(rows.size()) / 50.0));
  PlotOptions o;
  o.title = fmt::format("{}: query loss during meta-training", algo);
  o.x_label = "meta-iteration";
  o.y_label = metric_name == "accuracy" ? "cross-entropy" : "MSE";
  o.log_y = metric_name != "accuracy";
  write_text_file(path, svg_plot({raw, avg}, o));
}

namespace {

// One panel of Figure 2 for the learner of `e` on test task 0.
std::pair<std::vector<Series>, PlotOptions> figure_panel(const Experiment& e, const std::string& title) {
  const auto& sines = dynamic_cast<const data::SinusoidTasks&>(*e.test_tasks);
  const data::Task task = sines.sample(0);
  const data::SinusoidParams truth = sines.params(0);
  constexpr int kPoints = 200;
  std::vector<float> grid(kPoints);
  Series ground{"ground truth", {}, {}, "#d62728", false, true};
  for (int i = 0; i < kPoints; ++i) {
    grid[static_cast<std::size_t>(i)] = static_cast<float>(-5.0 + 10.0 * i / (kPoints - 1));
    ground.x.push_back(grid[static_cast<std::size_t>(i)]);
    ground.y.push_back(truth(grid[static_cast<std::size_t>(i)]));
  }
  const Tensor x = from_vector(grid, {kPoints, 1});
  Series shots{"K shots", task.support_x.to_vector<double>(), task.support_y.to_vector<double>(), "#9467bd", true};

  std::vector<Series> series{ground};
  const meta::InnerLrSetting lr = e.learner->test_inner_lr();
  meta::Adaptation theta(e.model->parameters(), lr);
  const meta::SupportLoss support_loss = [&](std::span<const Tensor> t) {
    return e.learner->objective().loss(e.model->forward(task.support_x, t), task.support_y);
  };
  int done = 0;
  const std::vector<std::pair<int, const char*>> steps = {{0, "pre-update"}, {1, "1 grad step"}, {10, "10 grad steps"}};
  const char* colors[] = {"#2ca02c", "#7fb3e0", "#1f5fa8"};
  for (std::size_t s = 0; s < steps.size(); ++s) {
    theta.run(support_loss, steps[s].first - done);
    done = steps[s].first;
    TapeScope scope;
    NoGradGuard no_grad;
    const std::vector<double> y = e.model->forward(x, theta.weights()).to_vector<double>();
    series.push_back({steps[s].second, ground.x, y, colors[s], false, s == 0});
  }
  series.push_back(shots);
  PlotOptions o{title, std::string(1, 'x'), std::string(1, 'y')};  // (GCC 12 -Wrestrict misfires on = "x")
  o.y_min = -6.0;
  o.y_max = 6.0;
  return {series, o};
}

}  // namespace

void write_sinusoid_figure(const std::string& path, const Experiment& maml, const Experiment* baseline) {
  std::vector<std::pair<std::vector<Series>, PlotOptions>> panels;
  panels.push_back(figure_panel(maml, fmt::format("{}, K = {}", maml.learner->name(), *maml.config.shots)));
  if (baseline) panels.push_back(figure_panel(*baseline, fmt::format("pretrained, K = {}", *baseline->config.shots)));
  write_text_file(path, svg_panels(panels));
}

}  // namespace mg::tools
