// Creating tensors (autograd/creation.h): constants, ranges, host copies and
// random draws, in every dtype they accept.
#include <doctest/doctest.h>

#include <algorithm>

#include "autograd/errors.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

TEST_SUITE("tensor") {
  TEST_CASE("constant fills in every dtype") {
    for (DType t : {DType::F32, DType::F64, DType::I64}) {
      CAPTURE(dtype_name(t));
      const Tensor z = zeros({2, 3}, t);
      CHECK(z.dtype() == t);
      check_values(z, {2, 3}, std::vector<double>(6, 0.0));
      check_values(ones({4}, t), {4}, {1, 1, 1, 1});
      check_values(full({1, 2}, 3, t), {1, 2}, {3, 3});
      check_values(scalar(5, t), Shape{}, {5});
      check_values(arange(4, t), {4}, {0, 1, 2, 3});
      CHECK(zeros_like(z).dtype() == t);
      check_values(ones_like(z), {2, 3}, std::vector<double>(6, 1.0));
      check_values(full_like(z, 2), {2, 3}, std::vector<double>(6, 2.0));
    }
    CHECK(zeros({2}).dtype() == DType::F32);
    CHECK(arange(0).numel() == 0);
    CHECK_FALSE(zeros({2}).requires_grad());
  }

  TEST_CASE("from_vector copies host values") {
    std::vector<double> v{1, 2, 3, 4};
    const Tensor t = from_vector(v, {2, 2});
    v[0] = 100;  // a copy, not a view
    CHECK(t.dtype() == DType::F64);
    check_values(t, {2, 2}, {1, 2, 3, 4});
    CHECK(from_vector(std::vector<float>{1.5f}, {}).dtype() == DType::F32);
    CHECK(from_vector(std::vector<std::int64_t>{7, 8}, {2}).dtype() == DType::I64);
    CHECK(from_vector(std::vector<double>{}, {0, 3}).numel() == 0);
  }

  TEST_CASE("randn and uniform are seeded and in range") {
    Generator g1(42), g2(42);
    const Tensor a = randn({100}, g1, DType::F64), b = randn({100}, g2, DType::F64);
    CHECK(a.to_vector<double>() == b.to_vector<double>());
    const Tensor c = randn({100}, g1, DType::F64);
    CHECK(a.to_vector<double>() != c.to_vector<double>());
    CHECK(randn({3}, g1).dtype() == DType::F32);
    const std::vector<double> u = uniform({1000}, -2, 3, g1, DType::F64).to_vector<double>();
    CHECK(*std::min_element(u.begin(), u.end()) >= -2);
    CHECK(*std::max_element(u.begin(), u.end()) < 3);
    CHECK(*std::min_element(u.begin(), u.end()) < -1.9);  // the range is actually covered
    CHECK(*std::max_element(u.begin(), u.end()) > 2.9);
    check_values(uniform({3}, 1, 1, g1, DType::F64), {1, 1, 1});
  }

  TEST_CASE("creation errors") {
    CHECK_THROWS_WITH_AS(from_vector(std::vector<double>{1, 2, 3}, {2, 2}),
                         "from_vector: 3 values do not fill shape [2, 2] (4 elements)", ShapeError);
    CHECK_THROWS_WITH_AS(from_vector(std::vector<std::int64_t>{1, 2}, {}),
                         "from_vector: 2 values do not fill shape [] (1 elements)", ShapeError);
    CHECK_THROWS_WITH_AS(from_vector(std::vector<float>{}, {1}),
                         "from_vector: 0 values do not fill shape [1] (1 elements)", ShapeError);
    CHECK_THROWS_WITH_AS(arange(-1), "arange: length must be non-negative, got -1", ValueError);
    Generator gen(1);
    CHECK_THROWS_WITH_AS(randn({2}, gen, DType::I64), "randn: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(uniform({2}, 0, 1, gen, DType::I64), "uniform: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(uniform({2}, 1, 0, gen), "uniform: lo must not exceed hi, got [1, 0)", ValueError);
    CHECK_THROWS_WITH_AS(zeros({-2}), "shape: negative extent -2", ShapeError);
  }
}
