// Non-differentiable helpers (autograd/ops_compare.cpp): masks and arg-max,
// which backward formulas use as constants.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "autograd/tape.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

TEST_SUITE("ops") {
  TEST_CASE("masks of known inputs, in the input's dtype") {
    const Tensor x = f64({-2, 0, 0.5, 3}, {4});
    check_values(greater(x, f64({0}, {1})), {0, 0, 1, 1});
    check_values(greater(f64({1, 2}, {2, 1}), f64({0, 1, 2}, {3})), {2, 3}, {1, 0, 0, 1, 1, 0});
    check_values(equal(x, f64({0.5}, {})), {0, 0, 1, 0});
    check_values(sign(x), {-1, 0, 1, 1});
    check_values(between(x, 0, 0.5), {0, 1, 1, 0});
    const Tensor m = greater(f32({1, -1}, {2}), f32({0}, {}));
    CHECK(m.dtype() == DType::F32);
    check_values(m, {1, 0});
  }

  TEST_CASE("argmax picks the first of tied maxima") {
    const Tensor x = f64({1, 5, 5, 7, 2, 7}, {2, 3});
    const Tensor rows = argmax(x, 1);
    CHECK(rows.dtype() == DType::I64);
    CHECK(rows.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});
    CHECK(argmax(x, -2).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 1});
    CHECK(argmax(f32({0.5f, -1, 2}, {3}), 0).to_vector<std::int64_t>() == std::vector<std::int64_t>{2});
  }

  TEST_CASE("masks never require grad") {
    TapeScope scope;
    const Tensor x = f64({1, -1}, {2}).requires_grad_();
    CHECK_FALSE(greater(x, x).requires_grad());
    CHECK_FALSE(sign(x).requires_grad());
    CHECK_FALSE(between(x, 0, 1).requires_grad());
  }

  TEST_CASE("compare op errors") {
    const Tensor ints = arange(3, DType::I64);
    CHECK_THROWS_WITH_AS(greater(ints, ints), "greater: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(equal(zeros({2}), zeros({2}, DType::F64)), "equal: mixed dtypes: a is f32, b is f64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(equal(zeros({2}), zeros({3})),
                         "equal: shapes cannot be broadcast: a is [2], b is [3] (dim 0: 2 vs 3)", ShapeError);
    CHECK_THROWS_WITH_AS(sign(ints), "sign: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(between(ints, 0, 1), "between: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(argmax(ints, 0), "argmax: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(argmax(zeros({2, 3}), 2), "argmax: axis 2 is out of range for a tensor of rank 2", ShapeError);
  }
}
