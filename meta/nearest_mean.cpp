#include "meta/nearest_mean.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>
#include <vector>

#include "autograd/errors.h"

namespace mg::meta {

namespace {

// x̂ of one row as sorted (id, weight) pairs.
using Sparse = std::vector<std::pair<std::int64_t, double>>;

Sparse unit_counts(const std::int64_t* row, std::int64_t length) {
  std::vector<std::int64_t> ids;
  for (std::int64_t j = 0; j < length; ++j)
    if (row[j] != 0) ids.push_back(row[j]);
  std::sort(ids.begin(), ids.end());
  Sparse out;
  double squares = 0;
  for (std::size_t j = 0; j < ids.size();) {
    std::size_t end = j;
    while (end < ids.size() && ids[end] == ids[j]) ++end;
    const double c = static_cast<double>(end - j);
    out.emplace_back(ids[j], c);
    squares += c * c;
    j = end;
  }
  for (auto& e : out) e.second /= std::sqrt(squares);
  return out;
}

void check_matrix(const Tensor& x, const char* name) {
  if (x.dtype() != DType::I64 || x.ndim() != 2)
    throw ValueError(fmt::format("nearest_mean: {} must be token ids, i64 [rows, L]: got {} {}", name,
                                 dtype_name(x.dtype()), x.shape().str()));
}

}  // namespace

double nearest_mean_accuracy(const data::Task& task) {
  check_matrix(task.support_x, "support_x");
  check_matrix(task.query_x, "query_x");
  const std::int64_t length = task.support_x.shape()[1];
  const std::int64_t* sx = task.support_x.data<std::int64_t>();
  const std::int64_t* sy = task.support_y.data<std::int64_t>();
  std::int64_t ways = 0;
  for (std::int64_t i = 0; i < task.support_y.numel(); ++i) ways = std::max(ways, sy[i] + 1);
  std::vector<std::unordered_map<std::int64_t, double>> means(static_cast<std::size_t>(ways));
  std::vector<int> sizes(static_cast<std::size_t>(ways), 0);
  for (std::int64_t i = 0; i < task.support_x.shape()[0]; ++i) {
    const auto c = static_cast<std::size_t>(sy[i]);
    for (const auto& [id, w] : unit_counts(sx + i * length, length)) means[c][id] += w;
    ++sizes[c];
  }
  std::vector<double> mean_norm2(means.size(), 0.0);
  for (std::size_t c = 0; c < means.size(); ++c)
    for (auto& entry : means[c]) {
      entry.second /= sizes[c];
      mean_norm2[c] += entry.second * entry.second;
    }
  const std::int64_t qlength = task.query_x.shape()[1];
  const std::int64_t* qx = task.query_x.data<std::int64_t>();
  const std::int64_t* qy = task.query_y.data<std::int64_t>();
  const std::int64_t queries = task.query_x.shape()[0];
  std::int64_t right = 0;
  for (std::int64_t q = 0; q < queries; ++q) {
    const Sparse x = unit_counts(qx + q * qlength, qlength);
    std::int64_t best = 0;
    double best_d = 0;
    for (std::size_t c = 0; c < means.size(); ++c) {
      // ‖x̂ − μ‖² = ‖x̂‖² − 2⟨x̂, μ⟩ + ‖μ‖², and ‖x̂‖² is the same for every class.
      double dot = 0;
      for (const auto& [id, w] : x)
        if (const auto it = means[c].find(id); it != means[c].end()) dot += w * it->second;
      const double d = mean_norm2[c] - 2 * dot;
      if (c == 0 || d < best_d) {
        best = static_cast<std::int64_t>(c);
        best_d = d;
      }
    }
    right += best == qy[q];
  }
  return queries == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(queries);
}

EvalResult evaluate_nearest_mean(const data::TaskSource& tasks, int num_tasks, std::uint64_t first_task) {
  std::vector<double> scores;
  for (int i = 0; i < num_tasks; ++i)
    scores.push_back(nearest_mean_accuracy(tasks.sample(first_task + static_cast<std::uint64_t>(i))));
  return {"accuracy", {0}, {summarize(scores)}};
}

}  // namespace mg::meta
