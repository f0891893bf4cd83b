// TRPO's pieces (nn/trpo.h): Hessian-vector products against finite differences of the
// gradient (on a tiny Gaussian policy's KL), conjugate gradients, the step on problems
// whose answer is known, the line search, rejection, and every error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "nn/gaussian_policy.h"
#include "nn/trpo.h"

using namespace mg;
using namespace mg::nn;

namespace {

Tensor vec(const std::vector<double>& v) { return from_vector(v, Shape{static_cast<std::int64_t>(v.size())}); }

// The gradient of f at theta, detached.
std::vector<Tensor> gradient(const ParamFunction& f, std::span<const Tensor> theta) {
  std::vector<Tensor> at;
  for (const Tensor& t : theta) at.push_back(t.detach().requires_grad_());
  return grad({f(at)}, at);
}

// ½ (θ − θ0)ᵀ M (θ − θ0) for one 2-vector θ.
Tensor quadratic(const Tensor& theta, const Tensor& theta0, const Tensor& m) {
  const Tensor d = reshape(theta - theta0, {2, 1});
  return mul_scalar(sum(d * matmul(m, d)), 0.5);
}

}  // namespace

TEST_SUITE("nn_trpo") {
  TEST_CASE("Hessian-vector products of a policy's KL match central differences of its gradient") {
    Generator gen(1);
    GaussianPolicy policy(2, 2, {5}, gen, -0.2);
    policy.to(DType::F64);
    const Tensor s = randn({6, 2}, gen, DType::F64);
    const std::vector<Tensor> theta0 = policy.parameters();
    const Tensor old = policy.forward(s).detach();
    // Mean KL from the policy at θ0, moved away from θ0 so that the gradient is not 0.
    const ParamFunction kl = [&](std::span<const Tensor> th) {
      return mean(gaussian_kl(old, policy.forward(s, std::vector<Tensor>(th.begin(), th.end()))));
    };
    std::vector<Tensor> theta, v;
    for (const Tensor& t : theta0) {
      theta.push_back(t.detach() + randn(t.shape(), gen, DType::F64) * 0.1);
      v.push_back(randn(t.shape(), gen, DType::F64));
    }
    const std::vector<Tensor> hv = hessian_vector_product(kl, theta, v);
    const double eps = 1e-5;
    std::vector<Tensor> plus, minus;
    for (std::size_t j = 0; j < theta.size(); ++j) {
      plus.push_back(theta[j] + v[j] * eps);
      minus.push_back(theta[j] - v[j] * eps);
    }
    const std::vector<Tensor> gp = gradient(kl, plus), gm = gradient(kl, minus);
    REQUIRE(hv.size() == theta.size());
    for (std::size_t j = 0; j < theta.size(); ++j) {
      CHECK_FALSE(hv[j].requires_grad());
      const std::vector<double> got = hv[j].to_vector<double>();
      const std::vector<double> want = ((gp[j] - gm[j]) * (0.5 / eps)).to_vector<double>();
      for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-6).scale(1.0));
    }
  }

  TEST_CASE("conjugate gradients solve a symmetric positive-definite system") {
    const Tensor m = from_vector(std::vector<double>{4, 1, 0, 1, 3, 1, 0, 1, 2}, Shape{3, 3});
    const LinearMap a = [&](std::span<const Tensor> v) {
      return std::vector<Tensor>{reshape(matmul(m, reshape(v[0], {3, 1})), {3})};
    };
    const std::vector<Tensor> b{vec({1, 2, 3})};
    const std::vector<Tensor> x = conjugate_gradient(a, b, 10);
    const std::vector<double> ax = a(x)[0].to_vector<double>();
    for (int i = 0; i < 3; ++i) CHECK(ax[static_cast<std::size_t>(i)] == doctest::Approx(i + 1.0).epsilon(1e-10));
    // One iteration: the steepest-descent step along b.
    const std::vector<double> x1 = conjugate_gradient(a, b, 1)[0].to_vector<double>();
    const double alpha = 14.0 / (1 * 6 + 2 * 10 + 3 * 8);  // bᵀb / bᵀMb, Mb = (6, 10, 8)
    CHECK(x1[2] == doctest::Approx(3 * alpha));
  }

  TEST_CASE("a TRPO step on a linear loss goes to the trust region's edge along -F^-1 g") {
    const Tensor m = from_vector(std::vector<double>{2, 0.5, 0.5, 1}, Shape{2, 2});
    const Tensor theta0 = vec({0.3, -0.1});
    const Tensor c = vec({1.0, -2.0});
    const ParamFunction loss = [&](std::span<const Tensor> th) { return sum(th[0] * c); };
    const ParamFunction kl = [&](std::span<const Tensor> th) { return quadratic(th[0], theta0, m); };
    const TrpoStep s = trpo_step(std::vector<Tensor>{theta0}, loss, kl, {.max_kl = 0.01});
    REQUIRE(s.accepted);
    CHECK(s.backtracks == 0);
    CHECK(s.kl == doctest::Approx(0.01).epsilon(1e-4));
    CHECK(s.kl <= 0.01);
    CHECK(s.loss_after < s.loss_before);
    // The direction: M⁻¹(−c) = (1/1.75)·(−1·1 − 2·(−0.5)... ) computed as M (θ − θ0) ∝ −c.
    const std::vector<double> d = (s.theta[0] - theta0).to_vector<double>();
    const double md0 = 2 * d[0] + 0.5 * d[1], md1 = 0.5 * d[0] + 1 * d[1];
    CHECK(md0 / md1 == doctest::Approx(-1.0 / 2.0));
    CHECK(md0 < 0.0);
  }

  TEST_CASE("the line search shortens a step that overshoots, and rejects one that never helps") {
    const Tensor m = from_vector(std::vector<double>{1, 0, 0, 1}, Shape{2, 2});
    const Tensor theta0 = vec({0.0, 0.0});
    const ParamFunction kl = [&](std::span<const Tensor> th) { return quadratic(th[0], theta0, m); };
    // Loss −θ_0 + 40 θ_0²: the minimum at 1/80 = 0.0125, the trust region reaches ±0.141:
    // the full step overshoots to a higher loss, shorter ones (0.8^k of it) come back.
    const ParamFunction bowl = [&](std::span<const Tensor> th) {
      const Tensor x = slice(th[0], 0, 0, 1);
      return sum(mul_scalar(x, -1.0) + mul_scalar(x * x, 40.0));
    };
    const TrpoStep s = trpo_step(std::vector<Tensor>{theta0}, bowl, kl, {.max_kl = 0.01});
    REQUIRE(s.accepted);
    CHECK(s.backtracks > 0);
    CHECK(s.loss_after < 0.0);
    const TrpoStep none = trpo_step(std::vector<Tensor>{theta0}, bowl, kl, {.max_kl = 0.01, .max_backtracks = 0});
    CHECK_FALSE(none.accepted);
    CHECK(none.theta[0].to_vector<double>() == std::vector<double>{0.0, 0.0});
    CHECK(none.loss_after == none.loss_before);
  }

  TEST_CASE("bad options and functions are refused with a reason") {
    const Tensor theta0 = vec({0.1, 0.2});
    const std::vector<Tensor> theta{theta0};
    const ParamFunction loss = [](std::span<const Tensor> th) { return sum(th[0]); };
    const ParamFunction kl = [&](std::span<const Tensor> th) { return sum((th[0] - theta0) * (th[0] - theta0)); };
    CHECK_THROWS_WITH_AS(trpo_step(theta, loss, kl, {.max_kl = 0.0}), "trpo: max_kl must be > 0, got 0", ValueError);
    CHECK_THROWS_WITH_AS(trpo_step(theta, loss, kl, {.backtrack_ratio = 1.0}),
                         "trpo: backtrack_ratio must be in (0, 1), got 1", ValueError);
    CHECK_THROWS_WITH_AS(trpo_step(theta, loss, kl, {.cg_iterations = 0}), "trpo: cg_iterations must be >= 1, got 0",
                         ValueError);
    CHECK_THROWS_WITH_AS(trpo_step(theta, loss, kl, {.max_backtracks = -1}),
                         "trpo: max_backtracks must be >= 0, got -1", ValueError);
    const ParamFunction vector_loss = [](std::span<const Tensor> th) { return th[0] * 2.0; };
    CHECK_THROWS_WITH_AS(trpo_step(theta, vector_loss, kl), "trpo: the function must give a scalar, got [2]",
                         ShapeError);
    const ParamFunction nan_loss = [](std::span<const Tensor> th) {
      return sum(th[0]) * std::numeric_limits<double>::quiet_NaN();
    };
    CHECK_THROWS_WITH_AS(trpo_step(theta, nan_loss, kl), "trpo: the loss (nan) or its gradient is not finite",
                         ValueError);
    const ParamFunction flat = [](std::span<const Tensor> th) { return sum(th[0]) * 0.0; };
    CHECK_THROWS_WITH_AS(trpo_step(theta, loss, flat, {.damping = 0.0}),
                         "trpo: the step's curvature x·Fx is 0 (the KL's Hessian must be positive)", ValueError);
    CHECK_THROWS_WITH_AS(hessian_vector_product(kl, theta, std::vector<Tensor>{}),
                         "hessian_vector_product: 0 vectors for 1 parameters", ShapeError);
    CHECK_THROWS_WITH_AS(hessian_vector_product(kl, theta, std::vector<Tensor>{vec({1, 2, 3})}),
                         "hessian_vector_product: vector 0 is [3], parameter 0 is [2]", ShapeError);
    CHECK_THROWS_WITH_AS(hessian_vector_product(vector_loss, theta, theta),
                         "hessian_vector_product: the function must give a scalar, got [2]", ShapeError);
  }
}
