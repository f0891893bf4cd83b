// Non-differentiable helpers: masks and arg-max. They never record on the
// tape, so backward formulas use them as constants (the derivative of a step
// function is zero almost everywhere).
#include "autograd/kernels/elementwise.h"
#include "autograd/kernels/reduce.h"
#include "autograd/op_common.h"

namespace mg {

namespace {
Tensor compare(std::string_view op, kernels::Binary kind, const Tensor& a, const Tensor& b) {
  require_floating(op, a.dtype());
  require_same_dtype(op, a, b);
  return kernels::binary(kind, a, b, broadcast_shapes(op, a.shape(), b.shape()));
}
}  // namespace

Tensor greater(const Tensor& a, const Tensor& b) { return compare("greater", kernels::Binary::Greater, a, b); }
Tensor equal(const Tensor& a, const Tensor& b) { return compare("equal", kernels::Binary::Equal, a, b); }

Tensor sign(const Tensor& x) {
  require_floating("sign", x.dtype());
  return kernels::unary(kernels::Unary::Sign, x);
}

Tensor between(const Tensor& x, double lo, double hi) {
  require_floating("between", x.dtype());
  return kernels::unary(kernels::Unary::InsideMask, x, lo, hi);
}

Tensor argmax(const Tensor& x, int axis) {
  require_floating("argmax", x.dtype());
  return kernels::argmax(x, normalize_axis("argmax", axis, x.ndim()));
}

}  // namespace mg
