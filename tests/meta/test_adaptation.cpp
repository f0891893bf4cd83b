#include <doctest/doctest.h>

#include <cmath>

#include "autograd/errors.h"
#include "autograd/ops.h"
#include "meta/adapt.h"
#include "meta/evaluate.h"
#include "meta/reptile.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace {
// L(w) = ½ Σ w², so ∇L = w: the hand-computed updates below need no network.
Tensor half_square(std::span<const Tensor> w) { return sum(w[0] * w[0]) * 0.5; }

// w after `steps` Adam steps (β2 0.999, ε 1e-8, no weight decay) on ½w², from w0;
// `v_out`, if given, receives the second moment.
double adam_by_hand(double w0, double lr, int steps, double beta1, double* v_out = nullptr) {
  double w = w0, m = 0.0, v = 0.0;
  for (int t = 1; t <= steps; ++t) {
    const double g = w;
    m = beta1 * m + (1.0 - beta1) * g;
    v = 0.999 * v + 0.001 * g * g;
    const double m_hat = m / (1.0 - std::pow(beta1, t)), v_hat = v / (1.0 - std::pow(0.999, t));
    w -= lr * m_hat / (std::sqrt(v_hat) + 1e-8);
  }
  if (v_out) *v_out = v;
  return w;
}
}  // namespace

