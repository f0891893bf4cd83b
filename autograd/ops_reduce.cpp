// Reductions and the broadcast/sum_to adjoint pair.
//
// sum over axes and broadcast_to are each other's backward; max routes the
// gradient to the entries equal to the maximum, shared equally on ties.
#include "autograd/kernels/reduce.h"
#include "autograd/op_common.h"

namespace mg {
namespace {

struct AxesAttrs {
  std::uint8_t mask = 0;  // bit i: reduce axis i
  bool keepdim = false;
};

kernels::AxisMask to_mask(const AxesAttrs& a) { return kernels::AxisMask(a.mask); }

AxesAttrs make_axes(std::string_view op, const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  AxesAttrs a;
  a.keepdim = keepdim;
  for (int axis : axes) {
    const int k = normalize_axis(op, axis, x.ndim());
    if (a.mask >> k & 1) throw ShapeError(fmt::format("{}: axis {} is given twice for {}", op, axis, x.shape().str()));
    a.mask = static_cast<std::uint8_t>(a.mask | 1u << k);
  }
  return a;
}

std::vector<int> axes_of(const AxesAttrs& a) {
  std::vector<int> axes;
  for (int i = 0; i < kMaxDims; ++i)
    if (a.mask >> i & 1) axes.push_back(i);
  return axes;
}

AxesAttrs all_axes(const Tensor& x) { return {static_cast<std::uint8_t>((1u << x.ndim()) - 1u), false}; }

// The input's shape with reduced axes set to 1 (keepdim) or removed.
Shape reduced_shape(const Shape& in, const AxesAttrs& a, bool keepdim) {
  Shape out;
  for (int i = 0; i < in.ndim(); ++i) {
    if (!(a.mask >> i & 1)) out.push_back(in[i]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

template <OpId Id>
struct ReduceOp {
  static constexpr OpId id = Id;
  using Attrs = AxesAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    require_floating(op_name(Id), x.dtype());
    return reduced_shape(x.shape(), a, a.keepdim);
  }
  // grad reshaped to keepdim form and broadcast back over the reduced axes.
  static Tensor expand(const Saved& s, const Tensor& grad) {
    const Shape& in = s.input_shape(0);
    return broadcast_to(reshape(grad, reduced_shape(in, s.attrs<Attrs>(), true)), in);
  }
};

// sum(x, axes) -> sum over axes
//   x: broadcast_to(reshape(grad, keepdim shape), x.shape)
struct Sum : ReduceOp<OpId::Sum> {
  static constexpr Save save = Save::Nothing;
  static Tensor forward(const Attrs& a, const Tensor& x) {
    return kernels::sum(x, to_mask(a), infer_shape(a, x));
  }
  static Grads backward(const Saved& s, const Tensor& grad) { return {expand(s, grad)}; }
};

// max(x, axes) -> max over axes
//   x: expand(grad) * m / sum(m, axes)  where m = [x == expand(result)]   (constants)
struct Max : ReduceOp<OpId::Max> {
  static constexpr Save save = Save::Both;
  static Tensor forward(const Attrs& a, const Tensor& x) {
    // An empty reduced axis has no maximum; an empty result (another axis is 0) is fine.
    const Shape out = infer_shape(a, x);
    if (x.numel() == 0 && out.numel() > 0)
      throw ShapeError(fmt::format("max: cannot reduce an empty tensor {}", x.shape().str()));
    return kernels::max(x, to_mask(a), out);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor x = s.input(0);
    const Attrs a = s.attrs<Attrs>();
    const Tensor m = equal(x, expand(s, s.output().detach()));
    const Tensor count = sum(m, axes_of(a), true);
    return {expand(s, grad) * (m / count)};
  }
};

// broadcast_to(x, shape)
//   x: sum_to(grad, x.shape)
struct BroadcastTo {
  static constexpr OpId id = OpId::BroadcastTo;
  static constexpr Save save = Save::Nothing;
  struct Attrs {
    Shape shape;
  };
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    require_floating("broadcast_to", x.dtype());
    const Shape b = broadcast_shapes("broadcast_to", x.shape(), a.shape);
    if (b != a.shape)
      throw ShapeError(fmt::format("broadcast_to: shapes cannot be broadcast: x is {}, target is {}",
                                   x.shape().str(), a.shape.str()));
    return b;
  }
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::broadcast_to(x, infer_shape(a, x)); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {sum_to(grad, s.input_shape(0))}; }
};

}  // namespace

Tensor sum(const Tensor& x) { return apply_with<Sum>(all_axes(x), x); }
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  return apply_with<Sum>(make_axes("sum", x, axes, keepdim), x);
}
Tensor max(const Tensor& x) { return apply_with<Max>(all_axes(x), x); }
Tensor max(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  return apply_with<Max>(make_axes("max", x, axes, keepdim), x);
}

// mean = sum / count (a composite)
Tensor mean(const Tensor& x) { return mul_scalar(sum(x), 1.0 / static_cast<double>(std::max<std::int64_t>(x.numel(), 1))); }
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  const AxesAttrs a = make_axes("mean", x, axes, keepdim);
  std::int64_t count = 1;
  for (int i = 0; i < x.ndim(); ++i)
    if (a.mask >> i & 1) count *= x.shape()[i];
  return mul_scalar(sum(x, axes, keepdim), 1.0 / static_cast<double>(std::max<std::int64_t>(count, 1)));
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return apply_with<BroadcastTo>(BroadcastTo::Attrs{shape}, x);
}

// sum_to(x, shape): sum over the leading axes x has in excess and over the axes
// where `shape` is 1, then drop the leading ones (a composite of sum and reshape).
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const Shape b = broadcast_shapes("sum_to", shape, x.shape());
  if (b != x.shape())
    throw ShapeError(fmt::format("sum_to: shapes cannot be broadcast: x is {}, target is {}", x.shape().str(),
                                 shape.str()));
  const int lead = x.ndim() - shape.ndim();
  std::vector<int> axes;
  for (int i = 0; i < x.ndim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) axes.push_back(i);
  return reshape(sum(x, axes, true), shape);
}

}  // namespace mg
