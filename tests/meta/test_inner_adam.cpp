#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

#include "autograd/anomaly.h"
#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/inner_adam.h"
#include "nn/adam.h"

using namespace mg;
using namespace mg::meta;

namespace inner_adam_test {

// Kingma & Ba's denominator sqrt(v̂) + ε: the formulation Note [Safe square root] replaces.
Tensor plain_adam_step(const Tensor& theta, const Tensor& g, const InnerAdamOptions& o) {
  const Tensor m = g * (1.0 - o.beta1), v = g * g * (1.0 - o.beta2);  // fresh moments, t = 1
  return theta - m * (o.lr / (1.0 - o.beta1)) / add_scalar(sqrt(v * (1.0 / (1.0 - o.beta2))), o.eps);
}

// L_s(θ) = ½ Σ w_j θ_j², w = (1, 2, 3): g = w ∘ θ, exactly 0 where θ_j = 0 (a weight
// initialised to zero), while ∂g_j/∂θ_j = w_j ≠ 0 keeps it on the path to θ.
Tensor support_loss(const Tensor& theta) {
  return sum(theta * theta * from_vector(std::vector<double>{1, 2, 3}, {3})) * 0.5;
}

Tensor query_loss(const Tensor& theta_i) {
  const Tensor d = theta_i - from_vector(std::vector<double>{0.5, -1.0, 2.0}, {3});
  return sum(d * d);
}

std::vector<Tensor> list(const Tensor& t) { return {t}; }

Tensor theta0() { return from_vector(std::vector<double>{0.3, -0.7, 0.0}, {3}).requires_grad_(); }

}  // namespace inner_adam_test

