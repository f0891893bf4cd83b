// Ops that move data without arithmetic: reshape, permute, concat, slice.
// Each backward is the inverse movement of the gradient.
#include <numeric>

#include "autograd/kernels/copy.h"
#include "autograd/op_common.h"

namespace mg {
namespace {

struct ShapeAttrs {
  Shape shape;
};

// reshape(x, shape) -> same elements, new shape (shares storage)
//   x: reshape(grad, x.shape)
struct Reshape {
  static constexpr OpId id = OpId::Reshape;
  static constexpr Save save = Save::Nothing;
  using Attrs = ShapeAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    if (a.shape.numel() != x.numel())
      throw ShapeError(fmt::format("reshape: element counts differ: x is {}, target is {} ({} != {})",
                                   x.shape().str(), a.shape.str(), x.numel(), a.shape.numel()));
    return a.shape;
  }
  static Tensor forward(const Attrs& a, const Tensor& x) { return Tensor(x.storage(), a.shape, x.dtype()); }
  static Grads backward(const Saved& s, const Tensor& grad) { return {reshape(grad, s.input_shape(0))}; }
};

struct PermAttrs {
  std::array<std::int8_t, kMaxDims> perm{};
  std::int8_t n = 0;
  std::vector<int> vec() const {
    std::vector<int> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = perm[i];
    return v;
  }
};

// permute(x, perm) -> y with y.shape[i] = x.shape[perm[i]]
//   x: permute(grad, inverse(perm))
struct Permute {
  static constexpr OpId id = OpId::Permute;
  static constexpr Save save = Save::Nothing;
  using Attrs = PermAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    Shape out;
    for (int i = 0; i < a.n; ++i) out.push_back(x.shape()[a.perm[static_cast<std::size_t>(i)]]);
    return out;
  }
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::permute(x, a.vec()); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const std::vector<int> p = s.attrs<Attrs>().vec();
    std::vector<int> inverse(p.size());
    for (std::size_t i = 0; i < p.size(); ++i) inverse[static_cast<std::size_t>(p[i])] = static_cast<int>(i);
    return {permute(grad, inverse)};
  }
};

struct AxisAttrs {
  int axis = 0;
  std::int64_t start = 0, end = 0;
};

// concat(xs, axis) -> xs joined along axis
//   xs[i]: slice(grad, axis, offset_i, offset_i + xs[i].shape[axis])
struct Concat {
  static constexpr OpId id = OpId::Concat;
  static constexpr Save save = Save::Nothing;
  using Attrs = AxisAttrs;
  static Shape infer_shape(const Attrs& a, std::span<const Tensor> xs) {
    if (xs.empty()) throw ShapeError("concat: no tensors given");
    Shape out = xs[0].shape();
    for (std::size_t i = 1; i < xs.size(); ++i) {
      // Any dtype, one for all: the kernel copies bytes, so int64 data (labels, token ids;
      // Note [Int64 in task stacks]) moves exactly, but mixed inputs would be copied as raw bytes.
      if (xs[i].dtype() != xs[0].dtype())
        throw DTypeError(fmt::format("concat: mixed dtypes: tensor 0 is {}, tensor {} is {}",
                                     dtype_name(xs[0].dtype()), i, dtype_name(xs[i].dtype())));
      const Shape& s = xs[i].shape();
      bool ok = s.ndim() == out.ndim();
      for (int d = 0; ok && d < s.ndim(); ++d) ok = d == a.axis || s[d] == out[d];
      if (!ok)
        throw ShapeError(fmt::format("concat: shapes differ off axis {}: tensor 0 is {}, tensor {} is {}", a.axis,
                                     xs[0].shape().str(), i, s.str()));
      std::int64_t extent = 0;
      if (__builtin_add_overflow(out[a.axis], s[a.axis], &extent))
        throw ShapeError(fmt::format("concat: extent overflows on axis {}: tensor {} is {}", a.axis, i, s.str()));
      out.set(a.axis, extent);
    }
    return out;
  }
  static Tensor forward(const Attrs& a, std::span<const Tensor> xs) {
    return kernels::concat(xs, a.axis, infer_shape(a, xs));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const int axis = s.attrs<Attrs>().axis;
    Grads out(s.num_inputs());
    std::int64_t at = 0;
    for (std::uint32_t i = 0; i < s.num_inputs(); ++i) {
      const std::int64_t n = s.input_shape(i)[axis];
      if (s.needs_grad(i)) out[i] = slice(grad, axis, at, at + n);
      at += n;
    }
    return out;
  }
};

// slice(x, axis, start, end) -> x[..., start:end, ...]
//   x: slice_backward(grad, x.shape, axis, start)
struct Slice {
  static constexpr OpId id = OpId::Slice;
  static constexpr Save save = Save::Nothing;
  using Attrs = AxisAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& x) {
    if (a.start < 0 || a.end < a.start || a.end > x.shape()[a.axis])
      throw ShapeError(fmt::format("slice: range [{}, {}) is out of bounds for axis {} of x, which is {}", a.start,
                                   a.end, a.axis, x.shape().str()));
    Shape out = x.shape();
    out.set(a.axis, a.end - a.start);
    return out;
  }
  static Tensor forward(const Attrs& a, const Tensor& x) { return kernels::slice(x, a.axis, a.start, a.end); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs a = s.attrs<Attrs>();
    return {slice_backward(grad, s.input_shape(0), a.axis, a.start)};
  }
};

struct SliceBackwardAttrs {
  Shape shape;
  std::int32_t axis = 0;
  std::int64_t start = 0;
};

