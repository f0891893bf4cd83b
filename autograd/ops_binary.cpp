// Broadcasting binary ops. For z = f(a, b) with a and b broadcast to z's
// shape, each input's gradient is summed back to its own shape (sum_to).
#include "autograd/kernels/elementwise.h"
#include "autograd/op_common.h"

namespace mg {
namespace {
using detail::BinaryOp;
using kernels::Binary;

// add(a, b) -> a + b
//   a: sum_to(grad, a.shape)
//   b: sum_to(grad, b.shape)
struct Add : BinaryOp<OpId::Add> {
  static constexpr Save save = Save::Nothing;
  static Tensor forward(const Tensor& a, const Tensor& b) {
    return kernels::binary(Binary::Add, a, b, infer_shape(a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? sum_to(grad, s.input_shape(0)) : Tensor{},
            s.needs_grad(1) ? sum_to(grad, s.input_shape(1)) : Tensor{}};
  }
};

// sub(a, b) -> a - b
//   a: sum_to(grad, a.shape)
//   b: sum_to(-grad, b.shape)
struct Sub : BinaryOp<OpId::Sub> {
  static constexpr Save save = Save::Nothing;
  static Tensor forward(const Tensor& a, const Tensor& b) {
    return kernels::binary(Binary::Sub, a, b, infer_shape(a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? sum_to(grad, s.input_shape(0)) : Tensor{},
            s.needs_grad(1) ? sum_to(neg(grad), s.input_shape(1)) : Tensor{}};
  }
};

// mul(a, b) -> a * b
//   a: sum_to(grad * b, a.shape)
//   b: sum_to(grad * a, b.shape)
struct Mul : BinaryOp<OpId::Mul> {
  static constexpr Save save = Save::Inputs;
  static Tensor forward(const Tensor& a, const Tensor& b) {
    return kernels::binary(Binary::Mul, a, b, infer_shape(a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? sum_to(grad * s.input(1), s.input_shape(0)) : Tensor{},
            s.needs_grad(1) ? sum_to(grad * s.input(0), s.input_shape(1)) : Tensor{}};
  }
};

// div(a, b) -> a / b
//   a: sum_to(grad / b, a.shape)
//   b: sum_to(-grad * a / b^2, b.shape)
struct Div : BinaryOp<OpId::Div> {
  static constexpr Save save = Save::Inputs;
  static Tensor forward(const Tensor& a, const Tensor& b) {
    return kernels::binary(Binary::Div, a, b, infer_shape(a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor b = s.input(1);
    return {s.needs_grad(0) ? sum_to(grad / b, s.input_shape(0)) : Tensor{},
            s.needs_grad(1) ? sum_to(neg(grad * s.input(0)) / (b * b), s.input_shape(1)) : Tensor{}};
  }
};

// where(cond, a, b) -> cond ? a : b        (cond is a constant mask)
//   a: sum_to(where(cond, grad, 0), a.shape)
//   b: sum_to(where(cond, 0, grad), b.shape)
struct Where {
  static constexpr OpId id = OpId::Where;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Tensor& cond, const Tensor& a, const Tensor& b) {
    const Shape ab = BinaryOp<OpId::Where>::infer_shape(a, b);
    if (cond.requires_grad()) throw GradError("where: the condition cannot require grad; detach() it");
    return broadcast_shapes("where", cond.shape(), ab);
  }
  static Tensor forward(const Tensor& cond, const Tensor& a, const Tensor& b) {
    return kernels::where(cond, a, b, infer_shape(cond, a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor cond = s.input(0);
    const Tensor zero = zeros({}, grad.dtype());
    return {Tensor{}, s.needs_grad(1) ? sum_to(where(cond, grad, zero), s.input_shape(1)) : Tensor{},
            s.needs_grad(2) ? sum_to(where(cond, zero, grad), s.input_shape(2)) : Tensor{}};
  }
};

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return apply<Add>(a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return apply<Sub>(a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return apply<Mul>(a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return apply<Div>(a, b); }
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  // The mask may have any dtype (ops.h): a floating mask of the other precision is
  // converted, not refused as a mixed dtype (only a and b must agree).
  if (cond.defined() && a.defined() && !cond.requires_grad() && is_floating(cond.dtype()) &&
      is_floating(a.dtype()) && cond.dtype() != a.dtype())
    return apply<Where>(cond.to(a.dtype()), a, b);
  return apply<Where>(cond, a, b);
}

}  // namespace mg
