// The per-channel primitives of autograd/channel.h (formulas there).
#include "autograd/channel.h"

#include "autograd/kernels/channel.h"
#include "autograd/op_common.h"

namespace mg {
namespace {

// x must be [N, C, ...] with N * (values per sample) > 0 per channel.
void check_channel_input(std::string_view op, const Tensor& x) {
  require_floating(op, x.dtype());
  if (x.ndim() < 2) throw ShapeError(fmt::format("{}: x must be [N, C, ...] (channels on axis 1): x is {}", op,
                                                 x.shape().str()));
}

void check_per_channel(std::string_view op, const char* what, const Tensor& x, const Tensor& t) {
  require_floating(op, t.dtype());
  if (t.shape() != Shape{x.shape()[1]})
    throw ShapeError(fmt::format("{}: {} must be [{}] (one per channel): x is {}, {} is {}", op, what, x.shape()[1],
                                 x.shape().str(), what, t.shape().str()));
}

// The values per channel, n in the formulas.
double per_channel(const Shape& s) { return static_cast<double>(s.numel() / s[1]); }

// grad [C] as [1, C, 1, ...] of x's rank.
Shape channel_shape(const Shape& x) {
  std::vector<std::int64_t> dims(static_cast<std::size_t>(x.ndim()), 1);
  dims[1] = x[1];
  return Shape(dims);
}

struct ChannelAffine {
  static constexpr OpId id = OpId::ChannelAffine;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Tensor& x, const Tensor& scale, const Tensor& shift) {
    check_channel_input("channel_affine", x);
    check_per_channel("channel_affine", "scale", x, scale);
    check_per_channel("channel_affine", "shift", x, shift);
    return x.shape();
  }
  static Tensor forward(const Tensor& x, const Tensor& scale, const Tensor& shift) {
    return kernels::channel_affine(x, scale, shift);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? channel_affine(grad, s.input(1)) : Tensor{},
            s.needs_grad(1) ? channel_dot(grad, s.input(0)) : Tensor{},
            s.needs_grad(2) ? channel_sum(grad) : Tensor{}};
  }
};

struct ChannelDot {
  static constexpr OpId id = OpId::ChannelDot;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Tensor& a, const Tensor& b) {
    check_channel_input("channel_dot", a);
    require_floating("channel_dot", b.dtype());
    if (a.shape() != b.shape())
      throw ShapeError(fmt::format("channel_dot: shapes differ: a is {}, b is {}", a.shape().str(), b.shape().str()));
    return Shape{a.shape()[1]};
  }
  static Tensor forward(const Tensor& a, const Tensor& b) { return kernels::channel_dot(a, b); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? channel_affine(s.input(1), grad) : Tensor{},
            s.needs_grad(1) ? channel_affine(s.input(0), grad) : Tensor{}};
  }
};

struct ChannelSum {
  static constexpr OpId id = OpId::ChannelSum;
  static constexpr Save save = Save::Nothing;
  static Shape infer_shape(const Tensor& x) {
    check_channel_input("channel_sum", x);
    return Shape{x.shape()[1]};
  }
  static Tensor forward(const Tensor& x) { return kernels::channel_sum(x); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Shape x = s.input_shape(0);
    return {broadcast_to(reshape(grad, channel_shape(x)), x)};
  }
};

struct ChannelMoments {
  static constexpr OpId id = OpId::ChannelMoments;
  static constexpr Save save = Save::Both;
  static Shape infer_shape(const Tensor& x) {
    check_channel_input("channel_moments", x);
    if (x.numel() == 0)
      throw ShapeError(fmt::format("channel_moments: every channel needs a value: x is {}", x.shape().str()));
    return Shape{2, x.shape()[1]};
  }
  static Tensor forward(const Tensor& x) { return kernels::channel_moments(x); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor x = s.input(0);
    const double n = per_channel(x.shape());
    const std::int64_t c = x.shape()[1];
    const Tensor g_mu = reshape(slice(grad, 0, 0, 1), {c}), g_var = reshape(slice(grad, 0, 1, 2), {c});
    const Tensor mu = reshape(slice(s.output(), 0, 0, 1), {c});
    const Tensor a = g_var * (2.0 / n);
    return {channel_affine(x, a, g_mu * (1.0 / n) - a * mu)};
  }
};

}  // namespace

Tensor channel_moments(const Tensor& x) { return apply<ChannelMoments>(x); }

Tensor channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  if (!shift.defined()) {
    check_channel_input("channel_affine", x);
    check_per_channel("channel_affine", "scale", x, scale);
    return apply<ChannelAffine>(x, scale, zeros({x.shape()[1]}, x.dtype()));
  }
  return apply<ChannelAffine>(x, scale, shift);
}

Tensor channel_dot(const Tensor& a, const Tensor& b) { return apply<ChannelDot>(a, b); }

Tensor channel_sum(const Tensor& x) { return apply<ChannelSum>(x); }

}  // namespace mg
