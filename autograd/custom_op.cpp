#include "autograd/custom_op.h"

#include "autograd/op_common.h"

namespace mg {
namespace {

// custom_unary(x; f, b) -> f(x)
//   x: b(x, result, grad)
struct Custom : detail::UnaryOp<OpId::CustomUnary> {
  using Attrs = CustomUnary;  // two function pointers: trivially copyable, 16 bytes
  static constexpr Save save = Save::Both;
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    if (a.forward == nullptr || a.backward == nullptr)
      throw ValueError("custom_unary: both a forward and a backward function are needed");
    return UnaryOp::infer_shape(x);
  }
  static Tensor forward(const Attrs& a, const Tensor& x) {
    Tensor y;
    {
      NoGradGuard no_grad;  // the op is one node; what the forward calls is not recorded
      y = a.forward(x);
    }
    if (y.shape() != x.shape())
      throw ShapeError(fmt::format("custom_unary: the forward changed the shape: x is {}, result is {}",
                                   x.shape().str(), y.shape().str()));
    return y;
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Shape x_shape = s.input_shape(0);
    Tensor dx = s.attrs<Attrs>().backward(s.input(0), s.output(), grad);
    if (dx.shape() != x_shape)
      throw ShapeError(fmt::format("custom_unary: the backward returned the wrong shape: x is {}, its gradient is {}",
                                   x_shape.str(), dx.shape().str()));
    return {dx};
  }
};

}  // namespace

Tensor custom_unary(const Tensor& x, const CustomUnary& op) { return apply_with<Custom>(op, x); }

}  // namespace mg
