// Assignment 1's grader: softplus's backward, written with differentiable ops.
//
// The student's function becomes the backward of a custom op (autograd/custom_op.h)
// whose forward is softplus; the library's own checks then judge it: gradcheck for
// the first derivative, gradgradcheck for the second (which only a backward made of
// recorded ops can pass). Before them, direct calls find the typical mistakes so the
// feedback can name them: a wrong sign, an ignored upstream gradient, a detached
// formula, a formula that overflows for large x.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/custom_op.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "tools/course/grader/compare.h"
#include "tools/course/grader/grader.h"

namespace mg::course {
namespace {

// log(1 + e^x) = max(x, 0) + log(1 + e^−|x|): no overflow for large |x|.
Tensor softplus_forward(const Tensor& x) { return relu(x) + log(exp(-abs(x)) + 1.0); }

// The elementwise derivative by central differences of the forward: what a right
// backward returns for grad = 1.
Tensor numeric_derivative(const Tensor& x) {
  NoGradGuard no_grad;
  const double h = 1e-6;
  return (softplus_forward(x + h) - softplus_forward(x - h)) * (0.5 / h);
}

}  // namespace

Report grade_softplus_backward(SoftplusBackward backward) {
  Report r{"assignment 1: softplus backward", {}};
  Generator gen(11);
  const Tensor x = uniform({3, 4}, -3.0, 3.0, gen, DType::F64);
  const Tensor g = uniform({3, 4}, 0.5, 1.5, gen, DType::F64);
  const Tensor y = softplus_forward(x);
  const CustomUnary op{softplus_forward, backward};
  std::string error;

  Check shape{"shape", 1, false, ""};
  Tensor dx;
  if (runs([&] { dx = backward(x, y, g); }, error)) {
    shape.passed = dx.defined() && dx.shape() == x.shape() && dx.dtype() == x.dtype();
    shape.feedback = shape.passed ? "the gradient has x's shape and dtype"
                                  : fmt::format("the gradient must have x's shape {} and dtype; got {}",
                                                x.shape().str(), dx.defined() ? dx.shape().str() : "an empty tensor");
  } else {
    shape.feedback = error;
  }
  r.checks.push_back(shape);

  Check chain{"upstream gradient", 1, false, ""};
  if (shape.passed && runs([&] { chain.passed = close(backward(x, y, g * 2.0), dx * 2.0, 1e-10); }, error))
    chain.feedback = chain.passed ? "doubling grad doubles the result (chain rule)"
                                  : "doubling grad did not double your result: the chain rule multiplies the "
                                    "upstream gradient `grad` by the derivative";
  else
    chain.feedback = shape.passed ? error : "needs the shape check to pass";
  r.checks.push_back(chain);

  Check first{"gradcheck", 3, false, ""};
  const Tensor leaf = x.clone().requires_grad_();
  const CheckedFunction f = [&](const std::vector<Tensor>& in) { return custom_unary(in[0], op); };
  if (runs([&] { first.passed = gradcheck(f, {leaf}, {.name = "softplus"}).ok; }, error)) {
    if (first.passed) {
      first.feedback = "matches central finite differences";
    } else if (shape.passed && close(backward(x, y, ones_like(x)), -numeric_derivative(x), 1e-6)) {
      first.feedback = "the sign is wrong: softplus increases everywhere, so its derivative is positive";
    } else {
      first.feedback = gradcheck(f, {leaf}, {.name = "softplus"}).message +
                       "; hint: d/dx log(1 + e^x) = e^x / (1 + e^x), which ops.h has under another name";
    }
  } else {
    first.feedback = error;
  }
  r.checks.push_back(first);

  Check second{"gradgradcheck", 3, false, ""};
  if (!first.passed) {
    second.feedback = "needs gradcheck to pass first";
  } else if (runs([&] { second.passed = gradgradcheck(f, {leaf}, {.name = "softplus"}).ok; }, error) &&
             second.passed) {
    second.feedback = "the backward is differentiable: its second derivative matches finite differences";
  } else {
    // With x on the tape and a constant grad, a recorded formula's result is on the tape too.
    bool recorded = false;
    TapeScope scope;
    (void)runs([&] { recorded = backward(leaf, softplus_forward(leaf), g).requires_grad(); }, error);
    second.feedback = recorded ? "second derivative wrong: " + error
                               : "your backward is not recorded on the tape (a detach(), raw numbers or a "
                                 "NoGradGuard): create_graph cannot differentiate it again, so second-order "
                                 "MAML would get no curvature term; write it with differentiable ops only";
  }
  r.checks.push_back(second);

  Check stable{"large |x|", 2, false, ""};
  const Tensor big = from_vector(std::vector<double>{-800.0, -40.0, 40.0, 800.0}, {4});
  Tensor dbig;
  if (runs([&] { dbig = backward(big, softplus_forward(big), ones_like(big)); }, error)) {
    const bool finite = all_finite(std::span(&dbig, 1));
    stable.passed = finite && close(dbig, numeric_derivative(big), 1e-5);
    const std::string seen = fmt::format("at x = -800, -40, 40, 800 your backward gives {}",
                                         fmt::join(dbig.to_vector<double>(), ", "));
    stable.feedback = stable.passed ? "finite and right at x = ±40 and ±800"
                      : finite      ? seen + ", not the derivative there"
                                    : seen + ": e^x overflows for large x (e^800 is inf, inf/inf is nan); use an op "
                                             "that is stable there";
  } else {
    stable.feedback = error;
  }
  r.checks.push_back(stable);
  return r;
}

}  // namespace mg::course
