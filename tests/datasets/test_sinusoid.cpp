#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "autograd/errors.h"
#include "datasets/sinusoid.h"

using namespace mg;
using namespace mg::data;

TEST_SUITE("datasets_sinusoid") {
  TEST_CASE("tasks have K support and Q query points on y = A sin(x - phase)") {
    const SinusoidTasks tasks({.k_shot = 5, .q_query = 7, .seed = 11});
    CHECK(tasks.config().k_shot == 5);
    for (std::uint64_t i = 0; i < 50; ++i) {
      const Task t = tasks.sample(i);
      REQUIRE(t.support_x.shape() == Shape{5, 1});
      REQUIRE(t.support_y.shape() == Shape{5, 1});
      REQUIRE(t.query_x.shape() == Shape{7, 1});
      REQUIRE(t.query_y.shape() == Shape{7, 1});
      CHECK(t.support_x.dtype() == DType::F32);
      CHECK_FALSE(t.support_x.requires_grad());
      const SinusoidParams p = tasks.params(i);
      CHECK(p.amplitude >= 0.1);
      CHECK(p.amplitude <= 5.0);
      CHECK(p.phase >= 0.0);
      CHECK(p.phase <= std::numbers::pi);
      for (const auto& [x, y] : {std::pair{t.support_x, t.support_y}, std::pair{t.query_x, t.query_y}}) {
        const auto xs = x.to_vector<double>(), ys = y.to_vector<double>();
        for (std::size_t j = 0; j < xs.size(); ++j) {
          CHECK(xs[j] >= -5.0);
          CHECK(xs[j] < 5.0);
          CHECK(ys[j] == doctest::Approx(p.amplitude * std::sin(xs[j] - p.phase)).epsilon(1e-5));
        }
      }
    }
  }

  TEST_CASE("SinusoidParams evaluates A sin(x - phase)") {
    const SinusoidParams p{2.0, std::numbers::pi / 2};
    CHECK(p(std::numbers::pi / 2) == doctest::Approx(0.0));
    CHECK(p(std::numbers::pi) == doctest::Approx(2.0));
  }

  TEST_CASE("amplitude and phase cover their ranges (MAML §5.1)") {
    const SinusoidTasks tasks({.seed = 3});
    double amin = 10, amax = 0, pmin = 10, pmax = 0;
    for (std::uint64_t i = 0; i < 2000; ++i) {
      const SinusoidParams p = tasks.params(i);
      amin = std::min(amin, p.amplitude), amax = std::max(amax, p.amplitude);
      pmin = std::min(pmin, p.phase), pmax = std::max(pmax, p.phase);
    }
    CHECK(amin < 0.2);
    CHECK(amax > 4.9);
    CHECK(pmin < 0.05);
    CHECK(pmax > std::numbers::pi - 0.05);
  }

  TEST_CASE("sampling is deterministic from the seed and task index") {
    const SinusoidTasks a({.seed = 5}), b({.seed = 5}), c({.seed = 6});
    CHECK(a.sample(9).support_x.to_vector<float>() == b.sample(9).support_x.to_vector<float>());
    CHECK(a.sample(9).query_y.to_vector<float>() == b.sample(9).query_y.to_vector<float>());
    CHECK(a.sample(9).support_x.to_vector<float>() != a.sample(10).support_x.to_vector<float>());
    CHECK(a.params(9).amplitude != c.params(9).amplitude);
    CHECK(a.params(9).amplitude == a.params(9).amplitude);
  }

  TEST_CASE("q_query = 0 gives empty query sets") {
    const Task t = SinusoidTasks({.k_shot = 3, .q_query = 0}).sample(0);
    CHECK(t.query_x.shape() == Shape{0, 1});
  }

  TEST_CASE("bad configurations are ValueErrors") {
    CHECK_THROWS_WITH_AS(SinusoidTasks({.k_shot = 0}), doctest::Contains("sinusoid: k_shot must be >= 1, got 0"),
                         ValueError);
    CHECK_THROWS_WITH_AS(SinusoidTasks({.q_query = -1}), doctest::Contains("sinusoid: q_query must be >= 0, got -1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(SinusoidTasks({.amplitude_min = 5, .amplitude_max = 1}),
                         doctest::Contains("sinusoid: amplitude range must have min < max"), ValueError);
    CHECK_THROWS_WITH_AS(SinusoidTasks({.phase_min = 1, .phase_max = 1}),
                         doctest::Contains("sinusoid: phase range must have min < max"), ValueError);
    CHECK_THROWS_WITH_AS(SinusoidTasks({.x_min = 0, .x_max = -1}),
                         doctest::Contains("sinusoid: x range must have min < max"), ValueError);
  }
}