// slice_backward(g, shape, axis, start) -> zeros(shape) with g at [start, start + g.shape[axis])
//   g: slice(grad, axis, start, start + g.shape[axis])
struct SliceBackward {
  static constexpr OpId id = OpId::SliceBackward;
  static constexpr Save save = Save::Nothing;
  using Attrs = SliceBackwardAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& g) {
    const Shape& s = g.shape();
    bool ok = s.ndim() == a.shape.ndim() && a.start >= 0 && a.start + s[a.axis] <= a.shape[a.axis];
    for (int d = 0; ok && d < s.ndim(); ++d) ok = d == a.axis || s[d] == a.shape[d];
    if (!ok)
      throw ShapeError(fmt::format("slice_backward: grad does not fit: grad is {}, target is {} (axis {}, start {})",
                                   s.str(), a.shape.str(), a.axis, a.start));
    return a.shape;
  }
  static Tensor forward(const Attrs& a, const Tensor& g) { return kernels::slice_backward(g, a.shape, a.axis, a.start); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs a = s.attrs<Attrs>();
    return {slice(grad, a.axis, a.start, a.start + s.input_shape(0)[a.axis])};
  }
};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  return apply_with<Reshape>(ShapeAttrs{shape}, x);
}

Tensor reshape(const Tensor& x, std::initializer_list<std::int64_t> dims) {
  std::vector<std::int64_t> d(dims);
  int unknown = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (d[i] == -1) {
      if (unknown >= 0) throw ShapeError("reshape: at most one extent may be -1");
      unknown = static_cast<int>(i);
    } else if (!checked_mul(known, d[i], &known)) {  // Note [Shape sizes]
      throw ShapeError(fmt::format("reshape: element count overflows: x is {}, target is [{}]", x.shape().str(),
                                   fmt::join(d, ", ")));
    }
  }
  if (unknown >= 0) {
    if (known == 0 || x.numel() % known != 0)
      throw ShapeError(fmt::format("reshape: cannot infer the -1 extent: x is {}, target has {} known elements",
                                   x.shape().str(), known));
    d[static_cast<std::size_t>(unknown)] = x.numel() / known;
  }
  return reshape(x, Shape(d));
}

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  if (static_cast<int>(perm.size()) != x.ndim())
    throw ShapeError(fmt::format("permute: perm has {} axes, x is {}", perm.size(), x.shape().str()));
  PermAttrs a;
  a.n = static_cast<std::int8_t>(perm.size());
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < perm.size(); ++i) {
    const int p = normalize_axis("permute", perm[i], x.ndim());
    if (seen >> p & 1u) throw ShapeError(fmt::format("permute: axis {} appears twice for x {}", p, x.shape().str()));
    seen |= 1u << p;
    a.perm[i] = static_cast<std::int8_t>(p);
  }
  bool identity = true;
  for (int i = 0; i < a.n; ++i) identity = identity && a.perm[static_cast<std::size_t>(i)] == i;
  if (identity) return x;
  return apply_with<Permute>(a, x);
}

// transpose = permute swapping two axes (a composite)
Tensor transpose(const Tensor& x, int axis0, int axis1) {
  std::vector<int> perm(static_cast<std::size_t>(x.ndim()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[static_cast<std::size_t>(normalize_axis("transpose", axis0, x.ndim()))],
            perm[static_cast<std::size_t>(normalize_axis("transpose", axis1, x.ndim()))]);
  return permute(x, perm);
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) throw ShapeError("concat: no tensors given");
  AxisAttrs a;
  a.axis = normalize_axis("concat", axis, xs[0].ndim());
  return apply_list<Concat>(a, xs);
}

// stack = concat of the inputs with a new axis of extent 1 (a composite)
//
// Note [Int64 in task stacks]
// A task stack (meta/task_group.h) stacks every tensor of its tasks, and the labels of a
// classification task and the token ids of a text task are int64. Reshape, concat and
// slice only move elements, so they take any dtype as long as all inputs share it; an
// int64 result never requires grad (requires_grad_ refuses it), so no backward runs on it.
Tensor stack(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) throw ShapeError("stack: no tensors given");
  const int ax = normalize_axis("stack", axis, xs[0].ndim() + 1);
  std::vector<Tensor> parts;
  parts.reserve(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (xs[i].dtype() != xs[0].dtype())
      throw DTypeError(fmt::format("stack: mixed dtypes: tensor 0 is {}, tensor {} is {}", dtype_name(xs[0].dtype()),
                                   i, dtype_name(xs[i].dtype())));
    if (xs[i].shape() != xs[0].shape())
      throw ShapeError(fmt::format("stack: shapes differ: tensor 0 is {}, tensor {} is {}", xs[0].shape().str(), i,
                                   xs[i].shape().str()));
    std::vector<std::int64_t> d = xs[i].shape().vec();
    d.insert(d.begin() + ax, 1);
    parts.push_back(reshape(xs[i], Shape(d)));
  }
  return concat(parts, ax);
}

Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end) {
  AxisAttrs a;
  a.axis = normalize_axis("slice", axis, x.ndim());
  a.start = start;
  a.end = end;
  return apply_with<Slice>(a, x);
}

Tensor slice_backward(const Tensor& grad, const Shape& shape, int axis, std::int64_t start) {
  SliceBackwardAttrs a;
  a.shape = shape;
  a.axis = normalize_axis("slice_backward", axis, shape.ndim());
  a.start = start;
  return apply_with<SliceBackward>(a, grad);
}

}  // namespace mg
