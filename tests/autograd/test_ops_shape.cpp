// Data movement (autograd/ops_shape.cpp): reshape, permute, concat, slice and
// slice_backward, with the composites transpose and stack.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

// x = 0, 1, ..., n-1 laid out in `shape` (f64).
Tensor iota(const Shape& shape) { return reshape(arange(shape.numel(), DType::F64), shape); }

const int kShapeCases = register_cases({
    {"reshape", "[2, 3, 4] to [6, 4]", [](const Inputs& x) { return reshape(x[0], {6, 4}); },
     [] { return f64_leaves({{2, 3, 4}}); }},
    {"reshape", "-1 extent", [](const Inputs& x) { return reshape(x[0], {-1, 2}); },
     [] { return f64_leaves({{3, 4}}); }},
    {"reshape", "to rank 0", [](const Inputs& x) { return reshape(x[0], Shape{}); },
     [] { return f64_leaves({{1, 1}}); }},
    {"permute", "[2, 3, 4] by (2, 0, 1)", [](const Inputs& x) { return permute(x[0], {2, 0, 1}); },
     [] { return f64_leaves({{2, 3, 4}}); }},
    {"permute", "negative axes", [](const Inputs& x) { return permute(x[0], {-1, 0, -2}); },
     [] { return f64_leaves({{2, 3, 4}}); }},
    {"transpose", "last two", [](const Inputs& x) { return transpose(x[0]); }, [] { return f64_leaves({{2, 3, 4}}); }},
    {"transpose", "axes 0 and 2", [](const Inputs& x) { return transpose(x[0], 0, 2); },
     [] { return f64_leaves({{2, 3, 4}}); }},
    {"concat", "three along axis 0", [](const Inputs& x) { return concat({x[0], x[1], x[2]}, 0); },
     [] { return f64_leaves({{1, 3}, {2, 3}, {3, 3}}); }},
    {"concat", "two along axis -1 of 3-D", [](const Inputs& x) { return concat({x[0], x[1]}, -1); },
     [] { return f64_leaves({{2, 3, 1}, {2, 3, 4}}); }},
    {"concat", "the same tensor twice", [](const Inputs& x) { return concat({x[0], x[0]}, 1); },
     [] { return f64_leaves({{2, 3}}); }},
    {"stack", "axis 0", [](const Inputs& x) { return stack({x[0], x[1], x[2]}); },
     [] { return f64_leaves({{2, 3}, {2, 3}, {2, 3}}); }},
    {"stack", "axis -1", [](const Inputs& x) { return stack({x[0], x[1]}, -1); },
     [] { return f64_leaves({{2, 3}, {2, 3}}); }},
    {"slice", "middle of axis 1", [](const Inputs& x) { return slice(x[0], 1, 1, 3); },
     [] { return f64_leaves({{2, 4, 3}}); }},
    {"slice", "empty range", [](const Inputs& x) { return slice(x[0], 0, 2, 2) + sum(x[0]); },
     [] { return f64_leaves({{3, 2}}); }},
    {"slice_backward", "into axis 0", [](const Inputs& x) { return slice_backward(x[0], {5, 3}, 0, 2); },
     [] { return f64_leaves({{2, 3}}); }},
    {"slice_backward", "into axis -1", [](const Inputs& x) { return slice_backward(x[0], {2, 2, 6}, -1, 1); },
     [] { return f64_leaves({{2, 2, 4}}); }},
});

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("reshape keeps the elements and shares storage") {
    const Tensor x = iota({2, 3});
    const Tensor y = reshape(x, {3, -1});
    check_values(y, {3, 2}, {0, 1, 2, 3, 4, 5});
    CHECK(y.storage().get() == x.storage().get());
    CHECK(reshape(x, {2, 3}).is_same(x));
    check_values(reshape(scalar(4.0, DType::F64), {1, 1, 1}), {1, 1, 1}, {4});
  }

  TEST_CASE("permute and transpose move elements") {
    const Tensor x = iota({2, 3, 4});
    const Tensor p = permute(x, {2, 0, 1});
    CHECK(p.shape() == Shape{4, 2, 3});
    // p[k][i][j] = x[i][j][k] = 12 i + 4 j + k
    for (std::int64_t i = 0; i < 2; ++i)
      for (std::int64_t j = 0; j < 3; ++j)
        for (std::int64_t k = 0; k < 4; ++k) CHECK(p.at({k, i, j}) == static_cast<double>(12 * i + 4 * j + k));
    check_values(transpose(iota({2, 3})), {3, 2}, {0, 3, 1, 4, 2, 5});
    CHECK(permute(x, {0, 1, 2}).is_same(x));
  }

  TEST_CASE("concat, stack and slice of known tensors") {
    const Tensor a = iota({2, 2}), b = f64({9, 8}, {2, 1});
    check_values(concat({a, b}, 1), {2, 3}, {0, 1, 9, 2, 3, 8});
    check_values(concat({a, a}, 0), {4, 2}, {0, 1, 2, 3, 0, 1, 2, 3});
    check_values(stack({a, a + 10.0}), {2, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13});
    check_values(stack({a, a + 10.0}, 2), {2, 2, 2}, {0, 10, 1, 11, 2, 12, 3, 13});
    check_values(slice(iota({3, 4}), 1, 1, 3), {3, 2}, {1, 2, 5, 6, 9, 10});
    check_values(slice(iota({3, 4}), -2, 2, 3), {1, 4}, {8, 9, 10, 11});
    check_values(slice_backward(f64({1, 2, 3, 4}, {2, 2}), {2, 4}, 1, 1), {2, 4}, {0, 1, 2, 0, 0, 3, 4, 0});
  }

  // Int64 data (class labels, token ids) is stacked into task stacks (meta/task_group.h);
  // the shape ops copy bytes, so they move int64 elements exactly.
  TEST_CASE("concat, stack, slice and reshape move int64 data exactly") {
    const auto i64 = [](std::vector<std::int64_t> v, std::initializer_list<std::int64_t> dims) {
      return from_vector(v, Shape(std::vector<std::int64_t>(dims)));
    };
    // Read the elements directly: to_vector goes through double, which rounds big + 1.
    const auto values = [](const Tensor& t) {
      REQUIRE(t.dtype() == DType::I64);
      return std::vector<std::int64_t>(t.data<std::int64_t>(), t.data<std::int64_t>() + t.numel());
    };
    const std::int64_t big = std::int64_t{1} << 60;  // not a float: any float round trip would change it
    const Tensor a = i64({0, 1, 2, big}, {2, 2}), b = i64({-7, big + 1}, {2, 1});
    const Tensor c = concat({a, b}, 1);
    CHECK(c.dtype() == DType::I64);
    CHECK(c.shape() == Shape{2, 3});
    CHECK(values(c) == std::vector<std::int64_t>{0, 1, -7, 2, big, big + 1});
    const Tensor s = stack({a, a});
    CHECK(s.shape() == Shape{2, 2, 2});
    CHECK(values(stack({a, i64({5, 6, 7, 8}, {2, 2})}, 2)) == std::vector<std::int64_t>{0, 5, 1, 6, 2, 7, big, 8});
    CHECK(values(slice(c, 1, 1, 3)) == std::vector<std::int64_t>{1, -7, big, big + 1});
    CHECK(values(reshape(c, {3, 2})) == values(c));
    CHECK(values(s) == std::vector<std::int64_t>{0, 1, 2, big, 0, 1, 2, big});
  }

  TEST_CASE("shape ops run in float32") {
    for (const char* op : {"reshape", "permute", "transpose", "concat", "stack", "slice", "slice_backward"}) {
      CAPTURE(op);
      check_f32_for_cases(op);
    }
  }

  TEST_CASE("shape op errors") {
    const Tensor x = zeros({2, 3});
    CHECK_THROWS_WITH_AS(reshape(x, {4, 2}), "reshape: element counts differ: x is [2, 3], target is [4, 2] (6 != 8)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(reshape(x, {-1, -1}), "reshape: at most one extent may be -1", ShapeError);
    CHECK_THROWS_WITH_AS(reshape(x, {4, -1}),
                         "reshape: cannot infer the -1 extent: x is [2, 3], target has 4 known elements", ShapeError);
    CHECK_THROWS_WITH_AS(permute(x, {1, 1}), "permute: axis 1 appears twice for x [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(permute(x, {0}), "permute: perm has 1 axes, x is [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(permute(x, {0, 2}), "permute: axis 2 is out of range for a tensor of rank 2", ShapeError);
    CHECK_THROWS_WITH_AS(transpose(zeros({3})), doctest::Contains("transpose: axis -2 is out of range"), ShapeError);
    CHECK_THROWS_WITH_AS(concat({x, zeros({2, 4})}, 0),
                         "concat: shapes differ off axis 0: tensor 0 is [2, 3], tensor 1 is [2, 4]", ShapeError);
    CHECK_THROWS_WITH_AS(concat({x, zeros({2, 3, 1})}, 1), doctest::Contains("concat: shapes differ off axis 1"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(concat({}, 0), "concat: no tensors given", ShapeError);
    CHECK_THROWS_WITH_AS(concat({x, zeros({2, 3}, DType::F64)}, 0), "concat: mixed dtypes: a is f32, b is f64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(concat({x, zeros({2, 3}, DType::I64)}, 0),
                         "concat: mixed dtypes: tensor 0 is f32, tensor 1 is i64", DTypeError);
    CHECK_THROWS_WITH_AS(concat({zeros({2, 3}, DType::I64), zeros({2, 3}, DType::I64), x}, 0),
                         "concat: mixed dtypes: tensor 0 is i64, tensor 2 is f32", DTypeError);
    CHECK_THROWS_WITH_AS(stack({zeros({2}, DType::F64), arange(2, DType::I64)}),
                         "stack: mixed dtypes: tensor 0 is f64, tensor 1 is i64", DTypeError);
    CHECK_THROWS_WITH_AS(stack({arange(2, DType::I64), arange(2, DType::I64), zeros({2})}),
                         "stack: mixed dtypes: tensor 0 is i64, tensor 2 is f32", DTypeError);
    CHECK_THROWS_WITH_AS(stack({x, zeros({3, 2})}), "stack: shapes differ: tensor 0 is [2, 3], tensor 1 is [3, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(stack({}), "stack: no tensors given", ShapeError);
    CHECK_THROWS_WITH_AS(slice(x, 1, 2, 4), "slice: range [2, 4) is out of bounds for axis 1 of x, which is [2, 3]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(slice(x, 0, 1, 0), doctest::Contains("slice: range [1, 0) is out of bounds"), ShapeError);
    CHECK_THROWS_WITH_AS(slice(x, 0, -1, 1), doctest::Contains("slice: range [-1, 1) is out of bounds"), ShapeError);
    CHECK_THROWS_WITH_AS(slice_backward(x, {2, 4}, 1, 2),
                         "slice_backward: grad does not fit: grad is [2, 3], target is [2, 4] (axis 1, start 2)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(slice_backward(x, {3, 3}, 1, 0), doctest::Contains("slice_backward: grad does not fit"),
                         ShapeError);
  }
}