TEST_SUITE("inner_adam") {
  TEST_CASE("a zero gradient element: the meta-gradient through sqrt(v̂) + ε is NaN, through sqrt(v̂ + ε²) finite") {
    const InnerAdamOptions o{.lr = 0.1};
    TapeScope scope;
    const Tensor theta = inner_adam_test::theta0();
    const Tensor g = grad({inner_adam_test::support_loss(theta)}, {theta}, {.create_graph = true})[0];
    REQUIRE(g.data<double>()[2] == 0.0);
    // Before: d sqrt(v)/dv = ∞ at v = 0, times dv/dg = 0.
    const Tensor before =
        grad({inner_adam_test::query_loss(inner_adam_test::plain_adam_step(theta, g, o))}, {theta})[0];
    CHECK_FALSE(all_finite(before));
    CHECK(std::isnan(before.data<double>()[2]));
    // After.
    InnerAdamState state;
    const std::vector<Tensor> theta_i =
        inner_adam_step(inner_adam_test::list(theta), inner_adam_test::list(g), state, o);
    const Tensor after = grad({inner_adam_test::query_loss(theta_i[0])}, {theta})[0];
    CHECK(all_finite(after));
    // At t = 1, θ' = θ − lr·g / sqrt(g² + ε²) with g_2 = 3θ_2 = 0: θ'_2 = 0 and
    // dθ'_2/dθ_2 = 1 − lr·3/ε, so ∂L_q/∂θ_2 = 2(0 − 2)(1 − 3·lr/ε): large, but finite and exact.
    CHECK(after.data<double>()[2] == doctest::Approx(2 * (0.0 - 2.0) * (1 - 3 * 0.1 / o.eps)).epsilon(1e-9));
    CHECK(state.step == 1);
  }

  TEST_CASE("second-order adapt_adam: the meta-gradient matches finite differences with a zero gradient element") {
    // ε = 0.1 keeps the update smooth on the finite-difference scale.
    const InnerAdamOptions o{.lr = 0.1, .eps = 0.1};
    auto objective = [&](const Tensor& theta) {
      TapeScope scope;
      const Tensor t = theta.detach().requires_grad_();
      const std::vector<Tensor> theta_i =
          adapt_adam([](std::span<const Tensor> p) { return inner_adam_test::support_loss(p[0]); },
                     inner_adam_test::list(t), o, 2, AdaptMode::FirstOrder);
      return inner_adam_test::query_loss(theta_i[0]).item();
    };
    TapeScope scope;
    const Tensor theta = inner_adam_test::theta0();
    const std::vector<Tensor> theta_i =
        adapt_adam([](std::span<const Tensor> p) { return inner_adam_test::support_loss(p[0]); },
                   inner_adam_test::list(theta), o, 2, AdaptMode::SecondOrder);
    const Tensor g = grad({inner_adam_test::query_loss(theta_i[0])}, {theta})[0];
    const double h = 1e-6;
    for (std::int64_t e = 0; e < 3; ++e) {
      Tensor p = theta.detach().clone();
      p.mutable_data<double>()[e] += h;
      const double up = objective(p);
      p.mutable_data<double>()[e] -= 2 * h;
      const double down = objective(p);
      CHECK(g.data<double>()[e] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6));
    }
    // First order treats the inner gradients as constants: the curvature term is gone.
    const std::vector<Tensor> fo =
        adapt_adam([](std::span<const Tensor> p) { return inner_adam_test::support_loss(p[0]); },
                   inner_adam_test::list(theta), o, 2, AdaptMode::FirstOrder);
    const Tensor g_fo = grad({inner_adam_test::query_loss(fo[0])}, {theta})[0];
    CHECK(std::abs(g_fo.data<double>()[0] - g.data<double>()[0]) > 1e-3);
  }

  TEST_CASE("gradcheck and gradgradcheck of the Adam step at a zero gradient; the plain form fails them") {
    const InnerAdamOptions o{.lr = 0.1, .eps = 0.1};
    const Tensor theta = from_vector(std::vector<double>{0.3, -0.7, 1.1}, {3}).requires_grad_();
    const Tensor g = from_vector(std::vector<double>{0.4, 0.0, -0.2}, {3}).requires_grad_();
    // Two steps, the second with the gradient halved: the moments carry the zero through.
    const CheckedFunction safe = [&](const std::vector<Tensor>& x) {
      InnerAdamState state;
      const std::vector<Tensor> once =
          inner_adam_step(inner_adam_test::list(x[0]), inner_adam_test::list(x[1]), state, o);
      return inner_adam_step(once, inner_adam_test::list(x[1] * 0.5), state, o)[0];
    };
    const CheckResult first = gradcheck(safe, {theta, g}, {.name = "inner adam"});
    CHECK_MESSAGE(first.ok, first.message);
    const CheckResult second = gradgradcheck(safe, {theta, g}, {.name = "inner adam"});
    CHECK_MESSAGE(second.ok, second.message);
    const CheckedFunction plain = [&](const std::vector<Tensor>& x) {
      return inner_adam_test::plain_adam_step(x[0], x[1], o);
    };
    CHECK_FALSE(gradcheck(plain, {theta, g}).ok);
    // safe_sqrt itself: finite derivatives of the first two orders at 0.
    const Tensor zero = zeros({2}, DType::F64).requires_grad_();
    CHECK(gradgradcheck([](const std::vector<Tensor>& x) { return safe_sqrt(x[0], 0.5); },
                        {add_scalar(zero.detach(), 0.0).requires_grad_()})
              .ok);
  }

  TEST_CASE("where v̂ ≫ ε² a step is nn::Adam's step") {
    // ε = 1e-12 on both sides: the two denominators then differ by less than 1e-12.
    const InnerAdamOptions o{.lr = 0.05, .eps = 1e-12};
    Tensor theta = from_vector(std::vector<double>{0.3, -0.7, 1.1}, {3}).requires_grad_();
    const std::vector<Tensor> grads{from_vector(std::vector<double>{0.4, -1.5, 0.2}, {3}),
                                    from_vector(std::vector<double>{-0.3, 0.9, 0.6}, {3})};
    InnerAdamState state;
    std::vector<Tensor> mine{theta};
    {
      NoGradGuard off;
      for (const Tensor& g : grads) mine = inner_adam_step(mine, inner_adam_test::list(g), state, o);
    }
    Tensor reference = theta.detach().clone().requires_grad_();
    nn::Adam adam({reference}, nn::AdamOptions{.lr = 0.05, .eps = 1e-12});
    for (const Tensor& g : grads) adam.step({g});
    for (std::int64_t e = 0; e < 3; ++e)
      CHECK(mine[0].data<double>()[e] == doctest::Approx(reference.data<double>()[e]).epsilon(1e-10));
  }

  TEST_CASE("bad settings are refused") {
    const Tensor theta = inner_adam_test::theta0();
    InnerAdamState state;
    CHECK_THROWS_WITH_AS(inner_adam_step(inner_adam_test::list(theta), {}, state, {}),
                         doctest::Contains("inner adam: 0 gradients for 1 parameter tensors"), ValueError);
    CHECK_THROWS_WITH_AS(
        inner_adam_step(inner_adam_test::list(theta), inner_adam_test::list(theta), state, {.beta2 = 1.0}),
        doctest::Contains("inner adam: need 0 <= beta1, beta2 < 1, eps > 0 and a finite lr; got "
                          "beta1 0.9, beta2 1, eps 1e-08, lr 0.001"),
        ValueError);
    const SupportLoss loss = [](std::span<const Tensor> p) { return inner_adam_test::support_loss(p[0]); };
    CHECK_THROWS_WITH_AS(adapt_adam(loss, inner_adam_test::list(theta), {}, 1, AdaptMode::Detached),
                         doctest::Contains("adapt_adam: a detached inner Adam is Adaptation's (meta/adapt.h), not a "
                                           "differentiable loop"),
                         ValueError);
    CHECK_THROWS_WITH_AS(adapt_adam(loss, inner_adam_test::list(theta), {}, -1, AdaptMode::SecondOrder),
                         doctest::Contains("adapt_adam: the number of inner steps must be >= 0, got -1"), ValueError);
  }
}
