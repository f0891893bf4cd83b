// The meta-batch driver (meta/driver.h): the fixed-order reduction, the statistics, the errors.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/driver.h"

using namespace mg;
using namespace mg::meta;

namespace {

using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

// Group g of `ranges`: one term, the vector of its task numbers (as doubles), and per
// task the metric 10 · task number (rows: that plus the row number).
GroupResult numbered_group(const Ranges& ranges, std::size_t g, std::size_t rows) {
  const auto [begin, end] = ranges[g];
  std::vector<double> values;
  for (std::size_t t = begin; t < end; ++t) values.push_back(static_cast<double>(t) + 0.1);
  GroupResult r;
  r.terms.push_back(from_vector(std::vector<double>{values.front(), values.back()}, Shape({2})));
  r.loss = static_cast<double>(end - begin);
  r.metrics.assign(rows, {});
  for (std::size_t row = 0; row < rows; ++row)
    for (std::size_t t = begin; t < end; ++t)
      r.metrics[row].push_back(10.0 * static_cast<double>(t) + static_cast<double>(row));
  return r;
}

}  // namespace

TEST_SUITE("driver") {
  TEST_CASE("run_batch sums the terms in group order and places every task's metrics, for any thread count") {
    const Ranges ranges{{0, 2}, {2, 3}, {3, 7}};
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      const BatchResult b =
          run_batch(7, ranges, threads, 2, [&](std::size_t g) { return numbered_group(ranges, g, 2); });
      CHECK(b.tasks == 7);
      // ((g0 + g1) + g2), elementwise: first entries 0.1 + 2.1 + 3.1, last 1.1 + 2.1 + 6.1.
      REQUIRE(b.sum.size() == 1);
      CHECK(b.sum[0].data<double>()[0] == (0.1 + 2.1) + 3.1);
      CHECK(b.sum[0].data<double>()[1] == (1.1 + 2.1) + 6.1);
      CHECK(b.losses == std::vector<double>{2.0, 1.0, 4.0});
      REQUIRE(b.metrics.size() == 2);
      for (std::size_t t = 0; t < 7; ++t) {
        CHECK(b.metrics[0][t] == 10.0 * static_cast<double>(t));
        CHECK(b.metrics[1][t] == 10.0 * static_cast<double>(t) + 1.0);
      }
      // The mean and the statistics, in order: Σ_g loss_g / n and Σ_t metric_t / n.
      const std::vector<Tensor> mean = b.mean();
      CHECK(mean[0].data<double>()[0] == ((0.1 + 2.1) + 3.1) * (1.0 / 7.0));
      CHECK(!mean[0].requires_grad());
      const StepStats s = b.stats();
      CHECK(s.loss == 2.0 / 7 + 1.0 / 7 + 4.0 / 7);
      double metric = 0.0;
      for (std::size_t t = 0; t < 7; ++t) metric += 10.0 * static_cast<double>(t) / 7;
      CHECK(s.metric == metric);
    }
  }

  TEST_CASE("run_batch without terms (evaluation) and the exception of the lowest failing group") {
    const Ranges ranges{{0, 1}, {1, 2}, {2, 3}, {3, 4}};
    const BatchResult b = run_batch(4, ranges, 2, 1, [](std::size_t g) {
      return GroupResult{{}, 0.0, {{static_cast<double>(g)}}};
    });
    CHECK(b.sum.empty());
    CHECK(b.metrics[0] == std::vector<double>{0, 1, 2, 3});
    for (int threads : {1, 2, 4}) {
      CHECK_THROWS_WITH_AS(run_batch(4, ranges, threads, 1,
                                     [](std::size_t g) -> GroupResult {
                                       if (g >= 1) throw ValueError("group " + std::to_string(g) + " failed");
                                       return {{}, 0.0, {{0.0}}};
                                     }),
                           doctest::Contains("group 1 failed"), ValueError);
    }
  }

  TEST_CASE("run_batch: every error message") {
    auto one = [](std::size_t) { return GroupResult{{}, 0.0, {{0.0}}}; };
    CHECK_THROWS_WITH_AS(run_batch(3, Ranges{{0, 1}, {2, 3}}, 1, 1, one),
                         doctest::Contains("meta-batch: the 2 group ranges do not tile the batch's 3 tasks in order"),
                         ValueError);
    CHECK_THROWS_WITH_AS(run_batch(2, Ranges{{0, 1}}, 1, 1, one),
                         doctest::Contains("the 1 group ranges do not tile the batch's 2 tasks"), ValueError);
    CHECK_THROWS_WITH_AS(run_batch(0, Ranges{}, 1, 1, one),
                         doctest::Contains("the 0 group ranges do not tile the batch's 0 tasks"), ValueError);
    CHECK_THROWS_WITH_AS(run_batch(1, Ranges{{0, 1}}, 1, 2, one),
                         doctest::Contains("meta-batch: group 0 returned 1 metric rows of 1 values; expected 2 rows of 1"),
                         ValueError);
  }
}

TEST_SUITE("driver") {
  TEST_CASE("detached_gradient: the gradient off the tape, zeros for what the loss does not reach") {
    const Tensor a = from_vector(std::vector<double>{1, 2}, Shape({2})).requires_grad_();
    const Tensor unused = from_vector(std::vector<double>{5}, Shape({1})).requires_grad_();
    TapeScope scope;
    const std::vector<Tensor> g = detached_gradient(sum(a * a), std::vector<Tensor>{a, unused});
    REQUIRE(g.size() == 2);
    CHECK(g[0].to_vector<double>() == std::vector<double>{2, 4});
    CHECK(g[1].to_vector<double>() == std::vector<double>{0});
    CHECK_FALSE(g[0].requires_grad());
  }
}