TEST_SUITE("adaptation") {
  TEST_CASE("SGD: steps taken in pieces equal adapt() in one go, and theta is not written") {
    nn::Sequential model = test::tiny_mlp(5);
    const data::Task t = test::sine_tasks(1)[0];
    const std::vector<Tensor> theta = model.parameters();
    const std::vector<Tensor> before = {theta[0].clone(), theta[1].clone(), theta[2].clone(), theta[3].clone()};
    const SupportLoss loss = [&](std::span<const Tensor> w) {
      return regression().loss(model.forward(t.support_x, w), t.support_y);
    };
    Adaptation a(theta, {0.05, {}, InnerOptimizer::Sgd});
    a.run(loss, 2);
    a.run(loss, 0);
    a.run(loss, 1);
    const std::vector<Tensor> direct = adapt(loss, theta, {0.05, {}}, 3, AdaptMode::Detached);
    CHECK(test::bit_identical(a.weights(), direct));
    CHECK(test::bit_identical(theta, before));
  }

  TEST_CASE("Adam: matches the textbook update, keeps its moments between runs, leaves theta alone") {
    const Tensor theta = full({3}, 2.0, DType::F64).requires_grad_();
    for (const double beta1 : {0.9, 0.0}) {
      CAPTURE(beta1);
      Adaptation pieces({&theta, 1}, {0.1, {}, InnerOptimizer::Adam, beta1});
      pieces.run(half_square, 1);
      pieces.run(half_square, 2);
      for (std::int64_t e = 0; e < 3; ++e)
        CHECK(pieces.weights()[0].data<double>()[e] ==
              doctest::Approx(adam_by_hand(2.0, 0.1, 3, beta1)).epsilon(1e-12));
      // Restarting Adam after each step would give a different point: the state is kept.
      CHECK(adam_by_hand(2.0, 0.1, 3, beta1) != doctest::Approx(2.0 - 3 * 0.1).epsilon(1e-6));
    }
    CHECK(adam_by_hand(2.0, 0.1, 3, 0.9) != doctest::Approx(adam_by_hand(2.0, 0.1, 3, 0.0)).epsilon(1e-6));
    CHECK(theta.data<double>()[0] == 2.0);
  }

  TEST_CASE("Adam from a kept second moment and step count continues the textbook run") {
    // β1 = 0: Adam's state is v and t alone, so starting at step 2's point with step 2's v
    // and t = 2 must land on step 3, for one task and for each task of a stack.
    double v2 = 0, v3 = 0;
    const double w2 = adam_by_hand(2.0, 0.1, 2, 0.0, &v2), w3 = adam_by_hand(2.0, 0.1, 3, 0.0, &v3);
    InnerLrSetting rule{0.1, {}, InnerOptimizer::Adam, 0.0};
    rule.adam_step = 2;
    for (const Shape& shape : {Shape{3}, Shape{2, 3}}) {  // one task; a stack of two
      CAPTURE(shape.str());
      rule.adam_v = {full(shape, v2, DType::F64)};
      const Tensor theta = full(shape, w2, DType::F64).requires_grad_();
      Adaptation a({&theta, 1}, rule);
      REQUIRE(a.second_moments()[0].shape() == shape);
      CHECK(a.second_moments()[0].to_vector<double>() == std::vector<double>(static_cast<std::size_t>(shape.numel()), v2));
      a.run(half_square, 1);
      for (double w : a.weights()[0].to_vector<double>()) CHECK(w == doctest::Approx(w3).epsilon(1e-12));
      for (double v : a.second_moments()[0].to_vector<double>()) CHECK(v == doctest::Approx(v3).epsilon(1e-12));
    }
    // Without a kept state the moments start at zero.
    const Tensor theta = full({3}, 2.0, DType::F64).requires_grad_();
    const Adaptation fresh({&theta, 1}, {0.1, {}, InnerOptimizer::Adam, 0.0});
    CHECK(fresh.second_moments()[0].to_vector<double>() == std::vector<double>(3, 0.0));
  }

  TEST_CASE("bad rules are refused with the reason") {
    const Tensor theta = full({2}, 1.0, DType::F64).requires_grad_();
    const std::vector<Tensor> one_lr{full({}, 0.1, DType::F64)}, two_lrs{one_lr[0], one_lr[0]};
    CHECK_THROWS_WITH_AS(Adaptation({&theta, 1}, {0.1, one_lr, InnerOptimizer::Adam}),
                         doctest::Contains("adaptation: learned per-tensor inner learning rates work with SGD only"),
                         ValueError);
    CHECK_THROWS_WITH_AS(Adaptation({&theta, 1}, {0.1, two_lrs, InnerOptimizer::Sgd}),
                         doctest::Contains("adaptation: 2 learned inner learning rates for 1 parameter tensors"),
                         ValueError);
    Adaptation a({&theta, 1}, {0.1, {}, InnerOptimizer::Sgd});
    CHECK_THROWS_WITH_AS(a.run(half_square, -1),
                         doctest::Contains("adaptation: the number of inner steps must be >= 0, got -1"), ValueError);
    CHECK_THROWS_WITH_AS(a.second_moments(), doctest::Contains("adaptation: second moments exist for Adam only"),
                         ValueError);
    InnerLrSetting kept{0.1, {}, InnerOptimizer::Adam, 0.0};
    kept.adam_v = {theta, theta};
    CHECK_THROWS_WITH_AS(Adaptation({&theta, 1}, kept),
                         doctest::Contains("adaptation: 2 second-moment tensors for 1 parameter tensors"), ValueError);
    kept.adam_v = {full({3}, 1.0, DType::F64)};
    CHECK_THROWS_WITH_AS(Adaptation({&theta, 1}, kept),
                         doctest::Contains("adaptation: second moment 0 is [3], its weights are [2]"), ShapeError);
  }

  TEST_CASE("Reptile is tested with the inner optimizer it trained with") {
    nn::Sequential model = test::tiny_mlp(6);
    ReptileOptions o;
    o.inner_lr = 0.02;
    const Reptile adam(model, regression(), o);
    CHECK(adam.test_inner_lr().optimizer == InnerOptimizer::Adam);
    CHECK(adam.test_inner_lr().value == 0.02);
    CHECK(adam.test_inner_lr().adam_beta1 == 0.0);  // the reference code's inner Adam
    o.inner_optimizer = InnerOptimizer::Sgd;
    CHECK(Reptile(model, regression(), o).test_inner_lr().optimizer == InnerOptimizer::Sgd);

    // The evaluation follows the rule: Adam scores differ from SGD's at the same rate,
    // lower the error, and do not depend on stacking the tasks.
    const data::SinusoidTasks sines(data::SinusoidConfig{.k_shot = 10, .q_query = 10, .seed = 21});
    const test::F64Tasks source(sines);
    EvalOptions e;
    e.num_tasks = 6;
    e.inner_steps = 20;
    const EvalResult with_adam = evaluate(model, model.parameters(), regression(), adam.test_inner_lr(), source, e);
    const EvalResult with_sgd = evaluate(model, model.parameters(), regression(), {0.02, {}}, source, e);
    CHECK(with_adam.metric[1].mean < with_adam.metric[0].mean);
    CHECK(with_adam.metric[1].mean != doctest::Approx(with_sgd.metric[1].mean).epsilon(1e-6));
    e.tasks_per_stack = 1;
    const EvalResult one_by_one = evaluate(model, model.parameters(), regression(), adam.test_inner_lr(), source, e);
    CHECK(one_by_one.metric[1].mean == doctest::Approx(with_adam.metric[1].mean).epsilon(1e-10));
  }
}
