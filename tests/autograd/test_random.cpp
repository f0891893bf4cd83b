// The seeded Generator (autograd/random.h): determinism, state round trips and
// the moments of its uniform and normal draws.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "autograd/errors.h"
#include "autograd/random.h"

using namespace mg;

namespace {

// n draws of `draw` from `gen`.
std::vector<double> draws(Generator& gen, int n, const std::function<double(Generator&)>& draw) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(draw(gen));
  return out;
}

const std::function<double(Generator&)> kNormal = [](Generator& g) { return g.normal(); };
const std::function<double(Generator&)> kUniform = [](Generator& g) { return g.uniform(); };
const std::function<double(Generator&)> kBits = [](Generator& g) { return static_cast<double>(g.next_u64() >> 11); };

struct Moments {
  double mean = 0, std = 0;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.std += (x - m.mean) * (x - m.mean);
  m.std = std::sqrt(m.std / static_cast<double>(v.size()));
  return m;
}

}  // namespace

TEST_SUITE("tensor") {
  TEST_CASE("same seed, same values; different seeds, different values") {
    for (const auto* draw : {&kNormal, &kUniform, &kBits}) {
      Generator a(123), b(123), c(124);
      const std::vector<double> va = draws(a, 50, *draw);
      CHECK(va == draws(b, 50, *draw));
      CHECK(va != draws(c, 50, *draw));
    }
  }

  TEST_CASE("the engine is mt19937_64, so a seed gives the same stream everywhere") {
    Generator g(5489);
    std::mt19937_64 reference(5489);
    for (int i = 0; i < 5; ++i) CHECK(g.next_u64() == reference());
  }

  TEST_CASE("splitmix64 is SplitMix64's output function") {
    // The first two outputs of SplitMix64 seeded with 0 (its state advances by φ·2⁶⁴).
    CHECK(splitmix64(0) == 0xe220a8397b1dcdafULL);
    CHECK(splitmix64(0x9e3779b97f4a7c15ULL) == 0x6e789e6aa1b965f4ULL);
    CHECK(splitmix64(1) != splitmix64(2));
  }

  TEST_CASE("state and set_state resume the stream exactly") {
    // An odd number of normal() calls leaves a spare value in the state.
    for (int warmup : {0, 1, 2, 7}) {
      CAPTURE(warmup);
      Generator g(9);
      draws(g, warmup, kNormal);
      const std::string saved = g.state();
      const std::vector<double> expected = draws(g, 20, kNormal);
      Generator restored(1);
      restored.set_state(saved);
      CHECK(draws(restored, 20, kNormal) == expected);
      CHECK(restored.state() == g.state());
    }
  }

  TEST_CASE("normal() has mean 0 and std 1 over 100k draws") {
    Generator g(2024);
    const Moments m = moments(draws(g, 100000, kNormal));
    // The standard error of the mean is 1/sqrt(1e5) ~ 0.003.
    CHECK(std::abs(m.mean) < 0.015);
    CHECK(std::abs(m.std - 1) < 0.015);
  }

  TEST_CASE("uniform draws cover [0, 1) evenly; below(n) stays below n") {
    Generator g(77);
    const std::vector<double> u = draws(g, 100000, kUniform);
    const Moments m = moments(u);
    CHECK(std::abs(m.mean - 0.5) < 0.01);
    CHECK(std::abs(m.std - std::sqrt(1.0 / 12)) < 0.01);
    CHECK(*std::min_element(u.begin(), u.end()) >= 0);
    CHECK(*std::max_element(u.begin(), u.end()) < 1);
    const std::vector<double> shifted = draws(g, 1000, [](Generator& gg) { return gg.uniform(-3, -1); });
    CHECK(*std::min_element(shifted.begin(), shifted.end()) >= -3);
    CHECK(*std::max_element(shifted.begin(), shifted.end()) < -1);
    // below(6): every face in range and about equally often (6000 rolls, sd of a count ~ 29).
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 6000; ++i) ++counts[std::min<std::uint64_t>(g.below(6), 6)];
    CHECK(counts[6] == 0);
    for (int k = 0; k < 6; ++k)
      CHECK((counts[static_cast<std::size_t>(k)] > 850 && counts[static_cast<std::size_t>(k)] < 1150));
    CHECK(g.below(1) == 0);
  }

  TEST_CASE("generator errors") {
    Generator g;
    CHECK_THROWS_WITH_AS(g.below(0), "generator: below(0) has no values to draw from", ValueError);
    CHECK_THROWS_WITH_AS(g.set_state("not a state"), "generator: cannot parse saved state", ValueError);
    CHECK_THROWS_WITH_AS(g.set_state(""), "generator: cannot parse saved state", ValueError);
  }
}
