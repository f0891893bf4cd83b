// Broadcasting binary ops (autograd/ops_binary.cpp): gradcheck cases for every
// broadcasting pattern, hand-computed forward values, float32, and errors.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "autograd/errors.h"
#include "autograd/kernels/broadcast.h"
#include "autograd/grad.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/random.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

Tensor call_binary(std::string_view op, const Tensor& a, const Tensor& b) {
  if (op == "add") return add(a, b);
  if (op == "sub") return sub(a, b);
  if (op == "mul") return mul(a, b);
  return div(a, b);
}

// The broadcasting patterns every binary op is checked on.
struct Pattern {
  const char* label;
  Shape a, b;
};
const std::vector<Pattern> kPatterns = {
    {"same shape", {3, 4}, {3, 4}},
    {"row vector", {3, 4}, {1, 4}},
    {"column against row", {3, 1}, {1, 4}},
    {"lower rank", {2, 3, 4}, {4}},
    {"rank-0 a", {}, {2, 3}},
    {"rank-0 b", {2, 3}, {}},
    {"both stretch, rank 4 and 3", {2, 1, 3, 1}, {4, 1, 5}},
};

const int kBinaryCases = [] {
  std::vector<OpCase> cases;
  for (const char* op : {"add", "sub", "mul", "div"}) {
    for (const Pattern& p : kPatterns) {
      const std::string name = op;
      cases.push_back({name, p.label, [name](const Inputs& x) { return call_binary(name, x[0], x[1]); },
                       // div's denominator is kept in |b| >= 0.5, away from the pole at 0.
                       [p, name] {
                         return name == "div" ? signed_leaves({p.a, p.b}, 0.5, 1.5) : f64_leaves({p.a, p.b});
                       }});
    }
  }
  // One tensor as both operands: its two gradient contributions must add up.
  for (const char* op : {"mul", "div"}) {
    const std::string name = op;
    cases.push_back({name, "same tensor twice", [name](const Inputs& x) { return call_binary(name, x[0], x[0]); },
                     [] { return signed_leaves({{2, 3}}, 0.5, 1.5); }});
  }
  return register_cases(cases);
}();

// where: the mask is a constant (no grad); a and b broadcast against it.
Inputs where_inputs(const Shape& cond, const Shape& a, const Shape& b) {
  Inputs x = f64_leaves({a, b});
  Tensor mask = f64(std::vector<double>(static_cast<std::size_t>(cond.numel())), cond);
  for (std::int64_t i = 0; i < mask.numel(); ++i) mask.mutable_data<double>()[i] = static_cast<double>(i % 3 == 0);
  x.insert(x.begin(), mask);
  return x;
}

MG_OP_CASE("where", "same shape", [](const Inputs& x) { return where(x[0], x[1], x[2]); },
           [] { return where_inputs({3, 4}, {3, 4}, {3, 4}); });
MG_OP_CASE("where", "a and b broadcast", [](const Inputs& x) { return where(x[0], x[1], x[2]); },
           [] { return where_inputs({3, 4}, {4}, {3, 1}); });
