#include "tools/diagnose_order.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "datasets/task.h"
#include "tools/atomic_file.h"
#include "tools/svg_plot.h"

namespace mg::tools {

void check_diagnose_order(const TrainConfig& c, std::int64_t every) {
  if (every <= 0) return;
  if (c.algo != "maml" && c.algo != "fomaml")
    config_error(fmt::format("--diagnose-order is for --algo maml or fomaml, not {}", c.algo));
  if (c.dataset == "nav2d")
    config_error("--diagnose-order is not for --dataset nav2d (its inner step is a policy gradient)");
  if (c.learn_inner_lr)
    config_error("--diagnose-order does not work with --learn-inner-lr (it compares the meta-gradients "
                 "at one fixed inner learning rate)");
}

meta::OrderComparison diagnose_iteration(const Experiment& e, std::int64_t iteration) {
  const auto* maml = dynamic_cast<const meta::Maml*>(e.learner.get());
  if (!maml) throw ValueError(fmt::format("diagnose order: internal error: {} is not a MAML", e.learner->name()));
  const auto batch = static_cast<std::size_t>(maml->meta_batch());
  const std::vector<data::Task> tasks =
      data::sample_tasks(*e.train_tasks, static_cast<std::uint64_t>(iteration) * batch, batch, maml->threads());
  return meta::diagnose_order(*maml, tasks);
}

void write_order_figure(const std::string& path, const std::vector<MetricsRow>& rows, const std::string& algo) {
  Series cosine{"cosine(second, first)", {}, {}, "#1f5fa8"};
  Series share{"|second - first| / |second|", {}, {}, "#d62728"};
  for (const MetricsRow& r : rows) {
    if (!r.order_cosine) continue;
    cosine.x.push_back(static_cast<double>(r.iteration));
    cosine.y.push_back(*r.order_cosine);
    share.x.push_back(static_cast<double>(r.iteration));
    share.y.push_back(*r.hessian_share);
  }
  cosine.markers = share.markers = cosine.x.size() == 1;  // one point draws no line
  PlotOptions o;
  o.title = fmt::format("{}: first- against second-order meta-gradient", algo);
  o.x_label = "meta-iteration";
  o.y_label = "cosine; Hessian term's share of the norm";
  write_text_file(path, svg_plot({cosine, share}, o));
}

}  // namespace mg::tools
