// Reductions and the broadcast_to / sum_to pair (autograd/ops_reduce.cpp),
// with the composites mean and sum_to. max inputs have no ties (a shuffled grid).
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

struct AxesRow {
  const char* label;
  Shape x;
  std::vector<int> axes;  // empty: the overload without axes
  bool keepdim;
};
const std::vector<AxesRow> kAxesRows = {
    {"all", {3, 4}, {}, false},
    {"axis 0", {3, 4}, {0}, false},
    {"axis -1 keepdim", {2, 3, 4}, {-1}, true},
    {"axes 0 and 2", {2, 3, 4}, {0, 2}, false},
    {"axes 1 and 2 keepdim", {2, 3, 4}, {1, 2}, true},
    {"every axis listed", {2, 3}, {0, 1}, false},
};

const int kReduceCases = [] {
  std::vector<OpCase> cases;
  for (const AxesRow& r : kAxesRows) {
    auto reducer = [r](Tensor (*all)(const Tensor&), Tensor (*some)(const Tensor&, const std::vector<int>&, bool)) {
      return [r, all, some](const Inputs& x) { return r.axes.empty() ? all(x[0]) : some(x[0], r.axes, r.keepdim); };
    };
    const Shape shape = r.x;
    cases.push_back({"sum", r.label, reducer(sum, sum), [shape] { return f64_leaves({shape}); }});
    cases.push_back({"mean", r.label, reducer(mean, mean), [shape] { return f64_leaves({shape}); }});
    cases.push_back({"max", r.label, reducer(max, max), [shape] { return distinct_leaves({shape}); }});
  }
  const std::vector<std::pair<Shape, Shape>> broadcasts = {
      {{4}, {3, 4}}, {{3, 1}, {2, 3, 4}}, {{}, {2, 3}}, {{1, 1}, {1, 5}}};
  for (const auto& pair : broadcasts) {
    const Shape from = pair.first, to = pair.second;  // named copies: clang 14 cannot capture structured bindings
    const std::string label = from.str() + " to " + to.str();
    cases.push_back({"broadcast_to", label, [to](const Inputs& x) { return broadcast_to(x[0], to); },
                     [from] { return f64_leaves({from}); }});
    cases.push_back({"sum_to", to.str() + " to " + from.str(), [from](const Inputs& x) { return sum_to(x[0], from); },
                     [to] { return f64_leaves({to}); }});
  }
  return register_cases(cases);
}();

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("reductions of a known tensor") {
    const Tensor x = f64({1, 5, 2, 7, 3, 4}, {2, 3});
    check_values(sum(x), Shape{}, {22});
    check_values(sum(x, {0}), {3}, {8, 8, 6});
    check_values(sum(x, {-1}, true), {2, 1}, {8, 14});
    check_values(mean(x), Shape{}, {22.0 / 6});
    check_values(mean(x, {1}), {2}, {8.0 / 3, 14.0 / 3});
    check_values(max(x), Shape{}, {7});
    check_values(max(x, {0}), {3}, {7, 5, 4});
    check_values(max(x, {1}, true), {2, 1}, {5, 7});
    check_values(max(f64({-3, -1, -2}, {3})), Shape{}, {-1});
  }

  TEST_CASE("reductions over several axes of a 3-D tensor") {
    const Tensor x = arange(24, DType::F64);
    const Tensor x3 = reshape(x, {2, 3, 4});
    // sum over axes 0 and 2: for each j, sum_{i,k} (12 i + 4 j + k) = 2*4*4j + 4*12 + 2*6
    check_values(sum(x3, {0, 2}), {3}, {60, 92, 124});
    check_values(max(x3, {1, 2}), {2}, {11, 23});
    check_values(mean(x3, {0, 1, 2}, true), {1, 1, 1}, {11.5});
  }

  TEST_CASE("reductions of empty tensors") {
    check_values(sum(zeros({0, 3}), {0}), {3}, {0, 0, 0});
    check_values(sum(zeros({0})), Shape{}, {0});
    // Reducing a non-empty axis of an empty tensor gives an empty result, not an error.
    CHECK(max(zeros({0, 3}), {1}).shape() == Shape{0});
    CHECK(max(zeros({0, 3}), {1}, true).shape() == Shape{0, 1});
  }

  TEST_CASE("max shares its gradient equally between tied entries") {
    TapeScope scope;
    Tensor x = f64({1, 3, 3, 2, 2, 0}, {2, 3}).requires_grad_();
    check_values(grad(max(x), x), {0, 0.5, 0.5, 0, 0, 0});
    check_values(grad(sum(max(x, {1})), x), {0, 0.5, 0.5, 0.5, 0.5, 0});
  }

  TEST_CASE("broadcast_to and sum_to are each other's adjoint") {
    const Tensor col = f64({1, 2}, {2, 1});
    check_values(broadcast_to(col, {3, 2, 3}), {3, 2, 3}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2});
    const Tensor x = reshape(arange(6, DType::F64), {2, 3});
    check_values(sum_to(x, {3}), {3}, {3, 5, 7});
    check_values(sum_to(x, {2, 1}), {2, 1}, {3, 12});
    check_values(sum_to(x, {}), Shape{}, {15});
    CHECK(sum_to(x, {2, 3}).is_same(x));
    CHECK(broadcast_to(x, {2, 3}).is_same(x));
  }

  TEST_CASE("reductions run in float32") {
    for (const char* op : {"sum", "mean", "max", "broadcast_to", "sum_to"}) {
      CAPTURE(op);
      check_f32_for_cases(op);
    }
  }

  TEST_CASE("reduction errors") {
    const Tensor x = zeros({2, 3});
    CHECK_THROWS_WITH_AS(sum(x, {1, -1}), "sum: axis -1 is given twice for [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(max(x, {2}), "max: axis 2 is out of range for a tensor of rank 2", ShapeError);
    CHECK_THROWS_WITH_AS(mean(x, {-3}), "mean: axis -3 is out of range for a tensor of rank 2", ShapeError);
    CHECK_THROWS_WITH_AS(max(zeros({0, 3})), "max: cannot reduce an empty tensor [0, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(max(zeros({2, 0}), {1}), "max: cannot reduce an empty tensor [2, 0]", ShapeError);
    CHECK_THROWS_WITH_AS(sum(arange(3, DType::I64)), "sum: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(broadcast_to(x, {3}), "broadcast_to: shapes cannot be broadcast: x is [2, 3], target is [3]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(broadcast_to(x, {4, 3}),
                         "broadcast_to: shapes cannot be broadcast: a is [2, 3], b is [4, 3] (dim 0: 2 vs 4)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(sum_to(zeros({3}), {2, 3}), "sum_to: shapes cannot be broadcast: x is [3], target is [2, 3]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(sum_to(x, {4}), doctest::Contains("sum_to: shapes cannot be broadcast"), ShapeError);
  }
}
