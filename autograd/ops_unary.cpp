// Elementwise unary ops. Where the derivative is cheaper from the result
// (exp, sqrt, tanh, sigmoid, relu) the node saves the result, not the input.
#include "autograd/kernels/elementwise.h"
#include "autograd/kernels/relu_grad.h"
#include "autograd/op_common.h"

namespace mg {
namespace {
using detail::RangeAttrs;
using detail::ScalarAttrs;
using detail::UnaryOp;
using kernels::Unary;

// neg(x) -> -x
//   x: -grad
struct Neg : UnaryOp<OpId::Neg> {
  static constexpr Save save = Save::Nothing;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Neg, x); }
  static Grads backward(const Saved&, const Tensor& grad) { return {neg(grad)}; }
};

// add_scalar(x, c) -> x + c
//   x: grad
struct AddScalar : UnaryOp<OpId::AddScalar> {
  using Attrs = ScalarAttrs;
  static constexpr Save save = Save::Nothing;
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::unary(Unary::AddScalar, x, a.c); }
  static Grads backward(const Saved&, const Tensor& grad) { return {grad}; }
};

// mul_scalar(x, c) -> c * x
//   x: c * grad
struct MulScalar : UnaryOp<OpId::MulScalar> {
  using Attrs = ScalarAttrs;
  static constexpr Save save = Save::Nothing;
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::unary(Unary::MulScalar, x, a.c); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {mul_scalar(grad, s.attrs<Attrs>().c)}; }
};

// pow(x, p) -> x^p
//   x: grad * p * x^(p-1)
struct Pow : UnaryOp<OpId::Pow> {
  using Attrs = ScalarAttrs;
  static constexpr Save save = Save::Inputs;
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::unary(Unary::Pow, x, a.c); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const double p = s.attrs<Attrs>().c;
    if (p == 0.0) return {mul_scalar(grad, 0.0)};  // x^0 is constant; 0 * x^-1 would be NaN at x = 0
    const Tensor dx = p == 2.0 ? mul_scalar(s.input(0), 2.0) : mul_scalar(pow(s.input(0), p - 1.0), p);
    return {grad * dx};
  }
};

// exp(x) -> e^x
//   x: grad * result
struct Exp : UnaryOp<OpId::Exp> {
  static constexpr Save save = Save::Output;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Exp, x); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {grad * s.output()}; }
};

// log(x) -> ln x
//   x: grad / x
struct Log : UnaryOp<OpId::Log> {
  static constexpr Save save = Save::Inputs;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Log, x); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {grad / s.input(0)}; }
};

// sqrt(x) -> x^(1/2)
//   x: grad / (2 * result)
struct Sqrt : UnaryOp<OpId::Sqrt> {
  static constexpr Save save = Save::Output;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Sqrt, x); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {mul_scalar(grad / s.output(), 0.5)}; }
};

// abs(x) -> |x|
//   x: grad * sign(x)                      (sign is a constant mask)
struct Abs : UnaryOp<OpId::Abs> {
  static constexpr Save save = Save::Inputs;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Abs, x); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {grad * sign(s.input(0))}; }
};

// tanh(x)
//   x: grad * (1 - result^2)
struct Tanh : UnaryOp<OpId::Tanh> {
  static constexpr Save save = Save::Output;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Tanh, x); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor y = s.output();
    return {grad * (1.0 - y * y)};
  }
};

// sigmoid(x) -> 1 / (1 + e^-x)
//   x: grad * result * (1 - result)
struct Sigmoid : UnaryOp<OpId::Sigmoid> {
  static constexpr Save save = Save::Output;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Sigmoid, x); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor y = s.output();
    return {grad * y * (1.0 - y)};
  }
};

