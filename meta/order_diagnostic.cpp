#include "meta/order_diagnostic.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <limits>

#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/tape.h"

namespace mg::meta {

OrderComparison compare_orders(std::span<const Tensor> second, std::span<const Tensor> first) {
  if (second.size() != first.size())
    throw ValueError(fmt::format("compare orders: {} second-order tensors, {} first-order tensors", second.size(),
                                 first.size()));
  double dot = 0.0, second_sq = 0.0, first_sq = 0.0, diff_sq = 0.0;
  for (std::size_t j = 0; j < second.size(); ++j) {
    if (second[j].shape() != first[j].shape())
      throw ShapeError(fmt::format("compare orders: tensor {}: second order is {}, first order is {}", j,
                                   second[j].shape().str(), first[j].shape().str()));
    const std::vector<double> a = second[j].to_vector<double>(), b = first[j].to_vector<double>();
    for (std::size_t e = 0; e < a.size(); ++e) {
      dot += a[e] * b[e];
      second_sq += a[e] * a[e];
      first_sq += b[e] * b[e];
      diff_sq += (a[e] - b[e]) * (a[e] - b[e]);
    }
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  OrderComparison out;
  out.second_norm = std::sqrt(second_sq);
  out.first_norm = std::sqrt(first_sq);
  const double norms = out.second_norm * out.first_norm;
  out.cosine = norms > 0.0 ? dot / norms : nan;
  out.hessian_share = out.second_norm > 0.0 ? std::sqrt(diff_sq) / out.second_norm : nan;
  return out;
}

OrderComparison diagnose_order(const Maml& maml, std::span<const data::Task> tasks) {
  if (tasks.empty()) throw ValueError("order diagnostic: a batch needs at least one task");
  if (maml.options().learn_inner_lr)
    throw ValueError("order diagnostic: MAML learns its inner learning rates here; the diagnostic compares the "
                     "meta-gradients at one fixed inner learning rate");
  const std::vector<Tensor> theta = maml.model().parameters();
  // [task][order]: each worker writes its own tasks' slots; the sums below run in task order,
  // so the result does not depend on the thread count.
  std::vector<std::array<std::vector<Tensor>, 2>> per_task(tasks.size());
  parallel_for(tasks.size(), maml.threads(), [&](std::size_t i, int) {
    for (const bool first_order : {false, true})
      per_task[i][first_order ? 1 : 0] =
          maml_meta_gradient(maml.model(), maml.objective(), theta, tasks[i],
                             {.inner_lr = maml.options().inner_lr,
                              .inner_steps = maml.options().inner_steps,
                              .first_order = first_order});
  });
  NoGradGuard no_grad;
  std::array<std::vector<Tensor>, 2> mean = per_task[0];
  for (std::size_t i = 1; i < tasks.size(); ++i)
    for (std::size_t order = 0; order < 2; ++order)
      for (std::size_t j = 0; j < theta.size(); ++j) mean[order][j] = mean[order][j] + per_task[i][order][j];
  // The 1/B of the means cancels in both ratios; applied anyway, so the norms are those of g₂ and g₁.
  const double scale = 1.0 / static_cast<double>(tasks.size());
  for (auto& order : mean)
    for (Tensor& g : order) g = g * scale;
  return compare_orders(mean[0], mean[1]);
}

}  // namespace mg::meta
