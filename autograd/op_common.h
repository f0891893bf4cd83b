// Shared pieces of the op definitions (internal; not installed).
#pragma once

#include <fmt/format.h>

#include "autograd/apply.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"

namespace mg::detail {

// Shape rule shared by the unary elementwise ops: float input, same shape out.
template <OpId Id>
struct UnaryOp {
  static constexpr OpId id = Id;
  static Shape infer_shape(const Tensor& x) {
    require_floating(op_name(Id), x.dtype());
    return x.shape();
  }
  template <class A>
  static Shape infer_shape(const A&, const Tensor& x) {
    return infer_shape(x);
  }
};

// Shape rule shared by the broadcasting binary ops.
template <OpId Id>
struct BinaryOp {
  static constexpr OpId id = Id;
  static Shape infer_shape(const Tensor& a, const Tensor& b) {
    require_floating(op_name(Id), a.dtype());
    require_floating(op_name(Id), b.dtype());
    return broadcast_shapes(op_name(Id), a.shape(), b.shape());
  }
};

// Attributes of ops with one or two scalar parameters.
struct ScalarAttrs {
  double c = 0.0;
};
struct RangeAttrs {
  double lo = 0.0, hi = 0.0;
};

}  // namespace mg::detail
