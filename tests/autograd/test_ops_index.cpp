// Index ops (autograd/ops_index.cpp): index_select / index_add and gather /
// scatter_add, each the other's backward. Indices repeat on purpose, so the
// backward has to accumulate.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

// f64 leaves for `shapes`, with the int64 `index` (which never requires grad) inserted at position 1.
Inputs with_index(const std::vector<Shape>& shapes, const Tensor& index) {
  Inputs x = f64_leaves(shapes);
  x.insert(x.begin() + 1, index);
  return x;
}

// Indices in [0, n) for `shape`, deterministic and with repeats.
Tensor some_indices(const Shape& shape, std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(shape.numel()));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<std::int64_t>((i * 7 + 3) % static_cast<std::size_t>(n));
  return i64(v, shape);
}

const int kIndexCases = register_cases({
    {"index_select", "rows with repeats", [](const Inputs& x) { return index_select(x[0], 0, x[1]); },
     [] { return with_index({{4, 3}}, i64({2, 0, 2, 3, 2}, {5})); }},
    {"index_select", "axis -1 of 3-D", [](const Inputs& x) { return index_select(x[0], -1, x[1]); },
     [] { return with_index({{2, 3, 4}}, i64({3, 1}, {2})); }},
    {"index_add", "rows with repeats", [](const Inputs& x) { return index_add(x[0], 0, x[1], x[2]); },
     [] { return with_index({{4, 3}, {5, 3}}, i64({1, 3, 1, 0, 1}, {5})); }},
    {"index_add", "axis 1", [](const Inputs& x) { return index_add(x[0], 1, x[1], x[2]); },
     [] { return with_index({{2, 4}, {2, 2}}, i64({3, 3}, {2})); }},
    {"gather", "axis 1 (class picks)", [](const Inputs& x) { return gather(x[0], 1, x[1]); },
     [] { return with_index({{3, 4}}, i64({1, 1, 0, 3, 2, 2}, {3, 2})); }},
    {"gather", "axis 0 of 3-D", [](const Inputs& x) { return gather(x[0], 0, x[1]); },
     [] { return with_index({{2, 2, 3}}, some_indices({3, 2, 3}, 2)); }},
    {"scatter_add", "axis 1 with collisions", [](const Inputs& x) { return scatter_add(x[0], 1, x[1], x[2]); },
     [] { return with_index({{3, 4}, {3, 2}}, i64({1, 1, 0, 3, 2, 2}, {3, 2})); }},
    {"scatter_add", "axis 0 of 3-D", [](const Inputs& x) { return scatter_add(x[0], 0, x[1], x[2]); },
     [] { return with_index({{3, 2, 2}, {4, 2, 2}}, some_indices({4, 2, 2}, 3)); }},
});

}  // namespace

TEST_SUITE("ops") {
  const Tensor kX = f64({0, 1, 2, 10, 11, 12, 20, 21, 22}, {3, 3});

  TEST_CASE("index_select and index_add of known tensors") {
    check_values(index_select(kX, 0, i64({2, 2, 0}, {3})), {3, 3}, {20, 21, 22, 20, 21, 22, 0, 1, 2});
    check_values(index_select(kX, 1, i64({1}, {1})), {3, 1}, {1, 11, 21});
    CHECK(index_select(kX, 0, i64({}, {0})).shape() == Shape{0, 3});
    const Tensor ones2 = ones({2, 3}, DType::F64);
    check_values(index_add(kX, 0, i64({1, 1}, {2}), ones2), {3, 3}, {0, 1, 2, 12, 13, 14, 20, 21, 22});
    check_values(index_add(zeros({2, 2}, DType::F64), 1, i64({0, 0, 1}, {3}), f64({1, 2, 3, 4, 5, 6}, {2, 3})),
                 {2, 2}, {3, 3, 9, 6});
  }

  TEST_CASE("gather and scatter_add of known tensors") {
    check_values(gather(kX, 1, i64({2, 0, 1}, {3, 1})), {3, 1}, {2, 10, 21});
    check_values(gather(kX, 0, i64({2, 0, 1}, {1, 3})), {1, 3}, {20, 1, 12});
    check_values(scatter_add(zeros({2, 3}, DType::F64), 1, i64({0, 0, 2, 1}, {2, 2}), f64({1, 2, 3, 4}, {2, 2})),
                 {2, 3}, {3, 0, 0, 0, 4, 3});
    check_values(scatter_add(zeros({2, 2}, DType::F64), 0, i64({1, 1, 1, 0}, {2, 2}), f64({1, 2, 3, 4}, {2, 2})),
                 {2, 2}, {0, 4, 4, 2});
  }

  TEST_CASE("index ops run in float32") {
    for (const char* op : {"index_select", "index_add", "gather", "scatter_add"}) {
      CAPTURE(op);
      check_f32_for_cases(op);
    }
  }

  TEST_CASE("index op errors") {
    const Tensor x = zeros({3, 2});
    CHECK_THROWS_WITH_AS(index_select(kX, 0, zeros({2}, DType::F64)), "index_select: index must be i64, got f64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(index_select(x, 0, i64({0, 5}, {2})),
                         "index_select: index 5 is out of range [0, 3) for x [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(index_select(x, 1, i64({-1}, {1})),
                         "index_select: index -1 is out of range [0, 2) for x [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(index_select(x, 0, i64({0, 1}, {1, 2})),
                         "index_select: index must be 1-D: x is [3, 2], index is [1, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(index_select(x, 2, i64({0}, {1})),
                         "index_select: axis 2 is out of range for a tensor of rank 2", ShapeError);
    CHECK_THROWS_WITH_AS(index_add(x, 0, i64({0, 1}, {2}), zeros({3, 2})),
                         "index_add: src must be base's shape with axis 0 of index's length: base is [3, 2], index is "
                         "[2], src is [3, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(index_add(x, 0, i64({3}, {1}), zeros({1, 2})),
                         "index_add: index 3 is out of range [0, 3) for x [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(index_add(x, 0, i64({0}, {1}), zeros({1, 2}, DType::F64)),
                         "index_add: mixed dtypes: a is f32, c is f64", DTypeError);
    CHECK_THROWS_WITH_AS(index_add(kX, 0, i64({0}, {1}), i64({1, 2, 3}, {1, 3})),
                         "index_add: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(scatter_add(kX, 0, i64({0}, {1, 1}), i64({1}, {1, 1})),
                         "scatter_add: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, i64({0, 1}, {2})),
                         "gather: index must match x off axis 1: x is [3, 2], index is [2]", ShapeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, i64({0, 1}, {2, 1})), doctest::Contains("gather: index must match x off axis 1"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, i64({0, 2, 0}, {3, 1})), "gather: index 2 is out of range [0, 2) for x [3, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(gather(x, 1, zeros({3, 1}, DType::F32)), "gather: index must be i64, got f32", DTypeError);
    CHECK_THROWS_WITH_AS(scatter_add(x, 1, i64({0, 1, 0}, {3, 1}), zeros({3, 2})),
                         "scatter_add: src must have index's shape: index is [3, 1], src is [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(scatter_add(x, 0, i64({0, 1, 0}, {3, 1}), zeros({3, 1})),
                         "scatter_add: index must match x off axis 0: x is [3, 2], index is [3, 1]", ShapeError);
  }
}