MG_OP_CASE("where", "mask broadcasts", [](const Inputs& x) { return where(x[0], x[1], x[2]); },
           [] { return where_inputs({1, 4}, {3, 4}, {}); });

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("binary ops broadcast to hand-computed values") {
    const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    const Tensor col = f64({10, 20}, {2, 1});
    const Tensor row = f64({1, 2, 4}, {3});
    check_values(add(a, col), {2, 3}, {11, 12, 13, 24, 25, 26});
    check_values(sub(a, row), {2, 3}, {0, 0, -1, 3, 3, 2});
    check_values(mul(col, row), {2, 3}, {10, 20, 40, 20, 40, 80});
    check_values(div(a, row), {2, 3}, {1, 1, 0.75, 4, 2.5, 1.5});
    check_values(add(scalar(0.5, DType::F64), row), {3}, {1.5, 2.5, 4.5});
  }

  TEST_CASE("operators map to the ops") {
    const Tensor x = f64({1, -2, 4}, {3});
    check_values(x + x, {2, -4, 8});
    check_values(x - 1.0, {0, -3, 3});
    check_values(1.0 - x, {0, 3, -3});
    check_values(2.0 * x, {2, -4, 8});
    check_values(x / 4.0, {0.25, -0.5, 1});
    check_values(-x, {-1, 2, -4});
    check_values(x * x / x, {1, -2, 4});
  }

  TEST_CASE("where picks from a or b by the mask") {
    const Tensor mask = f64({1, 0, 0, 1}, {2, 2});
    check_values(where(mask, f64({1, 2, 3, 4}, {2, 2}), f64({-1}, {1})), {2, 2}, {1, -1, -1, 4});
    // A mask of any dtype works: int64, or floating of the other precision.
    check_values(where(i64({0, 1}, {2}), f64({5, 6}, {2}), f64({7, 8}, {2})), {7, 6});
    const Tensor picked = where(f64({1, 0}, {2}), f32({5, 6}, {2}), f32({7, 8}, {2}));
    CHECK(picked.dtype() == DType::F32);
    check_values(picked, {5, 8});
  }

  TEST_CASE("binary ops run in float32") {
    for (const char* op : {"add", "sub", "mul", "div", "where"}) {
      CAPTURE(op);
      check_f32_for_cases(op);
    }
  }

  TEST_CASE("binary op errors name the op and both shapes") {
    const Tensor a = zeros({3, 4}), b = zeros({5, 4});
    CHECK_THROWS_WITH_AS(add(a, b), "add: shapes cannot be broadcast: a is [3, 4], b is [5, 4] (dim 0: 3 vs 5)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(mul(zeros({2, 3}), zeros({2})), doctest::Contains("mul: shapes cannot be broadcast"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(sub(zeros({3}), zeros({3}, DType::F64)), "sub: mixed dtypes: a is f32, b is f64", DTypeError);
    CHECK_THROWS_WITH_AS(div(zeros({3}, DType::I64), zeros({3}, DType::I64)), "div: dtype i64 is not supported",
                         DTypeError);
    CHECK_THROWS_WITH_AS(add(Tensor{}, a), doctest::Contains("add: operand a is an undefined tensor"), ValueError);
    CHECK_THROWS_WITH_AS(where(zeros({2}), zeros({3}), zeros({3})),
                         doctest::Contains("where: shapes cannot be broadcast: a is [2], b is [3]"), ShapeError);
    Tensor cond = zeros({3}).requires_grad_();
    CHECK_THROWS_WITH_AS(where(cond, zeros({3}), zeros({3})),
                         doctest::Contains("where: the condition cannot require grad"), GradError);
  }

  TEST_CASE("for_each_run drops size-1 axes and merges axes every operand walks as one") {
    using mg::kernels::broadcast_strides;
    const Shape out{2, 3, 4, 5};
    const std::array<mg::kernels::Strides, 2> st{broadcast_strides(out, out), broadcast_strides(Shape{1, 3, 1, 1}, out)};
    std::vector<std::array<std::int64_t, 4>> runs;  // out offset, b offset, length, b's inner stride
    mg::kernels::for_each_run(out, st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      runs.push_back({o, off[1], len, inner[1]});
    });
    // [2, 3, 4·5]: six runs of 20, b constant along each.
    REQUIRE(runs.size() == 6);
    for (std::size_t r = 0; r < runs.size(); ++r) {
      CHECK(runs[r][0] == static_cast<std::int64_t>(r) * 20);
      CHECK(runs[r][1] == static_cast<std::int64_t>(r % 3));
      CHECK(runs[r][2] == 20);
      CHECK(runs[r][3] == 0);
    }
    // All extents 1: one run of one element.
    int calls = 0;
    const std::array<mg::kernels::Strides, 1> one{broadcast_strides(Shape{1, 1}, Shape{1, 1})};
    mg::kernels::for_each_run(Shape{1, 1}, one, [&](std::int64_t, const auto&, std::int64_t len, const auto&) {
      CHECK(len == 1);
      ++calls;
    });
    CHECK(calls == 1);
  }
}

TEST_SUITE("ops") {
  TEST_CASE("large elementwise ops, their sums into gradients and relu's backward: same bits on 1, 2, 3 op threads") {
    // Split over op threads by blocks of elements (kernels/elementwise.cpp, relu_grad.cpp).
    for (const DType dtype : {DType::F32, DType::F64}) {
      CAPTURE(dtype_name(dtype));
      Generator gen(7);
      const Tensor x = randn({300001}, gen, dtype).requires_grad_(), y = randn({300001}, gen, dtype);
      auto run = [&](int threads) {
        const kernels::OpThreads scope(threads);
        TapeScope tape;
        const Tensor a = relu(x * y + x) / 3.0 - y;
        const Tensor g = grad({sum(a * a) + sum(relu(x))}, {x})[0];
        return std::vector<Tensor>{a.detach(), g};
      };
      const std::vector<Tensor> one = run(1);
      for (const int threads : {2, 3}) {
        const std::vector<Tensor> many = run(threads);
        CAPTURE(threads);
        for (std::size_t i = 0; i < one.size(); ++i)
          CHECK(std::memcmp(one[i].raw_data(), many[i].raw_data(), one[i].nbytes()) == 0);
      }
    }
  }
}
