// Composites (autograd/composites.cpp): logsumexp, log_softmax, softmax,
// mse_loss, cross_entropy, vdot and dot, built from primitives with no backward of their own.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

Inputs logits_and_labels(std::int64_t n, std::int64_t c) {
  Inputs x = f64_leaves({{n, c}});
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < n; ++i) labels.push_back((3 * i + 1) % c);
  x.push_back(i64(labels, {n}));
  return x;
}

const int kCompositeCases = register_cases({
    {"softmax", "last axis", [](const Inputs& x) { return softmax(x[0]); }, [] { return f64_leaves({{3, 4}}); }},
    {"softmax", "axis 0 of 3-D", [](const Inputs& x) { return softmax(x[0], 0); },
     [] { return f64_leaves({{3, 2, 2}}); }},
    {"log_softmax", "last axis", [](const Inputs& x) { return log_softmax(x[0]); },
     [] { return f64_leaves({{3, 4}}); }},
    {"log_softmax", "axis 1 of 3-D", [](const Inputs& x) { return log_softmax(x[0], 1); },
     [] { return f64_leaves({{2, 3, 2}}); }},
    {"logsumexp", "axis 1", [](const Inputs& x) { return logsumexp(x[0], 1); }, [] { return f64_leaves({{3, 4}}); }},
    {"logsumexp", "axis 0 keepdim", [](const Inputs& x) { return logsumexp(x[0], 0, true); },
     [] { return f64_leaves({{3, 4}}); }},
    {"mse_loss", "both inputs", [](const Inputs& x) { return mse_loss(x[0], x[1]); },
     [] { return f64_leaves({{4, 3}, {4, 3}}); }},
    {"cross_entropy", "5 rows, 4 classes", [](const Inputs& x) { return cross_entropy(x[0], x[1]); },
     [] { return logits_and_labels(5, 4); }},
    {"vdot", "3x4 against 3x4", [](const Inputs& x) { return vdot(x[0], x[1]); },
     [] { return f64_leaves({{3, 4}, {3, 4}}); }},
    {"dot", "lists of a matrix and a vector", [](const Inputs& x) { return dot({x[0], x[1]}, {x[2], x[3]}); },
     [] { return f64_leaves({{2, 3}, {4}, {2, 3}, {4}}); }},
    {"dot", "a symbolic zero in the list", [](const Inputs& x) { return dot({x[0], Tensor{}}, {x[1], x[2]}); },
     [] { return f64_leaves({{5}, {5}, {2}}); }},
});

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("softmax rows are positive and sum to 1") {
    const Tensor x = f64_leaves({{4, 5}})[0].detach();
    const Tensor p = softmax(x);
    check_values(sum(p, {1}), {4}, {1, 1, 1, 1});
    for (double v : p.to_vector<double>()) CHECK(v > 0);
    check_values(sum(softmax(x, 0), {0}), {5}, {1, 1, 1, 1, 1});
    check_values(softmax(f64({0, std::log(3.0)}, {1, 2})), {1, 2}, {0.25, 0.75});
  }

  TEST_CASE("logsumexp and log_softmax are stable for large inputs") {
    const Tensor big = f64({1000, 1000, -1000, 1000}, {2, 2});
    check_values(logsumexp(big, 1), {2}, {1000 + std::log(2.0), 1000});
    check_values(logsumexp(big, 1, true), {2, 1}, {1000 + std::log(2.0), 1000});
    check_values(log_softmax(big), {2, 2}, {-std::log(2.0), -std::log(2.0), -2000, 0});
    check_values(softmax(f64({-1000, 1000}, {2})), {0, 1});
    // Infinite entries give the limits, not NaN.
    const double inf = std::numeric_limits<double>::infinity();
    const Tensor lse = logsumexp(f64({-inf, -inf, -inf, 0, inf, 1}, {3, 2}), 1);
    CHECK(lse.at({0}) == -inf);
    CHECK(lse.at({1}) == 0);
    CHECK(lse.at({2}) == inf);
    check_values(softmax(f64({-inf, 0, 0}, {3})), {0, 0.5, 0.5});
    // float32 overflows exp(89); the max shift keeps it finite.
    check_close(logsumexp(f32({100, 100}, {2}), 0), {100 + std::log(2.0)}, 1e-6);
  }

  TEST_CASE("softmax gradients are finite at large inputs") {
    TapeScope scope;
    Tensor x = f64({1000, 999, -1000}, {1, 3}).requires_grad_();
    const Tensor g = grad(sum(mul(log_softmax(x), f64({1, 0, 0}, {1, 3}))), x);
    const double e = std::exp(-1.0);
    check_values(g, {1 - 1 / (1 + e), -e / (1 + e), 0});
  }

  TEST_CASE("softmax of an empty batch is empty") {
    CHECK(softmax(zeros({0, 3})).shape() == Shape{0, 3});
    CHECK(log_softmax(zeros({0, 3}, DType::F64)).shape() == Shape{0, 3});
  }

  TEST_CASE("mse_loss and cross_entropy of known inputs") {
    check_values(mse_loss(f64({1, 2, 3, 4}, {2, 2}), f64({1, 0, 3, 0}, {2, 2})), Shape{}, {5});
    // Uniform logits: -log(1/3) for any label.
    check_values(cross_entropy(zeros({2, 3}, DType::F64), i64({0, 2}, {2})), Shape{}, {std::log(3.0)});
    const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    // Row 0 picks class 2 (logit 3), row 1 class 0 (logit 1).
    check_values(cross_entropy(f64({1, 2, 3, 1, 2, 3}, {2, 3}), i64({2, 0}, {2})), Shape{},
                 {((lse - 3) + (lse - 1)) / 2});
    check_close(cross_entropy(f32({1, 2, 3}, {1, 3}), i64({1}, {1})), {lse - 2}, 1e-6);
  }

  TEST_CASE("vdot and dot of known inputs") {
    check_values(vdot(f64({1, 2, 3, 4}, {2, 2}), f64({5, 6, 7, 8}, {2, 2})), Shape{}, {70});
    // 1*3 + 2*4 + 10*0.5 = 16
    check_values(dot({f64({1, 2}, {2}), f64({10}, {1, 1})}, {f64({3, 4}, {2}), f64({0.5}, {1, 1})}), Shape{}, {16});
    check_values(dot({f64({1, 2}, {2}), Tensor{}}, {f64({3, 4}, {2}), f64({7}, {1})}), Shape{}, {11});
    // Only symbolic zeros: a zero of the defined entries' dtype.
    const Tensor zero = dot({Tensor{}}, {f64({7}, {1})});
    CHECK(zero.dtype() == DType::F64);
    check_values(zero, Shape{}, {0});
    check_close(dot({f32({1, 2}, {2})}, {f32({3, 4}, {2})}), {11}, 1e-7);
  }

  TEST_CASE("dot of a gradient and a direction is a Hessian-vector product") {
    // f(w) = sum(w^3): H = diag(6 w), so H v = 6 w * v.
    TapeScope scope;
    Tensor w = f64({1, -2, 3}, {3}).requires_grad_();
    const Tensor v = f64({0.5, 1, -1}, {3});
    const std::vector<Tensor> g = grad({sum(w * w * w)}, {w}, {.create_graph = true});
    check_values(grad({dot(g, {v})}, {w})[0], {3}, {3, -12, -18});
  }

  TEST_CASE("vdot and dot errors") {
    CHECK_THROWS_WITH_AS(vdot(zeros({2, 3}), zeros({3, 2})), "vdot: shapes differ: a is [2, 3], b is [3, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(vdot(zeros({2}), zeros({2}, DType::F64)), "vdot: mixed dtypes: a is f32, b is f64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(vdot(zeros({2}, DType::I64), zeros({2}, DType::I64)), "vdot: dtype i64 is not supported",
                         DTypeError);
    CHECK_THROWS_WITH_AS(dot({zeros({2}), zeros({3})}, {zeros({2})}),
                         "dot: lists differ in length: a has 2 tensors, b has 1", ValueError);
    CHECK_THROWS_WITH_AS(dot({zeros({2}), zeros({3})}, {zeros({2}), zeros({1, 3})}),
                         "dot: shapes differ at position 1: a[1] is [3], b[1] is [1, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(dot({zeros({2})}, {zeros({2}, DType::F64)}),
                         "dot: mixed dtypes at position 0: a[0] is f32, b[0] is f64", DTypeError);
    CHECK_THROWS_WITH_AS(dot({Tensor{}}, {Tensor{}}), "dot: no defined tensor in lists of 1", ValueError);
    CHECK_THROWS_WITH_AS(dot({}, {}), "dot: no defined tensor in lists of 0", ValueError);
  }

  TEST_CASE("composites run in float32") {
    for (const char* op : {"softmax", "log_softmax", "logsumexp", "mse_loss", "cross_entropy", "vdot", "dot"}) {
      CAPTURE(op);
      check_f32_for_cases(op);
    }
  }

  TEST_CASE("composite errors") {
    CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), zeros({2})), "cross_entropy: labels must be i64, got f32",
                         DTypeError);
    CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 3}), i64({0, 1, 2}, {3})),
                         "cross_entropy: expected logits [N, C] and labels [N]: logits is [2, 3], labels is [3]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(cross_entropy(zeros({6}), i64({0}, {1})),
                         doctest::Contains("cross_entropy: expected logits [N, C] and labels [N]"), ShapeError);
    CHECK_THROWS_WITH_AS(cross_entropy(zeros({1, 3}), i64({3}, {1})),
                         doctest::Contains("gather: index 3 is out of range [0, 3)"), ShapeError);
    CHECK_THROWS_WITH_AS(mse_loss(zeros({2, 3}), zeros({3, 2})),
                         "mse_loss: shapes differ: pred is [2, 3], target is [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(logsumexp(zeros({2, 3}), 2), "logsumexp: axis 2 is out of range for a tensor of rank 2",
                         ShapeError);
    CHECK_THROWS_WITH_AS(log_softmax(zeros({2, 3}), 2), "log_softmax: axis 2 is out of range for a tensor of rank 2",
                         ShapeError);
    CHECK_THROWS_WITH_AS(softmax(zeros({2, 3}), -3), "softmax: axis -3 is out of range for a tensor of rank 2",
                         ShapeError);
  }
}
