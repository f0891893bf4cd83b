#include "meta/driver.h"

#include <fmt/format.h>

#include <algorithm>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"
#include "meta/ordered_sum.h"
#include "meta/rank_batch.h"

namespace mg::meta {

std::vector<Tensor> BatchResult::mean() const {
  std::vector<Tensor> out = sum;
  NoGradGuard no_grad;
  for (Tensor& m : out) m = m * (1.0 / static_cast<double>(tasks));
  return out;
}

StepStats BatchResult::stats() const {
  StepStats s;
  const auto n = static_cast<double>(tasks);
  for (double l : losses) s.loss += l / n;
  if (!metrics.empty())
    for (double m : metrics[0]) s.metric += m / n;
  return s;
}

std::vector<Tensor> detached_gradient(const Tensor& loss, std::span<const Tensor> wrt) {
  std::vector<Tensor> g = grad({loss}, std::vector<Tensor>(wrt.begin(), wrt.end()), {.allow_unused = true});
  for (std::size_t j = 0; j < g.size(); ++j) g[j] = g[j].defined() ? g[j].detach() : zeros_like(wrt[j]);
  return g;
}

BatchResult run_batch(std::size_t tasks, std::span<const std::pair<std::size_t, std::size_t>> ranges, int threads,
                      std::size_t metric_rows, const std::function<GroupResult(std::size_t group)>& step,
                      Communicator* comm) {
  std::size_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    if (begin != covered || end <= begin) break;
    covered = end;
  }
  if (ranges.empty() || covered != tasks)
    throw ValueError(fmt::format("meta-batch: the {} group ranges do not tile the batch's {} tasks in order",
                                 ranges.size(), tasks));
  BatchResult batch;
  batch.tasks = tasks;
  batch.losses.resize(ranges.size());
  batch.metrics.assign(metric_rows, std::vector<double>(tasks));
  OrderedSum total(ranges.size());
  auto gather = [&](std::size_t g, GroupResult r) {
    // Not a structured binding: the lambda below captures them, which clang 14 refuses.
    const std::size_t begin = ranges[g].first, end = ranges[g].second;
    const bool rows_ok = r.metrics.size() == metric_rows &&
                         std::all_of(r.metrics.begin(), r.metrics.end(),
                                     [&](const std::vector<double>& row) { return row.size() == end - begin; });
    if (!rows_ok)
      throw ValueError(fmt::format("meta-batch: group {} returned {} metric rows of {} values; expected {} rows of {}",
                                   g, r.metrics.size(), r.metrics.empty() ? 0 : r.metrics[0].size(), metric_rows,
                                   end - begin));
    for (std::size_t row = 0; row < metric_rows; ++row)
      std::copy(r.metrics[row].begin(), r.metrics[row].end(),
                batch.metrics[row].begin() + static_cast<std::ptrdiff_t>(begin));
    batch.losses[g] = r.loss;
    total.add(g, std::move(r.terms));
  };
  if (comm && comm->size() > 1) {
    std::vector<GroupResult> all = run_groups_on_ranks(*comm, tasks, ranges.size(), threads, step);
    for (std::size_t g = 0; g < all.size(); ++g) gather(g, std::move(all[g]));
  } else {
    parallel_for(ranges.size(), threads, [&](std::size_t g, int) { gather(g, step(g)); });
  }
  batch.sum = total.take();
  return batch;
}

}  // namespace mg::meta
