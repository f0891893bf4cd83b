// Elementwise unary ops (autograd/ops_unary.cpp). Inputs of the non-smooth ops
// (abs, relu, leaky_relu, clamp) stay well away from their kinks, and inputs of
// log, sqrt and fractional powers stay positive.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

using UnaryFn = std::function<Tensor(const Tensor&)>;

// One unary op: the op, the same function on a double, and where its inputs may lie.
struct UnaryRow {
  const char* op;
  const char* label;
  UnaryFn f;
  double (*ref)(double);
  enum Domain { Any, Positive, AwayFromZero, Grid } domain;
};

const std::vector<UnaryRow>& unary_rows() {
  static const std::vector<UnaryRow> rows = {
      {"neg", "", [](const Tensor& x) { return neg(x); }, [](double x) { return -x; }, UnaryRow::Any},
      {"add_scalar", "c = 2.5", [](const Tensor& x) { return add_scalar(x, 2.5); },
       [](double x) { return x + 2.5; }, UnaryRow::Any},
      {"mul_scalar", "c = -3", [](const Tensor& x) { return mul_scalar(x, -3.0); },
       [](double x) { return -3.0 * x; }, UnaryRow::Any},
      {"pow", "p = 2", [](const Tensor& x) { return pow(x, 2.0); }, [](double x) { return x * x; }, UnaryRow::Any},
      {"pow", "p = 3", [](const Tensor& x) { return pow(x, 3.0); }, [](double x) { return x * x * x; },
       UnaryRow::Any},
      {"pow", "p = 0.5", [](const Tensor& x) { return pow(x, 0.5); }, [](double x) { return std::sqrt(x); },
       UnaryRow::Positive},
      {"pow", "p = -1.5", [](const Tensor& x) { return pow(x, -1.5); },
       [](double x) { return std::pow(x, -1.5); }, UnaryRow::Positive},
      {"exp", "", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); }, UnaryRow::Any},
      {"log", "", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); }, UnaryRow::Positive},
      {"sqrt", "", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); },
       UnaryRow::Positive},
      {"abs", "", [](const Tensor& x) { return abs(x); }, [](double x) { return std::abs(x); },
       UnaryRow::AwayFromZero},
      {"tanh", "", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); }, UnaryRow::Any},
      {"sigmoid", "", [](const Tensor& x) { return sigmoid(x); },
       [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, UnaryRow::Any},
      {"relu", "", [](const Tensor& x) { return relu(x); }, [](double x) { return x > 0 ? x : 0.0; },
       UnaryRow::AwayFromZero},
      {"leaky_relu", "slope 0.2", [](const Tensor& x) { return leaky_relu(x, 0.2); },
       [](double x) { return x > 0 ? x : 0.2 * x; }, UnaryRow::AwayFromZero},
      {"leaky_relu", "default slope", [](const Tensor& x) { return leaky_relu(x); },
       [](double x) { return x > 0 ? x : 0.01 * x; }, UnaryRow::AwayFromZero},
      // The grid holds odd multiples of 0.15; the bounds are multiples of 0.3.
      {"clamp", "[-0.6, 0.9]", [](const Tensor& x) { return clamp(x, -0.6, 0.9); },
       [](double x) { return std::min(std::max(x, -0.6), 0.9); }, UnaryRow::Grid},
  };
  return rows;
}

Inputs inputs_for(UnaryRow::Domain d, const Shape& shape) {
  switch (d) {
    case UnaryRow::Positive: return uniform_leaves({shape}, 0.3, 2.0);
    case UnaryRow::AwayFromZero: return signed_leaves({shape});
    case UnaryRow::Grid: return distinct_leaves({shape});
    case UnaryRow::Any: break;
  }
  return f64_leaves({shape});
}

const int kUnaryCases = [] {
  std::vector<OpCase> cases;
  for (const UnaryRow& r : unary_rows()) {
    for (const Shape& shape : {Shape{}, Shape{3, 4}}) {
      const std::string label = std::string(r.label) + (shape.ndim() == 0 ? " rank 0" : " [3, 4]");
      cases.push_back({r.op, label, [f = r.f](const Inputs& x) { return f(x[0]); },
                       [d = r.domain, shape] { return inputs_for(d, shape); }});
    }
  }
  return register_cases(cases);
}();

