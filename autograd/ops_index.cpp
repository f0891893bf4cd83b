// Index ops, in two adjoint pairs: index_select / index_add and
// gather / scatter_add. Each is the other's backward, so gradients of any
// order flow through indexing. Indices are int64 tensors (never differentiated).
#include "autograd/kernels/copy.h"
#include "autograd/op_common.h"

namespace mg {
namespace {

struct IndexAttrs {
  int axis = 0;
};

void check_index(std::string_view op, const Tensor& index, std::int64_t limit, const Tensor& x) {
  if (index.dtype() != DType::I64)
    throw DTypeError(fmt::format("{}: index must be i64, got {}", op, dtype_name(index.dtype())));
  const std::int64_t* p = index.data<std::int64_t>();
  const std::int64_t n = index.numel();
  // One pass that the compiler vectorises, then the culprit only when there is one.
  bool inside = true;
  for (std::int64_t i = 0; i < n; ++i) inside &= p[i] >= 0 && p[i] < limit;
  if (inside) return;
  for (std::int64_t i = 0; i < n; ++i)
    if (p[i] < 0 || p[i] >= limit)
      throw ShapeError(fmt::format("{}: index {} is out of range [0, {}) for x {}", op, p[i], limit, x.shape().str()));
}

// index_select(x, axis, index) -> x's slices at index along axis
//   x: index_add(zeros(x.shape), axis, index, grad)
struct IndexSelect {
  static constexpr OpId id = OpId::IndexSelect;
  static constexpr Save save = Save::Inputs;
  using Attrs = IndexAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& x, const Tensor& index) {
    require_floating("index_select", x.dtype());
    if (index.ndim() != 1)
      throw ShapeError(fmt::format("index_select: index must be 1-D: x is {}, index is {}", x.shape().str(),
                                   index.shape().str()));
    check_index("index_select", index, x.shape()[a.axis], x);
    Shape out = x.shape();
    out.set(a.axis, index.numel());
    return out;
  }
  static Tensor forward(const Attrs& a, const Tensor& x, const Tensor& index) {
    return kernels::index_select(x, a.axis, index);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const int axis = s.attrs<Attrs>().axis;
    return {index_add(zeros(s.input_shape(0), grad.dtype()), axis, s.input(1), grad), Tensor{}};
  }
};

// index_add(base, axis, index, src) -> base with src's slices added at index
//   base: grad
//   src:  index_select(grad, axis, index)
struct IndexAdd {
  static constexpr OpId id = OpId::IndexAdd;
  static constexpr Save save = Save::Inputs;
  using Attrs = IndexAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& base, const Tensor& index, const Tensor& src) {
    require_floating("index_add", base.dtype());
    require_floating("index_add", src.dtype());
    Shape expect = base.shape();
    if (index.ndim() == 1) expect.set(a.axis, index.numel());
    if (index.ndim() != 1 || src.shape() != expect)
      throw ShapeError(fmt::format("index_add: src must be base's shape with axis {} of index's length: base is {}, "
                                   "index is {}, src is {}",
                                   a.axis, base.shape().str(), index.shape().str(), src.shape().str()));
    check_index("index_add", index, base.shape()[a.axis], base);
    return base.shape();
  }
  static Tensor forward(const Attrs& a, const Tensor& base, const Tensor& index, const Tensor& src) {
    return kernels::index_add(base, a.axis, index, src);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const int axis = s.attrs<Attrs>().axis;
    return {s.needs_grad(0) ? grad : Tensor{}, Tensor{},
            s.needs_grad(2) ? index_select(grad, axis, s.input(1)) : Tensor{}};
  }
};

// Shape rule shared by gather and scatter_add: index has x's rank and x's extents off the axis.
void check_along_axis(std::string_view op, int axis, const Tensor& x, const Tensor& index) {
  bool ok = index.ndim() == x.ndim();
  for (int d = 0; ok && d < x.ndim(); ++d) ok = d == axis || index.shape()[d] == x.shape()[d];
  if (!ok)
    throw ShapeError(fmt::format("{}: index must match x off axis {}: x is {}, index is {}", op, axis,
                                 x.shape().str(), index.shape().str()));
  check_index(op, index, x.shape()[axis], x);
}

// gather(x, axis, index) -> out[..i..] = x[..index[..i..]..] along axis
//   x: scatter_add(zeros(x.shape), axis, index, grad)
struct Gather {
  static constexpr OpId id = OpId::Gather;
  static constexpr Save save = Save::Inputs;
  using Attrs = IndexAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& x, const Tensor& index) {
    require_floating("gather", x.dtype());
    check_along_axis("gather", a.axis, x, index);
    return index.shape();
  }
  static Tensor forward(const Attrs& a, const Tensor& x, const Tensor& index) {
    return kernels::gather(x, a.axis, index);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const int axis = s.attrs<Attrs>().axis;
    return {scatter_add(zeros(s.input_shape(0), grad.dtype()), axis, s.input(1), grad), Tensor{}};
  }
};

// scatter_add(base, axis, index, src) -> base plus src added at index along axis
//   base: grad
//   src:  gather(grad, axis, index)
struct ScatterAdd {
  static constexpr OpId id = OpId::ScatterAdd;
  static constexpr Save save = Save::Inputs;
  using Attrs = IndexAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& base, const Tensor& index, const Tensor& src) {
    require_floating("scatter_add", base.dtype());
    require_floating("scatter_add", src.dtype());
    check_along_axis("scatter_add", a.axis, base, index);
    if (src.shape() != index.shape())
      throw ShapeError(fmt::format("scatter_add: src must have index's shape: index is {}, src is {}",
                                   index.shape().str(), src.shape().str()));
    return base.shape();
  }
  static Tensor forward(const Attrs& a, const Tensor& base, const Tensor& index, const Tensor& src) {
    return kernels::scatter_add(base, a.axis, index, src);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const int axis = s.attrs<Attrs>().axis;
    return {s.needs_grad(0) ? grad : Tensor{}, Tensor{}, s.needs_grad(2) ? gather(grad, axis, s.input(1)) : Tensor{}};
  }
};

}  // namespace

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  return apply_with<IndexSelect>(IndexAttrs{normalize_axis("index_select", axis, x.ndim())}, x, index);
}
Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  return apply_with<IndexAdd>(IndexAttrs{normalize_axis("index_add", axis, base.ndim())}, base, index, src);
}
Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  return apply_with<Gather>(IndexAttrs{normalize_axis("gather", axis, x.ndim())}, x, index);
}
Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  return apply_with<ScatterAdd>(IndexAttrs{normalize_axis("scatter_add", axis, base.ndim())}, base, index, src);
}

}  // namespace mg
