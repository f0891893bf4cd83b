#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/order_diagnostic.h"
#include "nn/linear.h"
#include "nn/sequential.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace order_diagnostic_test {

// ∇L(w) for L(w) = (1/n)‖X wᵀ − y‖² (the regression objective on f(x) = x wᵀ): (2/n)(X wᵀ − y)ᵀ X, [1, d].
Tensor grad_l(const Tensor& x, const Tensor& y, const Tensor& w) {
  return matmul(matmul(x, w, false, true) - y, x, true, false) * (2.0 / static_cast<double>(x.size(0)));
}

// g₁ and g₂ of one task after k steps, in closed form: the Hessian of the support loss is the
// constant H = (2/n) XᵀX, so g₂ = g₁ (I − αH)ᵏ.
std::pair<Tensor, Tensor> closed_form(const data::Task& t, const Tensor& w, double alpha, int steps) {
  Tensor w_i = w;
  for (int k = 0; k < steps; ++k) w_i = w_i - grad_l(t.support_x, t.support_y, w_i) * alpha;
  const Tensor first = grad_l(t.query_x, t.query_y, w_i);
  const std::int64_t d = w.size(1);
  const Tensor h = matmul(t.support_x, t.support_x, true, false) * (2.0 / static_cast<double>(t.support_x.size(0)));
  std::vector<double> identity(static_cast<std::size_t>(d * d), 0.0);
  for (std::int64_t i = 0; i < d; ++i) identity[static_cast<std::size_t>(i * d + i)] = 1.0;
  const Tensor factor = from_vector(identity, {d, d}) - h * alpha;
  Tensor second = first;
  for (int k = 0; k < steps; ++k) second = matmul(second, factor);
  return {second, first};
}

double dot(const Tensor& a, const Tensor& b) {
  double s = 0;
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}

MamlOptions linear_options(int steps, bool first_order, int threads) {
  return {.inner_lr = 0.05, .inner_steps = steps, .first_order = first_order, .meta_batch = 3, .threads = threads};
}

}  // namespace order_diagnostic_test

TEST_SUITE("maml") {
  TEST_CASE("the order diagnostic equals the closed form on linear regression") {
    using namespace order_diagnostic_test;
    Generator gen(11);
    nn::Sequential model;
    model.emplace<nn::Linear>(3, 1, gen, false);
    model.to(DType::F64);
    std::vector<data::Task> tasks;
    for (int i = 0; i < 3; ++i)
      tasks.push_back({randn({6, 3}, gen, DType::F64), randn({6, 1}, gen, DType::F64), randn({5, 3}, gen, DType::F64),
                       randn({5, 1}, gen, DType::F64)});
    for (const int steps : {1, 2}) {
      for (const bool trains_first_order : {false, true}) {  // the diagnostic ignores the training order
        CAPTURE(steps);
        CAPTURE(trains_first_order);
        const MamlOptions o = linear_options(steps, trains_first_order, 1);
        const Maml maml(model, regression(), o);
        const OrderComparison got = diagnose_order(maml, tasks);
        NoGradGuard off;
        Tensor second = zeros({1, 3}, DType::F64), first = zeros({1, 3}, DType::F64);
        for (const data::Task& t : tasks) {
          const auto [s, f] = closed_form(t, model.parameters()[0], o.inner_lr, steps);
          second = second + s * (1.0 / 3.0);
          first = first + f * (1.0 / 3.0);
        }
        const double n2 = std::sqrt(dot(second, second)), n1 = std::sqrt(dot(first, first));
        const Tensor diff = second - first;
        CHECK(got.second_norm == doctest::Approx(n2).epsilon(1e-12));
        CHECK(got.first_norm == doctest::Approx(n1).epsilon(1e-12));
        CHECK(got.cosine == doctest::Approx(dot(second, first) / (n1 * n2)).epsilon(1e-12));
        CHECK(got.hessian_share == doctest::Approx(std::sqrt(dot(diff, diff)) / n2).epsilon(1e-12));
        CHECK(got.hessian_share > 1e-3);  // the term is not negligible here: the check is not vacuous
        CHECK(got.cosine < 1.0 - 1e-6);
      }
    }
  }

  TEST_CASE("the order diagnostic does not depend on the thread count and updates nothing") {
    const std::vector<data::Task> tasks = test::sine_tasks(5);
    nn::Sequential model = test::tiny_mlp(7);
    const std::vector<Tensor> before = [&] {
      std::vector<Tensor> copy;
      for (const Tensor& p : model.parameters()) copy.push_back(p.clone());
      return copy;
    }();
    using order_diagnostic_test::linear_options;
    const OrderComparison one = diagnose_order(Maml(model, regression(), linear_options(2, false, 1)), tasks);
    const OrderComparison two = diagnose_order(Maml(model, regression(), linear_options(2, false, 2)), tasks);
    CHECK(one.cosine == two.cosine);
    CHECK(one.hessian_share == two.hessian_share);
    CHECK(test::bit_identical(model.parameters(), before));
    CHECK(one.cosine > 0.0);
    CHECK(one.cosine < 1.0);
  }

  TEST_CASE("compare_orders: zero gradients give NaN, bad inputs are refused") {
    const std::vector<Tensor> zero{zeros({2}, DType::F64)}, one{ones({2}, DType::F64)};
    const OrderComparison z = compare_orders(zero, one);
    CHECK(std::isnan(z.cosine));
    CHECK(std::isnan(z.hessian_share));
    CHECK(z.first_norm == doctest::Approx(std::sqrt(2.0)));
    const OrderComparison same = compare_orders(one, one);
    CHECK(same.cosine == doctest::Approx(1.0));
    CHECK(same.hessian_share == 0.0);
    const std::vector<Tensor> two{ones({2}, DType::F64), ones({1}, DType::F64)}, other{ones({3}, DType::F64)};
    CHECK_THROWS_WITH_AS(compare_orders(two, one), "compare orders: 2 second-order tensors, 1 first-order tensors",
                         ValueError);
    CHECK_THROWS_WITH_AS(compare_orders(other, one),
                         "compare orders: tensor 0: second order is [3], first order is [2]", ShapeError);
  }

  TEST_CASE("the order diagnostic refuses an empty batch and learned inner learning rates") {
    nn::Sequential model = test::tiny_mlp(7);
    MamlOptions o = order_diagnostic_test::linear_options(1, false, 1);
    CHECK_THROWS_WITH_AS(diagnose_order(Maml(model, regression(), o), {}),
                         "order diagnostic: a batch needs at least one task", ValueError);
    o.learn_inner_lr = true;
    CHECK_THROWS_WITH_AS(diagnose_order(Maml(model, regression(), o), test::sine_tasks(1)),
                         "order diagnostic: MAML learns its inner learning rates here; the diagnostic compares the "
                         "meta-gradients at one fixed inner learning rate",
                         ValueError);
  }
}
