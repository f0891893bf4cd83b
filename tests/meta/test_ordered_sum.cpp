// OrderedSum (meta/ordered_sum.h): group order whatever order the groups arrive in.
#include <doctest/doctest.h>

#include <thread>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "meta/ordered_sum.h"

using namespace mg;

namespace {

// Terms whose sum depends on the order of the additions in float32.
std::vector<Tensor> terms(std::size_t group) {
  Generator gen(100 + group);
  return {randn({257}, gen) * 1e4, randn({3, 5}, gen) * 1e-3};
}

}  // namespace

TEST_SUITE("ordered_sum") {
  TEST_CASE("the sum is ((g0 + g1) + g2) + ..., bit for bit, in any order of arrival and from any thread") {
    constexpr std::size_t n = 9;
    std::vector<Tensor> want = terms(0);
    for (std::size_t i = 1; i < n; ++i)
      for (std::size_t j = 0; j < want.size(); ++j) want[j] = want[j] + terms(i)[j];
    for (const std::vector<std::size_t>& order :
         {std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8}, std::vector<std::size_t>{8, 7, 6, 5, 4, 3, 2, 1, 0},
          std::vector<std::size_t>{3, 0, 8, 1, 5, 2, 7, 4, 6}}) {
      meta::OrderedSum total(n);
      for (const std::size_t i : order) total.add(i, terms(i));
      const std::vector<Tensor> got = total.take();
      REQUIRE(got.size() == want.size());
      for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j].to_vector<float>() == want[j].to_vector<float>());
    }
    meta::OrderedSum threaded(n);
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < 3; ++t)
      workers.emplace_back([&, t] {
        for (std::size_t i = t; i < n; i += 3) threaded.add(i, terms(i));
      });
    for (std::thread& w : workers) w.join();
    const std::vector<Tensor> got = threaded.take();
    for (std::size_t j = 0; j < got.size(); ++j) CHECK(got[j].to_vector<float>() == want[j].to_vector<float>());
  }

  TEST_CASE("OrderedSum: every error message") {
    meta::OrderedSum total(3);
    total.add(1, terms(1));
    CHECK_THROWS_WITH_AS(total.add(1, terms(1)), "OrderedSum: group 1 is out of range or added twice (3 groups)",
                         ValueError);
    CHECK_THROWS_WITH_AS(total.add(3, terms(3)), "OrderedSum: group 3 is out of range or added twice (3 groups)",
                         ValueError);
    CHECK_THROWS_WITH_AS(total.take(), "OrderedSum: 0 of 3 groups are in", ValueError);
    CHECK_THROWS_WITH_AS(total.add(0, {ones({257})}), "OrderedSum: group 1 has 2 terms, group 0 had 1", ValueError);
  }
}
