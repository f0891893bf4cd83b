// The shipped gradient checks (autograd/check.h) must pass correct gradients
// and catch wrong ones. Wrong gradients need no custom op: detach() hides part
// of a function from the tape, so the tape's derivative misses a term that
// finite differences see (or sees one that they do not).
#include <doctest/doctest.h>

#include "autograd/check.h"
#include "autograd/errors.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

// x * stop_gradient(x): the value is x^2 but the tape's derivative is x, not 2x.
Tensor half_square(const Inputs& x) { return x[0] * x[0].detach(); }

// a + b * stop_gradient(b): right for a, wrong for b.
Tensor wrong_in_b(const Inputs& x) { return x[0] + x[1] * x[1].detach(); }

// tanh(x) + (x - stop_gradient(x))^2: value and first derivative are tanh's (the
// extra term and its slope are 0 everywhere), but the tape sees a curvature of 2.
Tensor hidden_curvature(const Inputs& x) {
  const Tensor d = x[0] - x[0].detach();
  return tanh(x[0]) + d * d;
}

CheckOptions named(const char* name) {
  CheckOptions o;
  o.name = name;
  return o;
}

}  // namespace

TEST_SUITE("check") {
  TEST_CASE("correct gradients pass both checks") {
    const CheckedFunction f = [](const Inputs& x) { return tanh(matmul(x[0], x[1])) * x[2]; };
    const Inputs in = f64_leaves({{2, 3}, {3, 4}, {4}});
    const CheckResult first = gradcheck(f, in);
    CHECK_MESSAGE(first.ok, first.message);
    CHECK(first.message.empty());
    CHECK(first.max_abs_error < 1e-7);
    const CheckResult second = gradgradcheck(f, in);
    CHECK_MESSAGE(second.ok, second.message);
  }

  TEST_CASE("a function linear in its inputs passes gradgradcheck: its second derivative is zero") {
    const CheckedFunction f = [](const Inputs& x) { return reshape(x[0], {6}) + x[1] * 2.0; };
    const CheckResult r = gradgradcheck(f, f64_leaves({{2, 3}, {6}}));
    CHECK_MESSAGE(r.ok, r.message);
    CHECK(r.max_abs_error < 1e-7);
    // ... and a wrong zero is still caught when the true second derivative is not zero.
    const CheckResult bad = gradgradcheck([](const Inputs& x) { return x[0] * x[0].detach() * 2.0; }, f64_leaves({{3}}));
    CHECK_FALSE(bad.ok);
  }

  TEST_CASE("gradcheck fails on a wrong gradient and names the input and element") {
    const CheckResult r = gradcheck(half_square, uniform_leaves({{3}}, 0.5, 1.5), named("half_square"));
    CHECK_FALSE(r.ok);
    CHECK_MESSAGE(r.message.starts_with("gradcheck: half_square: input 0, element 0: numeric"), r.message);
    CHECK(r.max_abs_error > 0.1);

    const CheckResult rb = gradcheck(wrong_in_b, uniform_leaves({{2}, {2}}, 0.5, 1.5), named("wrong_in_b"));
    CHECK_FALSE(rb.ok);
    CHECK_MESSAGE(rb.message.starts_with("gradcheck: wrong_in_b: input 1, element 0: numeric"), rb.message);
  }

  TEST_CASE("only inputs that require grad are checked") {
    Inputs in = uniform_leaves({{2}, {2}}, 0.5, 1.5);
    in[1] = in[1].detach();  // b, whose gradient is wrong, is now a constant
    const CheckResult r = gradcheck(wrong_in_b, in);
    CHECK_MESSAGE(r.ok, r.message);
  }

  TEST_CASE("gradgradcheck catches a wrong second derivative that gradcheck cannot see") {
    const Inputs in = f64_leaves({{4}});
    const CheckResult first = gradcheck(hidden_curvature, in);
    CHECK_MESSAGE(first.ok, first.message);
    const CheckResult second = gradgradcheck(hidden_curvature, in, named("hidden_curvature"));
    CHECK_FALSE(second.ok);
    CHECK_MESSAGE(second.message.starts_with("gradgradcheck: hidden_curvature: input 0, element 0"), second.message);
  }

  TEST_CASE("tolerances are options") {
    CheckOptions loose;
    loose.atol = 100;
    CHECK(gradcheck(half_square, uniform_leaves({{3}}, 0.5, 1.5), loose).ok);
  }

  TEST_CASE("int64 inputs pass through unchanged") {
    const CheckedFunction f = [](const Inputs& x) { return index_select(x[0], 0, x[1]); };
    const CheckResult r = gradcheck(f, {f64_leaves({{3, 2}})[0], i64({2, 2, 0}, {3})});
    CHECK_MESSAGE(r.ok, r.message);
  }

  TEST_CASE("check errors") {
    const CheckedFunction id = [](const Inputs& x) { return x[0] * 2.0; };
    CHECK_THROWS_WITH_AS(gradcheck(id, {ones({2}).requires_grad_()}),
                         "gradcheck: input 0 is f32; checks need f64 inputs (use .to(DType::F64))", DTypeError);
    CHECK_THROWS_WITH_AS(gradgradcheck(id, {ones({2}, DType::F64).requires_grad_(), ones({2})}),
                         doctest::Contains("gradgradcheck: input 1 is f32"), DTypeError);
    CHECK_THROWS_WITH_AS(gradcheck(id, {ones({2}, DType::F64)}), doctest::Contains("gradcheck: no input requires grad"),
                         GradError);
    const CheckedFunction to_f32 = [](const Inputs& x) { return x[0].to(DType::F32); };
    CHECK_THROWS_WITH_AS(gradcheck(to_f32, {ones({2}, DType::F64).requires_grad_()}, named("to_f32")),
                         "gradcheck: to_f32 must return a defined f64 tensor", DTypeError);
  }
}
