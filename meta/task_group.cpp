#include "meta/task_group.h"

#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

namespace mg::meta {

namespace {

bool same_shapes(const data::Task& a, const data::Task& b) {
  return a.support_x.shape() == b.support_x.shape() && a.support_y.shape() == b.support_y.shape() &&
         a.query_x.shape() == b.query_x.shape() && a.query_y.shape() == b.query_y.shape();
}

// [T, n, ...] -> [T·n, ...]: the task axis folded into the example axis.
Tensor fold_tasks(const Tensor& t) {
  std::vector<std::int64_t> dims{t.shape()[0] * t.shape()[1]};
  for (int d = 2; d < t.ndim(); ++d) dims.push_back(t.shape()[d]);
  return reshape(t, Shape(dims));
}

// Task t of a stacked [T, d...] tensor: [d...].
Tensor task_slice(const Tensor& t, std::int64_t task) {
  std::vector<std::int64_t> dims;
  for (int d = 1; d < t.ndim(); ++d) dims.push_back(t.shape()[d]);
  return reshape(slice(t, 0, task, task + 1), Shape(dims));
}

// [d...] -> [tasks, d...].
Shape with_task_axis(const Shape& s, std::int64_t tasks) {
  std::vector<std::int64_t> dims{tasks};
  for (int d = 0; d < s.ndim(); ++d) dims.push_back(s[d]);
  return Shape(dims);
}

// Rows `rows` (in range) of a support tensor. Integer data (class labels, a text task's
// token ids, Note [Padded token matrices] in datasets/text_episodes.h), which index_select
// does not take and which never needs a gradient, is copied on the host; anything else
// goes through index_select.
Tensor select_rows(const Tensor& t, const std::vector<std::int64_t>& rows) {
  const auto n = static_cast<std::int64_t>(rows.size());
  if (t.dtype() != DType::I64) return index_select(t, 0, from_vector(rows, Shape({n})));
  const std::int64_t row = t.numel() / t.shape()[0];
  const std::int64_t* from = t.data<std::int64_t>();
  std::vector<std::int64_t> out;
  for (std::int64_t r : rows) out.insert(out.end(), from + r * row, from + (r + 1) * row);
  std::vector<std::int64_t> dims{n};
  for (int d = 1; d < t.ndim(); ++d) dims.push_back(t.shape()[d]);
  return from_vector(out, Shape(dims));
}

}  // namespace

bool TaskGroup::can_stack(const nn::Module& model, std::span<const data::Task> tasks) {
  if (!model.supports_task_stacks() || tasks.empty()) return false;
  for (const data::Task& t : tasks)
    if (!same_shapes(t, tasks[0])) return false;
  return true;
}

TaskGroup::TaskGroup(nn::Module& model, const Objective& objective, std::span<const data::Task> tasks, bool stack)
    : model_(model), objective_(objective), size_(static_cast<std::int64_t>(tasks.size())), stacked_(stack) {
  if (tasks.empty()) throw ValueError("task group: needs at least one task");
  if (!stack) {
    if (tasks.size() != 1)
      throw ValueError(fmt::format("task group: {} tasks can only be grouped as a stack", tasks.size()));
    const data::Task& t = tasks[0];
    support_x_ = t.support_x, support_y_ = t.support_y, query_x_ = t.query_x, query_y_ = t.query_y;
    return;
  }
  for (const data::Task& t : tasks)
    if (!same_shapes(t, tasks[0]))
      throw ShapeError(fmt::format("task group: stacked tasks must have equal shapes, got support {} and {}",
                                   tasks[0].support_x.shape().str(), t.support_x.shape().str()));
  std::vector<Tensor> sx, sy, qx, qy;
  for (const data::Task& t : tasks) {
    sx.push_back(t.support_x);
    sy.push_back(t.support_y);
    qx.push_back(t.query_x);
    qy.push_back(t.query_y);
  }
  NoGradGuard no_grad;
  support_x_ = mg::stack(sx), support_y_ = mg::stack(sy), query_x_ = mg::stack(qx), query_y_ = mg::stack(qy);
}

std::vector<Tensor> TaskGroup::start(std::span<const Tensor> theta) const {
  if (!stacked_) return {theta.begin(), theta.end()};
  std::vector<Tensor> out;
  out.reserve(theta.size());
  for (const Tensor& t : theta)
    out.push_back(broadcast_to(reshape(t, with_task_axis(t.shape(), 1)), with_task_axis(t.shape(), size_)));
  return out;
}

Tensor TaskGroup::forward(const Tensor& x, std::span<const Tensor> theta) const {
  return stacked_ ? model_.forward_tasks(x, theta) : model_.forward(x, theta);
}

Tensor TaskGroup::summed_loss(const Tensor& prediction, const Tensor& target) const {
  if (!stacked_) return objective_.loss(prediction, target);
  // The tasks have equal sizes, so the sum of their mean losses is T times the overall mean.
  return objective_.loss(fold_tasks(prediction), fold_tasks(target)) * static_cast<double>(size_);
}

Tensor TaskGroup::support_loss(std::span<const Tensor> theta) const {
  return summed_loss(forward(support_x_, theta), support_y_);
}

Tensor TaskGroup::support_loss(std::span<const Tensor> theta, const std::vector<std::vector<std::int64_t>>& rows) const {
  if (static_cast<std::int64_t>(rows.size()) != size_)
    throw ValueError(fmt::format("task group: {} row lists for {} tasks", rows.size(), size_));
  for (const auto& r : rows) {
    if (r.empty() || r.size() != rows[0].size())
      throw ValueError("task group: the row lists must be non-empty and of one length");
    for (std::int64_t i : r)
      if (i < 0 || i >= support_size())
        throw ValueError(fmt::format("task group: support row {} is out of range for {} examples", i, support_size()));
  }
  Tensor x, y;
  {
    NoGradGuard no_grad;  // the data never needs a gradient
    std::vector<Tensor> xs, ys;
    for (std::int64_t t = 0; t < size_; ++t) {
      const std::vector<std::int64_t>& picked = rows[static_cast<std::size_t>(t)];
      xs.push_back(select_rows(stacked_ ? task_slice(support_x_, t) : support_x_, picked));
      ys.push_back(select_rows(stacked_ ? task_slice(support_y_, t) : support_y_, picked));
    }
    x = stacked_ ? mg::stack(xs) : xs[0];
    y = stacked_ ? mg::stack(ys) : ys[0];
  }
  return summed_loss(forward(x, theta), y);
}

Tensor TaskGroup::predict_query(std::span<const Tensor> theta) const { return forward(query_x_, theta); }

Tensor TaskGroup::query_loss(const Tensor& prediction) const { return summed_loss(prediction, query_y_); }

std::vector<double> TaskGroup::query_metrics(const Tensor& prediction) const {
  NoGradGuard no_grad;
  const Tensor p = prediction.detach();
  if (!stacked_) return {objective_.metric(p, query_y_)};
  std::vector<double> out;
  for (std::int64_t t = 0; t < size_; ++t) out.push_back(objective_.metric(task_slice(p, t), task_slice(query_y_, t)));
  return out;
}

GroupPlan plan_groups(const nn::Module& model, std::span<const data::Task> tasks, int stacks) {
  GroupPlan plan;
  plan.stacked = stacks > 0 && TaskGroup::can_stack(model, tasks);
  plan.ranges = task_ranges(tasks.size(), plan.stacked ? stacks : 0);
  return plan;
}

TaskGroup GroupPlan::group(nn::Module& model, const Objective& objective, std::span<const data::Task> tasks,
                           std::size_t i) const {
  const auto [begin, end] = ranges[i];
  return TaskGroup(model, objective, tasks.subspan(begin, end - begin), stacked);
}

std::vector<std::pair<std::size_t, std::size_t>> task_ranges(std::size_t n, int stacks) {
  if (stacks < 0) throw ValueError(fmt::format("task ranges: stacks must be >= 0, got {}", stacks));
  const std::size_t groups = stacks == 0 ? n : std::min(n, static_cast<std::size_t>(stacks));
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t g = 0; g < groups; ++g) out.emplace_back(n * g / groups, n * (g + 1) / groups);
  return out;
}

}  // namespace mg::meta