// relu_grad(g, y): y kept away from 0, where the mask jumps.
MG_OP_CASE("relu_grad", "[3, 4]", [](const Inputs& x) { return relu_grad(x[0], x[1]); },
           [] { return Inputs{f64_leaves({{3, 4}})[0], signed_leaves({{3, 4}})[0]}; });

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("unary ops match their scalar functions in f64 and f32") {
    for (const UnaryRow& r : unary_rows()) {
      CAPTURE(r.op);
      CAPTURE(r.label);
      const Tensor x = inputs_for(r.domain, {2, 5})[0].detach();
      std::vector<double> want;
      for (double v : x.to_vector<double>()) want.push_back(r.ref(v));
      check_values(r.f(x), {2, 5}, want);
      check_f32_matches_f64([f = r.f](const Inputs& in) { return f(in[0]); }, {x});
    }
  }

  TEST_CASE("unary ops at hand-picked points") {
    const Tensor x = f64({-2, -0.5, 0.5, 3}, {4});
    check_values(relu(x), {0, 0, 0.5, 3});
    check_values(leaky_relu(x, 0.1), {-0.2, -0.05, 0.5, 3});
    check_values(clamp(x, -1, 1), {-1, -0.5, 0.5, 1});
    check_values(abs(x), {2, 0.5, 0.5, 3});
    check_values(sigmoid(f64({0}, {1})), {0.5});
    check_values(sigmoid(f64({-800, 800}, {2})), {0, 1});  // saturates without overflow or NaN
    check_values(tanh(f64({-40, 0, 40}, {3})), {-1, 0, 1});
    check_values(pow(f64({4, 9}, {2}), 0.5), {2, 3});
    check_close(sqrt(f32({16, 0.25f}, {2})), {4, 0.5}, 1e-7);
  }

  TEST_CASE("gradients of the kinked ops on each side of the kink") {
    TapeScope scope;
    Tensor x = f64({-2, -0.5, 0.5, 3}, {4}).requires_grad_();
    auto dx = [&](const Tensor& y) { return grad(sum(y), x); };
    check_values(dx(relu(x)), {0, 0, 1, 1});
    check_values(dx(leaky_relu(x, 0.1)), {0.1, 0.1, 1, 1});
    check_values(dx(abs(x)), {-1, -1, 1, 1});
    check_values(dx(clamp(x, -1, 1)), {0, 1, 1, 0});
    // x^0 is constant, even at 0 where the general formula p x^(p-1) is 0 * inf.
    Tensor z = f64({0, 2}, {2}).requires_grad_();
    check_values(grad(sum(pow(z, 0.0)), z), {0, 0});
    check_values(grad(sum(pow(z, 1.0)), z), {1, 1});
  }

  TEST_CASE("relu_grad passes g where y is positive, and is relu's backward to any order") {
    check_values(relu_grad(f64({1, 2, 3, 4}, {4}), f64({-1, 0, 0.5, 7}, {4})), {0, 0, 3, 4});
    check_close(relu_grad(f32({1, 2}, {2}), f32({0.5f, -0.5f}, {2})), {1, 0}, 1e-7);
    // d^2/dx^2 of sum(relu(x) * relu(x)) is 2 [x > 0], through relu_grad's own backward.
    TapeScope scope;
    Tensor x = f64({-2, -0.5, 0.5, 3}, {4}).requires_grad_();
    const Tensor g = grad(sum(relu(x) * relu(x)), x, {.create_graph = true});
    check_values(g, {0, 0, 1, 6});
    check_values(grad(sum(g), x), {0, 0, 2, 2});
    CHECK_THROWS_WITH_AS(relu_grad(zeros({2, 3}), zeros({3, 2})),
                         doctest::Contains("relu_grad: shapes differ: g is [2, 3], y is [3, 2]"), ShapeError);
    CHECK_THROWS_AS(relu_grad(zeros({2}), zeros({2}, DType::F64)), DTypeError);
  }

  TEST_CASE("unary op errors") {
    CHECK_THROWS_WITH_AS(clamp(zeros({2}), 1.0, -1.0), "clamp: lo must not exceed hi, got [1, -1]", ValueError);
    CHECK_THROWS_WITH_AS(exp(arange(3, DType::I64)), "exp: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(pow(arange(3, DType::I64), 2.0), "pow: dtype i64 is not supported", DTypeError);
    CHECK_THROWS_WITH_AS(relu(Tensor{}), doctest::Contains("relu: operand a is an undefined tensor"), ValueError);
  }
}
