// The per-channel primitives (autograd/ops_channel.cpp): gradcheck and
// gradgradcheck cases for the op table, forward values against sums written out
// by hand, every error message, and batch_norm built on them against the
// elementwise composite it replaced (values, gradients and second derivatives).
#include <doctest/doctest.h>

#include "autograd/channel.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/vision.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

MG_OP_CASE("channel_affine", "[N, C, H, W]",
           [](const Inputs& x) { return channel_affine(x[0], x[1], x[2]); },
           [] { return f64_leaves({{3, 2, 2, 3}, {2}, {2}}); });
MG_OP_CASE("channel_affine", "[N, C], no shift", [](const Inputs& x) { return channel_affine(x[0], x[1]); },
           [] { return f64_leaves({{4, 3}, {3}}); });
MG_OP_CASE("channel_dot", "[N, C, H, W]", [](const Inputs& x) { return channel_dot(x[0], x[1]); },
           [] { return f64_leaves({{2, 3, 2, 2}, {2, 3, 2, 2}}); });
MG_OP_CASE("channel_dot", "a with itself", [](const Inputs& x) { return channel_dot(x[0], x[0]); },
           [] { return f64_leaves({{3, 2, 5}}); });
MG_OP_CASE("channel_sum", "[N, C, H, W]", [](const Inputs& x) { return channel_sum(x[0]); },
           [] { return f64_leaves({{2, 3, 2, 2}}); });
MG_OP_CASE("channel_moments", "[N, C, H, W]", [](const Inputs& x) { return channel_moments(x[0]); },
           [] { return f64_leaves({{3, 2, 2, 2}}); });
MG_OP_CASE("channel_moments", "[N, C]", [](const Inputs& x) { return channel_moments(x[0]); },
           [] { return f64_leaves({{5, 3}}); });

MG_OP_CASE("channel_affine2", "[N, C, H, W]",
           [](const Inputs& x) { return channel_affine2(x[0], x[1], x[2], x[3], x[4]); },
           [] { return f64_leaves({{3, 2, 2, 3}, {2}, {3, 2, 2, 3}, {2}, {2}}); });
MG_OP_CASE("channel_affine2", "u and v the same tensor, [N, C]",
           [](const Inputs& x) { return channel_affine2(x[0], x[1], x[0], x[2], x[3]); },
           [] { return f64_leaves({{4, 3}, {3}, {3}, {3}}); });
MG_OP_CASE("channel_normalize", "[N, C, H, W]", [](const Inputs& x) { return channel_normalize(x[0], x[1], x[2], 1e-3); },
           [] { return f64_leaves({{3, 2, 2, 2}, {2}, {2}}); });
MG_OP_CASE("channel_normalize", "[N, C], eps 0", [](const Inputs& x) { return channel_normalize(x[0], x[1], x[2], 0.0); },
           [] { return f64_leaves({{5, 3}, {3}, {3}}); });

