// Optimizers against hand-computed updates (values worked out from the formulas
// in nn/sgd.h and nn/adam.h, θ0 = [1, -2], gradients [0.5, 1], [-1, 0.25],
// [0.2, 0.2]), their state round trip, and the learning-rate schedules.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>
#include <functional>
#include <memory>
#include <numbers>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "nn/adam.h"
#include "nn/lr_schedule.h"
#include "nn/sgd.h"

using namespace mg;
using namespace mg::nn;

namespace {

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

struct Case {
  const char* name;
  Factory make;
  std::array<std::array<double, 2>, 3> expected;  // θ after steps 1, 2, 3
};

template <class Opt, class Options>
Factory factory(Options o) {
  return [o](std::vector<Tensor> p) { return std::make_unique<Opt>(std::move(p), o); };
}

const std::vector<Case>& cases() {
  static const std::vector<Case> c = {
      {"sgd", factory<Sgd>(SgdOptions{.lr = 0.1}), {{{0.95, -2.1}, {1.05, -2.125}, {1.03, -2.145}}}},
      {"sgd momentum 0.9, dampening 0.1, weight decay 0.01",
       factory<Sgd>(SgdOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1, .weight_decay = 0.01}),
       {{{0.949, -2.098}, {0.9922459, -2.2068118}, {1.01227418869, -2.32075628938}}}},
      {"sgd nesterov 0.9", factory<Sgd>(SgdOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true}),
       {{{0.905, -2.19}, {1.0545, -2.3185}, {1.06105, -2.44965}}}},
      {"adam", factory<Adam>(AdamOptions{.lr = 0.1}),
       {{{0.900000002, -2.099999999},
         {0.93661035424056538, -2.1830597512277272},
         {0.95321210573711146, -2.2582667426223488}}}},
      {"adam L2 weight decay 0.1", factory<Adam>(AdamOptions{.lr = 0.1, .weight_decay = 0.1}),
       {{{0.9000000016666666, -2.09999999875},
         {0.92526351944560614, -2.1706400355765036},
         {0.92755587397437433, -2.2238706366698908}}}},
      {"adamw decoupled weight decay 0.1",
       factory<Adam>(AdamOptions{.lr = 0.1, .weight_decay = 0.1, .decoupled_weight_decay = true}),
       {{{0.890000002, -2.079999999},
         {0.91771035422056535, -2.1422597512377273},
         {0.92513500217490574, -2.1960441451199717}}}},
  };
  return c;
}

const std::vector<std::vector<double>> kGrads = {{0.5, 1.0}, {-1.0, 0.25}, {0.2, 0.2}};

Tensor vec(const std::vector<double>& v, DType dtype) { return from_vector(v, {2}).to(dtype); }

}  // namespace