// relu(x) -> max(x, 0)
//   x: relu_grad(grad, result)             (grad * [result > 0], a constant mask)
struct Relu : UnaryOp<OpId::Relu> {
  static constexpr Save save = Save::Output;
  static Tensor forward(const Tensor& x) { return kernels::unary(Unary::Relu, x); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    // Note [donated gradients] (tape.h): nothing records, so the kernel alone is the op.
    if (detail::donated(grad)) return {kernels::relu_grad(grad, s.output(), /*in_place=*/true)};
    return {relu_grad(grad, s.output())};
  }
};

// relu_grad(g, y) -> g * [y > 0], in one pass without the mask tensor
//   g: relu_grad(grad, y)                  (linear in g, with the same mask)
//   y: 0                                   (the mask is piecewise constant in y)
struct ReluGrad {
  static constexpr OpId id = OpId::ReluGrad;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Tensor& g, const Tensor& y) {
    require_floating("relu_grad", g.dtype());
    require_floating("relu_grad", y.dtype());
    if (g.shape() != y.shape())
      throw ShapeError(fmt::format("relu_grad: shapes differ: g is {}, y is {}", g.shape().str(), y.shape().str()));
    return g.shape();
  }
  static Tensor forward(const Tensor& g, const Tensor& y) { return kernels::relu_grad(g, y); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? relu_grad(grad, s.input(1)) : Tensor{}, Tensor{}};
  }
};

// leaky_relu(x, slope) -> x > 0 ? x : slope * x
//   x: grad * (x > 0 ? 1 : slope)          (a constant mask)
struct LeakyRelu : UnaryOp<OpId::LeakyRelu> {
  using Attrs = ScalarAttrs;
  static constexpr Save save = Save::Inputs;
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::unary(Unary::LeakyRelu, x, a.c); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const double slope = s.attrs<Attrs>().c;
    const Tensor positive = greater(s.input(0), zeros({}, grad.dtype()));
    return {grad * (positive * (1.0 - slope) + slope)};
  }
};

// clamp(x, lo, hi) -> min(max(x, lo), hi)
//   x: grad * [lo <= x <= hi]              (a constant mask)
struct Clamp : UnaryOp<OpId::Clamp> {
  using Attrs = RangeAttrs;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    if (!(a.lo <= a.hi)) throw ValueError(fmt::format("clamp: lo must not exceed hi, got [{}, {}]", a.lo, a.hi));
    return UnaryOp::infer_shape(x);
  }
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::unary(Unary::Clamp, x, a.lo, a.hi); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const auto a = s.attrs<Attrs>();
    return {grad * between(s.input(0), a.lo, a.hi)};
  }
};

}  // namespace

Tensor neg(const Tensor& x) { return apply<Neg>(x); }
Tensor add_scalar(const Tensor& x, double c) { return apply_with<AddScalar>(ScalarAttrs{c}, x); }
Tensor mul_scalar(const Tensor& x, double c) { return apply_with<MulScalar>(ScalarAttrs{c}, x); }
Tensor pow(const Tensor& x, double p) { return apply_with<Pow>(ScalarAttrs{p}, x); }
Tensor exp(const Tensor& x) { return apply<Exp>(x); }
Tensor log(const Tensor& x) { return apply<Log>(x); }
Tensor sqrt(const Tensor& x) { return apply<Sqrt>(x); }
Tensor abs(const Tensor& x) { return apply<Abs>(x); }
Tensor tanh(const Tensor& x) { return apply<Tanh>(x); }
Tensor sigmoid(const Tensor& x) { return apply<Sigmoid>(x); }
Tensor relu(const Tensor& x) { return apply<Relu>(x); }
Tensor relu_grad(const Tensor& g, const Tensor& y) { return apply<ReluGrad>(g, y); }
Tensor leaky_relu(const Tensor& x, double slope) { return apply_with<LeakyRelu>(ScalarAttrs{slope}, x); }
Tensor clamp(const Tensor& x, double lo, double hi) { return apply_with<Clamp>(RangeAttrs{lo, hi}, x); }

}  // namespace mg