// The batch norm of sessions 1-4: elementwise ops and reductions only.
Tensor composite_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const std::vector<int> axes = x.ndim() == 4 ? std::vector<int>{0, 2, 3} : std::vector<int>{0};
  const Shape cs = x.ndim() == 4 ? Shape{1, x.shape()[1], 1, 1} : Shape{1, x.shape()[1]};
  const Tensor centered = x - mean(x, axes, true);
  const Tensor var = mean(centered * centered, axes, true);
  Tensor y = centered * pow(var + eps, -0.5);
  if (weight.defined()) y = y * reshape(weight, cs);
  return bias.defined() ? y + reshape(bias, cs) : y;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> va = a.to(DType::F64).to_vector<double>(), vb = b.to(DType::F64).to_vector<double>();
  double m = 0.0;
  for (std::size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

// f(x) and its first and second derivatives along fixed directions, for a batch-norm form.
std::vector<Tensor> derivatives(Tensor (*bn)(const Tensor&, const Tensor&, const Tensor&, double), const Inputs& in) {
  TapeScope scope;
  const Tensor y = bn(in[0], in[1], in[2], 1e-5);
  Generator gen(3);
  const Tensor v = randn(y.shape(), gen, DType::F64);
  const Tensor loss = sum(y * y * v);  // not linear in y, so the second derivative is not trivial
  const std::vector<Tensor> g = grad({loss}, in, {.create_graph = true});
  Tensor gv = sum(g[0] * g[0]) + sum(g[1] * g[2]);
  const std::vector<Tensor> gg = grad({gv}, in);
  std::vector<Tensor> out = {y.detach(), g[0].detach(), g[1].detach(), g[2].detach()};
  for (const Tensor& t : gg) out.push_back(t.detach());
  return out;
}

Tensor fused_bn(const Tensor& x, const Tensor& w, const Tensor& b, double eps) { return batch_norm(x, w, b, eps); }

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("channel primitives compute the per-channel sums written out") {
    // x [2, 2, 3]: channel 0 holds 1..3 and 7..9, channel 1 holds 4..6 and 10..12.
    const Tensor x = f64({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 3});
    const Tensor y = f64({1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4}, {2, 2, 3});
    CHECK(channel_sum(x).to_vector<double>() == std::vector<double>{30, 48});
    CHECK(channel_dot(x, y).to_vector<double>() == std::vector<double>{6 + 24 * 3, 30 + 33 * 4});
    const std::vector<double> m = channel_moments(x).to_vector<double>();
    CHECK(m[0] == doctest::Approx(5.0));
    CHECK(m[1] == doctest::Approx(8.0));
    CHECK(m[2] == doctest::Approx((16 + 9 + 4 + 4 + 9 + 16) / 6.0));  // deviations of 1,2,3,7,8,9 from 5
    CHECK(m[3] == doctest::Approx((16 + 9 + 4 + 4 + 9 + 16) / 6.0));
    const std::vector<double> a = channel_affine(x, f64({2, -1}, {2}), f64({0.5, 1}, {2})).to_vector<double>();
    CHECK(a == std::vector<double>{2.5, 4.5, 6.5, -3, -4, -5, 14.5, 16.5, 18.5, -9, -10, -11});
    CHECK(channel_affine(x, f64({2, -1}, {2})).to_vector<double>()[3] == -4.0);
  }

  TEST_CASE("channel primitives agree in f32 and f64 on odd sizes") {
    Generator gen(5);
    for (const Shape& s : {Shape{3, 5}, Shape{2, 3, 7, 5}, Shape{5, 4, 1, 1}, Shape{1, 2, 33}}) {
      CAPTURE(s.str());
      const Tensor x = randn(s, gen, DType::F64), z = randn(s, gen, DType::F64);
      const Tensor sc = randn({s[1]}, gen, DType::F64), sh = randn({s[1]}, gen, DType::F64);
      CHECK(max_abs_diff(channel_moments(x.to(DType::F32)), channel_moments(x)) < 1e-5);
      CHECK(max_abs_diff(channel_sum(x.to(DType::F32)), channel_sum(x)) < 1e-4);
      CHECK(max_abs_diff(channel_dot(x.to(DType::F32), z.to(DType::F32)), channel_dot(x, z)) < 1e-4);
      CHECK(max_abs_diff(channel_affine(x.to(DType::F32), sc.to(DType::F32), sh.to(DType::F32)),
                         channel_affine(x, sc, sh)) < 1e-5);
      std::vector<int> not_channel = {0};
      for (int d = 2; d < s.ndim(); ++d) not_channel.push_back(d);
      CHECK(max_abs_diff(channel_sum(x), sum(x, not_channel)) < 1e-12);
    }
  }

  TEST_CASE("batch_norm matches the elementwise composite it replaced, to 1e-12, up to second derivatives") {
    for (const Shape& s : {Shape{4, 3, 3, 3}, Shape{6, 5}, Shape{2, 4, 1, 1}}) {
      CAPTURE(s.str());
      const Inputs in = f64_leaves({s, {s[1]}, {s[1]}}, 21);
      const std::vector<Tensor> fused = derivatives(fused_bn, in), composite = derivatives(composite_batch_norm, in);
      REQUIRE(fused.size() == composite.size());
      for (std::size_t i = 0; i < fused.size(); ++i) {
        CAPTURE(i);
        CHECK(max_abs_diff(fused[i], composite[i]) < 1e-12);
      }
    }
  }

  TEST_CASE("channel primitives: every error message") {
    const Tensor x = zeros({2, 3, 4, 4});
    CHECK_THROWS_WITH_AS(channel_sum(zeros({5})),
                         doctest::Contains("channel_sum: x must be [N, C, ...] (channels on axis 1): x is [5]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(channel_moments(zeros({5})), doctest::Contains("channel_moments: x must be [N, C, ...]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(channel_moments(zeros({0, 3})),
                         doctest::Contains("channel_moments: every channel needs a value: x is [0, 3]"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine(x, zeros({2}), zeros({3})),
                         doctest::Contains("channel_affine: scale must be [3] (one per channel): x is [2, 3, 4, 4], "
                                           "scale is [2]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine(x, zeros({3}), zeros({3, 1})),
                         doctest::Contains("channel_affine: shift must be [3] (one per channel)"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine(x, zeros({4})), doctest::Contains("channel_affine: scale must be [3]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(channel_dot(x, zeros({2, 3, 4})),
                         doctest::Contains("channel_dot: shapes differ: a is [2, 3, 4, 4], b is [2, 3, 4]"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine2(x, zeros({3}), zeros({2, 3, 4}), zeros({3}), zeros({3})),
                         doctest::Contains("channel_affine2: u and v must have one shape: u is [2, 3, 4, 4], v is [2, 3, 4]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine2(x, zeros({3}), x, zeros({2}), zeros({3})),
                         doctest::Contains("channel_affine2: t must be [3] (one per channel)"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine2(x, zeros({3}), x, zeros({3}), zeros({4})),
                         doctest::Contains("channel_affine2: b must be [3] (one per channel)"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_affine2(x, zeros({1}), x, zeros({3}), zeros({3})),
                         doctest::Contains("channel_affine2: s must be [3] (one per channel)"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_normalize(x, zeros({2}), zeros({3}), 1e-5),
                         doctest::Contains("channel_normalize: weight must be [3] (one per channel)"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_normalize(x, zeros({3}), zeros({}), 1e-5),
                         doctest::Contains("channel_normalize: bias must be [3] (one per channel)"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_normalize(zeros({0, 3}), zeros({3}), zeros({3}), 1e-5),
                         doctest::Contains("channel_normalize: every channel needs a value: x is [0, 3]"), ShapeError);
    CHECK_THROWS_WITH_AS(channel_normalize(x, zeros({3}), zeros({3}), -1.0),
                         doctest::Contains("channel_normalize: eps must be >= 0, got -1"), ValueError);
    CHECK_THROWS_WITH_AS(channel_normalize(zeros({3}), zeros({3}), zeros({3}), 1e-5),
                         doctest::Contains("channel_normalize: x must be [N, C, ...] (channels on axis 1): x is [3]"),
                         ShapeError);
    CHECK_THROWS_AS(channel_normalize(x, zeros({3}, DType::F64), zeros({3}), 1e-5), DTypeError);
    CHECK_THROWS_AS(channel_sum(zeros({2, 3}, DType::I64)), DTypeError);
    CHECK_THROWS_AS(channel_dot(x, x.to(DType::F64)), DTypeError);
  }
}