TEST_SUITE("nn_optim") {
  TEST_CASE("optimizers reproduce the textbook updates (f64 exactly, f32 to float precision)") {
    for (const Case& c : cases()) {
      CAPTURE(c.name);
      for (DType dtype : {DType::F64, DType::F32}) {
        Tensor theta = vec({1.0, -2.0}, dtype).requires_grad_();
        auto opt = c.make({theta});
        const double tol = dtype == DType::F64 ? 1e-13 : 2e-7;
        for (std::size_t t = 0; t < 3; ++t) {
          const std::uint32_t version = theta.version();
          if (dtype == DType::F64) {
            opt->step({vec(kGrads[t], dtype)});
          } else {  // the .grad() path
            theta.set_grad(vec(kGrads[t], dtype));
            opt->step();
          }
          CHECK(theta.version() != version);
          CHECK(theta.is_leaf());
          CHECK(theta.at({0}) == doctest::Approx(c.expected[t][0]).epsilon(tol));
          CHECK(theta.at({1}) == doctest::Approx(c.expected[t][1]).epsilon(tol));
        }
      }
    }
  }

  TEST_CASE("an update after recording makes a backward that reads the old values fail loudly") {
    Tensor w = vec({1.0, 2.0}, DType::F64).requires_grad_();
    const TapeScope scope;
    const Tensor loss = sum(w * w);  // mul saves w for its backward
    Sgd opt({w}, {.lr = 0.1});
    opt.step({vec({1.0, 1.0}, DType::F64)});
    CHECK_THROWS_WITH_AS(grad(loss, w), doctest::Contains("mul: a tensor saved for backward was modified in place"),
                         GradError);
  }

  TEST_CASE("state() and load_state() resume an optimizer exactly") {
    for (const Case& c : cases()) {
      CAPTURE(c.name);
      Tensor a = vec({1.0, -2.0}, DType::F64).requires_grad_();
      auto first = c.make({a});
      first->step({vec(kGrads[0], DType::F64)});
      first->step({vec(kGrads[1], DType::F64)});
      const OptimizerState saved = first->state();
      CHECK(saved.kind == first->kind());
      Tensor b = a.clone().requires_grad_();
      auto second = c.make({b});
      second->load_state(saved);
      first->step({vec(kGrads[2], DType::F64)});
      second->step({vec(kGrads[2], DType::F64)});
      CHECK(a.to_vector<double>() == b.to_vector<double>());
      CHECK(b.at({0}) == doctest::Approx(c.expected[2][0]).epsilon(1e-13));
    }
  }

  TEST_CASE("parameters without a gradient are left alone and zero_grad clears gradients") {
    Tensor a = vec({1.0, 2.0}, DType::F64).requires_grad_(), b = vec({3.0, 4.0}, DType::F64).requires_grad_();
    Adam opt({a, b}, {.lr = 0.1});
    opt.step({vec({1.0, 1.0}, DType::F64), Tensor{}});
    CHECK(b.to_vector<double>() == std::vector<double>{3.0, 4.0});
    CHECK(a.at({0}) == doctest::Approx(0.9));
    a.set_grad(vec({1.0, 1.0}, DType::F64));
    opt.zero_grad();
    CHECK_FALSE(a.grad().defined());
    CHECK(opt.params().size() == 2);
    opt.set_lr(0.5);
    CHECK(opt.lr() == 0.5);
  }

  TEST_CASE("optimizer errors name the optimizer and what is wrong") {
    Tensor a = vec({1.0, 2.0}, DType::F64).requires_grad_();
    Sgd sgd({a}, {.lr = 0.1});
    CHECK_THROWS_WITH_AS(sgd.step({}), doctest::Contains("sgd: step got 0 gradients for 1 parameters"), ValueError);
    CHECK_THROWS_WITH_AS(sgd.step({zeros({3}, DType::F64)}),
                         doctest::Contains("sgd: gradient 0 does not fit its parameter: parameter is [2], gradient is [3]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(sgd.step({zeros({2})}), doctest::Contains("sgd: gradient 0 is f32, its parameter is f64"), DTypeError);
    CHECK_THROWS_WITH_AS(sgd.set_lr(-1.0), doctest::Contains("sgd: learning rate must be finite and non-negative, got -1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(Sgd({a}, {.momentum = -0.5}), doctest::Contains("sgd: momentum and weight decay must be non-negative"),
                         ValueError);
    CHECK_THROWS_WITH_AS(Sgd({a}, {.nesterov = true}), doctest::Contains("sgd: Nesterov momentum needs momentum > 0 and dampening 0"),
                         ValueError);
    CHECK_THROWS_WITH_AS(Sgd({Tensor{}}, {}), doctest::Contains("sgd: parameter 0 must be a floating leaf tensor"), ValueError);
    CHECK_THROWS_WITH_AS(Adam({a}, {.beta1 = 1.0}), doctest::Contains("adam: need 0 <= beta1, beta2 < 1, eps > 0"), ValueError);

    Adam adam({a}, {});
    adam.step({vec({1.0, 1.0}, DType::F64)});
    CHECK_THROWS_WITH_AS(sgd.load_state(adam.state()), doctest::Contains("sgd: cannot load the state of a 'adam' optimizer"),
                         ValueError);
    OptimizerState s = adam.state();
    s.tensors[0].tensor = zeros({5}, DType::F64);
    CHECK_THROWS_WITH_AS(adam.load_state(s), doctest::Contains("adam: state 'm.0' must be [2] f64, got [5] f64"), ShapeError);
    s = adam.state();
    s.tensors.push_back({"w.0", zeros({2}, DType::F64)});
    CHECK_THROWS_WITH_AS(adam.load_state(s), doctest::Contains("adam: unknown state entry 'w.0'"), ValueError);
    s = adam.state();
    s.scalars.emplace_back("beta9", 1.0);
    CHECK_THROWS_WITH_AS(adam.load_state(s), doctest::Contains("adam: unknown state entry 'beta9'"), ValueError);
  }

  TEST_CASE("a step count that is not a whole number in int64's range is refused, not converted") {
    // Found by tests/fuzz/fuzz_checkpoint: converting 2.4e265 to int64 was undefined behaviour.
    Tensor a = vec({1.0, 2.0}, DType::F64).requires_grad_();
    Adam adam({a}, {});
    const std::pair<double, const char*> bad[] = {
        {2.41834e265, "2.41834e+265"}, {1e300, "1e+300"},      {-1.0, "-1"},  {0.5, "0.5"},
        {std::nan(""), "nan"},         {INFINITY, "inf"},       {0x1p63, "9.223372036854776e+18"}};
    for (const auto& entry : bad) {
      const double value = entry.first;  // not a structured binding: CAPTURE's lambda takes it (clang 14)
      const char* const text = entry.second;
      CAPTURE(text);
      OptimizerState s = adam.state();
      s.scalars[1].second = value;  // "step.0"
      REQUIRE(s.scalars[1].first == "step.0");
      const std::string message = std::string("adam: state entry 'step.0' must be a whole number in [0, 2^63), got ") + text;
      CHECK_THROWS_WITH_AS(adam.load_state(s), doctest::Contains(message.c_str()), ValueError);
    }
    OptimizerState s = adam.state();
    s.scalars[1].second = 0x1p62;
    CHECK_NOTHROW(adam.load_state(s));
    CHECK(adam.state().scalars[1].second == 0x1p62);
  }

  TEST_CASE("step and cosine learning-rate schedules") {
    const StepLr step(0.1, 10, 0.5);
    CHECK(step.lr(0) == doctest::Approx(0.1));
    CHECK(step.lr(9) == doctest::Approx(0.1));
    CHECK(step.lr(10) == doctest::Approx(0.05));
    CHECK(step.lr(25) == doctest::Approx(0.025));
    const CosineLr cosine(1.0, 100, 0.1);
    CHECK(cosine.lr(0) == doctest::Approx(1.0));
    CHECK(cosine.lr(50) == doctest::Approx(0.55));
    CHECK(cosine.lr(25) == doctest::Approx(0.1 + 0.9 * (1 + std::cos(std::numbers::pi / 4)) / 2));
    CHECK(cosine.lr(100) == doctest::Approx(0.1));
    CHECK(cosine.lr(500) == doctest::Approx(0.1));
    Tensor a = zeros({1}).requires_grad_();
    Sgd opt({a}, {.lr = 1.0});
    step.apply(opt, 20);
    CHECK(opt.lr() == doctest::Approx(0.025));
    CHECK_THROWS_WITH_AS(StepLr(0.1, 0, 0.5), doctest::Contains("StepLr: need step_size > 0 and gamma >= 0, got 0 and 0.5"),
                         ValueError);
    CHECK_THROWS_WITH_AS(CosineLr(0.1, 0), doctest::Contains("CosineLr: need total_steps > 0, got 0"), ValueError);
  }

  TEST_CASE("Adam's typed state: second_moments, and restart_from as load_state of v and the step") {
    Tensor a = vec({1.0, -2.0}, DType::F64).requires_grad_();
    Adam first({a}, {.lr = 0.1, .beta1 = 0.0});
    CHECK(first.second_moments()[0].to_vector<double>() == std::vector<double>{0.0, 0.0});
    first.step({vec(kGrads[0], DType::F64)});
    first.step({vec(kGrads[1], DType::F64)});
    const std::vector<Tensor> v = first.second_moments();
    const OptimizerState saved = first.state();
    for (const NamedTensor& t : saved.tensors)
      if (t.name == "v.0") CHECK(t.tensor.to_vector<double>() == v[0].to_vector<double>());
    // A copy: later steps do not change it.
    first.step({vec(kGrads[2], DType::F64)});
    CHECK(first.second_moments()[0].to_vector<double>() != v[0].to_vector<double>());

    // Restarting from (v, 2) is loading v and step 2 with fresh first moments, bit for bit.
    Tensor b = vec({0.5, 0.25}, DType::F64).requires_grad_(), c = b.clone().requires_grad_();
    Adam loaded({b}, {.lr = 0.1, .beta1 = 0.0}), restarted({c}, {.lr = 0.1, .beta1 = 0.0});
    loaded.load_state({"adam", {{"v.0", v[0]}}, {{"step.0", 2.0}}});
    restarted.restart_from(v, 2);
    loaded.step({vec(kGrads[2], DType::F64)});
    restarted.step({vec(kGrads[2], DType::F64)});
    CHECK(b.to_vector<double>() == c.to_vector<double>());
    CHECK(loaded.second_moments()[0].to_vector<double>() == restarted.second_moments()[0].to_vector<double>());
  }

  TEST_CASE("Adam::restart_from: every error message") {
    Tensor a = vec({1.0, -2.0}, DType::F64).requires_grad_();
    Adam opt({a}, {});
    const Tensor v = vec({1.0, 1.0}, DType::F64);
    CHECK_THROWS_WITH_AS(opt.restart_from(std::vector<Tensor>{v, v}, 0),
                         doctest::Contains("adam: a restart needs one second moment per parameter and a step >= 0; "
                                           "got 2 for 1 parameters, step 0"),
                         ValueError);
    CHECK_THROWS_WITH_AS(opt.restart_from(std::vector<Tensor>{v}, -1),
                         doctest::Contains("got 1 for 1 parameters, step -1"), ValueError);
    CHECK_THROWS_WITH_AS(opt.restart_from(std::vector<Tensor>{from_vector(std::vector<double>{1, 1, 1}, {3})}, 0),
                         doctest::Contains("adam: second moment 0 must be [2] f64, got [3] f64"), ShapeError);
    CHECK_THROWS_WITH_AS(opt.restart_from(std::vector<Tensor>{vec({1.0, 1.0}, DType::F32)}, 0),
                         doctest::Contains("adam: second moment 0 must be [2] f64, got [2] f32"), ShapeError);
  }
}
