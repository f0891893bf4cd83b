// Shapes (autograd/shape.h): extents, strides, printing, broadcasting and axes.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "autograd/shape.h"

using namespace mg;

TEST_SUITE("tensor") {
  TEST_CASE("shape basics") {
    const Shape s{2, 3, 4};
    CHECK(s.ndim() == 3);
    CHECK(s.numel() == 24);
    CHECK(s[1] == 3);
    CHECK(s.vec() == std::vector<std::int64_t>{2, 3, 4});
    CHECK(s.str() == "[2, 3, 4]");
    const auto st = s.strides();
    CHECK(st[0] == 12);
    CHECK(st[1] == 4);
    CHECK(st[2] == 1);
    CHECK(Shape{}.ndim() == 0);
    CHECK(Shape{}.numel() == 1);
    CHECK(Shape{}.str() == "[]");
    CHECK(Shape{4, 0}.numel() == 0);
    CHECK(Shape(std::vector<std::int64_t>{5, 6}) == Shape{5, 6});
    CHECK(Shape{2, 3} != Shape{3, 2});
    CHECK(Shape{2, 3} != Shape{2, 3, 1});
    Shape grown;
    grown.push_back(7);
    grown.push_back(1);
    CHECK(grown == Shape{7, 1});
    Shape edited = s;
    edited.set(0, 9);
    CHECK(edited.str() == "[9, 3, 4]");
  }

  TEST_CASE("broadcast_shapes follows numpy") {
    struct Row {
      Shape a, b, out;
    };
    const Row rows[] = {
        {{3, 4}, {3, 4}, {3, 4}},    {{3, 4}, {4}, {3, 4}},          {{3, 1}, {1, 4}, {3, 4}},
        {{}, {2, 3}, {2, 3}},        {{2, 1, 4}, {3, 1}, {2, 3, 4}}, {{1}, {}, {1}},
        {{0, 4}, {1, 4}, {0, 4}},
    };
    for (const Row& r : rows) {
      CAPTURE(r.a.str());
      CAPTURE(r.b.str());
      CHECK(broadcast_shapes("t", r.a, r.b) == r.out);
      CHECK(broadcast_shapes("t", r.b, r.a) == r.out);
    }
  }

  TEST_CASE("normalize_axis maps negative axes") {
    CHECK(normalize_axis("t", -1, 3) == 2);
    CHECK(normalize_axis("t", -3, 3) == 0);
    CHECK(normalize_axis("t", 2, 3) == 2);
  }

  TEST_CASE("shape errors") {
    CHECK_THROWS_WITH_AS((Shape{1, 2, 3, 4, 5, 6, 7}), "shape: too many dimensions: 7 (at most 6)", ShapeError);
    CHECK_NOTHROW((Shape{1, 2, 3, 4, 5, 6}));
    Shape full{1, 1, 1, 1, 1, 1};
    CHECK_THROWS_WITH_AS(full.push_back(1), "shape: too many dimensions: 7 (at most 6)", ShapeError);
    CHECK_THROWS_WITH_AS((Shape{2, -1}), "shape: negative extent -1", ShapeError);
    CHECK_THROWS_WITH_AS(broadcast_shapes("add", {3, 4}, {5, 4}),
                         "add: shapes cannot be broadcast: a is [3, 4], b is [5, 4] (dim 0: 3 vs 5)", ShapeError);
    CHECK_THROWS_WITH_AS(broadcast_shapes("mul", {2, 3}, {4}),
                         "mul: shapes cannot be broadcast: a is [2, 3], b is [4] (dim 1: 3 vs 4)", ShapeError);
    CHECK_THROWS_WITH_AS(normalize_axis("sum", 3, 3), "sum: axis 3 is out of range for a tensor of rank 3", ShapeError);
    CHECK_THROWS_WITH_AS(normalize_axis("sum", -4, 3), "sum: axis -4 is out of range for a tensor of rank 3",
                         ShapeError);
    CHECK_THROWS_WITH_AS(normalize_axis("sum", 0, 0), "sum: axis 0 is out of range for a tensor of rank 0", ShapeError);
  }
}
