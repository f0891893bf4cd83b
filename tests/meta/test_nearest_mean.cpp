// The training-free floor (meta/nearest_mean.h): a task worked by hand, a dense
// oracle on random tasks, the evaluation's summary, and its error.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/random.h"
#include "meta/nearest_mean.h"

using namespace mg;

namespace nearest_mean_test {

Tensor ids(const std::vector<std::int64_t>& v, std::int64_t rows) {
  return from_vector(v, {rows, static_cast<std::int64_t>(v.size()) / rows});
}

// Random 3-way 2-shot tasks over ids 0..6 (0 the pad), 2 queries per class.
class RandomTextTasks : public data::TaskSource {
 public:
  data::Task sample(std::uint64_t task_index) const override {
    Generator gen(100 + task_index);
    auto matrix = [&gen](std::int64_t rows) {
      std::vector<std::int64_t> v;
      for (std::int64_t i = 0; i < rows * 5; ++i) v.push_back(static_cast<std::int64_t>(gen.uniform(0, 7)));
      return ids(v, rows);
    };
    data::Task t;
    t.support_x = matrix(6);
    t.query_x = matrix(6);
    t.support_y = from_vector(std::vector<std::int64_t>{0, 0, 1, 1, 2, 2}, {6});
    t.query_y = from_vector(std::vector<std::int64_t>{0, 1, 2, 0, 1, 2}, {6});
    return t;
  }
};

// The floor with dense vectors over ids 1..6.
double dense_accuracy(const data::Task& t) {
  auto unit = [](const Tensor& x, std::int64_t r) {
    std::vector<double> v(7, 0.0);
    const std::int64_t l = x.shape()[1];
    for (std::int64_t j = 0; j < l; ++j) v[static_cast<std::size_t>(x.data<std::int64_t>()[r * l + j])] += 1;
    v[0] = 0;
    double n = 0;
    for (double e : v) n += e * e;
    for (double& e : v) e = n > 0 ? e / std::sqrt(n) : 0.0;
    return v;
  };
  std::vector<std::vector<double>> mu(3, std::vector<double>(7, 0.0));
  for (std::int64_t r = 0; r < 6; ++r) {
    const auto v = unit(t.support_x, r);
    for (int j = 0; j < 7; ++j) mu[static_cast<std::size_t>(t.support_y.data<std::int64_t>()[r])][j] += v[j] / 2;
  }
  int right = 0;
  for (std::int64_t r = 0; r < 6; ++r) {
    const auto v = unit(t.query_x, r);
    int best = 0;
    double best_d = 1e300;
    for (int c = 0; c < 3; ++c) {
      double d = 0;
      for (int j = 0; j < 7; ++j) d += (v[j] - mu[c][j]) * (v[j] - mu[c][j]);
      if (d < best_d) best = c, best_d = d;
    }
    right += best == t.query_y.data<std::int64_t>()[r];
  }
  return right / 6.0;
}

}  // namespace nearest_mean_test

TEST_SUITE("nearest_mean") {
  using nearest_mean_test::ids;

  TEST_CASE("a 2-way 1-shot task worked by hand") {
    data::Task t;
    t.support_x = ids({1, 1, 2, 0, 3, 4, 0, 0}, 2);
    t.support_y = from_vector(std::vector<std::int64_t>{0, 1}, {2});
    // Query 2 shares ids 2 (class 0, weight 1/√5) and 3 (class 1, weight 1/√2): class 1 is nearer,
    // so its label 0 is wrong; the other two are right.
    t.query_x = ids({1, 2, 0, 0, 4, 4, 3, 0, 2, 3, 0, 0}, 3);
    t.query_y = from_vector(std::vector<std::int64_t>{0, 1, 0}, {3});
    CHECK(meta::nearest_mean_accuracy(t) == doctest::Approx(2.0 / 3));
  }

  TEST_CASE("agrees with dense vectors on random tasks; the evaluation summarises the tasks") {
    const nearest_mean_test::RandomTextTasks tasks;
    std::vector<double> want;
    for (std::uint64_t i = 0; i < 20; ++i) {
      CAPTURE(i);
      want.push_back(nearest_mean_test::dense_accuracy(tasks.sample(i)));
      CHECK(meta::nearest_mean_accuracy(tasks.sample(i)) == doctest::Approx(want.back()));
    }
    const meta::EvalResult r = meta::evaluate_nearest_mean(tasks, 20);
    CHECK(r.metric_name == "accuracy");
    CHECK(r.steps == std::vector<int>{0});
    CHECK(r.metric[0].n == 20);
    CHECK(r.metric[0].mean == doctest::Approx(meta::summarize(want).mean));
    CHECK(r.metric[0].ci95 == doctest::Approx(meta::summarize(want).ci95));
  }

  TEST_CASE("nearest_mean needs token matrices") {
    data::Task t;
    t.support_x = zeros({2, 3});
    t.query_x = ids({1, 2}, 1);
    CHECK_THROWS_WITH_AS(meta::nearest_mean_accuracy(t),
                         "nearest_mean: support_x must be token ids, i64 [rows, L]: got f32 [2, 3]", ValueError);
  }
}
