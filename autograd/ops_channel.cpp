// The per-channel primitives of autograd/channel.h (formulas there).
#include "autograd/channel.h"

#include <cmath>

#include "autograd/kernels/channel.h"
#include "autograd/op_common.h"
#include "autograd/tape.h"

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

// channel_affine2(u, s, v, t, b) = u * s[c] + v * t[c] + b[c]
//   u: channel_affine(grad, s)  s: channel_dot(grad, u)  v: channel_affine(grad, t)  t: channel_dot(grad, v)
//   b: channel_sum(grad)
struct ChannelAffine2 {
  static constexpr OpId id = OpId::ChannelAffine2;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Tensor& u, const Tensor& sc, const Tensor& v, const Tensor& t, const Tensor& b) {
    check_channel_input("channel_affine2", u);
    if (v.shape() != u.shape())
      throw ShapeError(fmt::format("channel_affine2: u and v must have one shape: u is {}, v is {}", u.shape().str(),
                                   v.shape().str()));
    check_per_channel("channel_affine2", "s", u, sc);
    check_per_channel("channel_affine2", "t", u, t);
    check_per_channel("channel_affine2", "b", u, b);
    return u.shape();
  }
  static Tensor forward(const Tensor& u, const Tensor& sc, const Tensor& v, const Tensor& t, const Tensor& b) {
    return kernels::channel_affine2(u, sc, v, t, b);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {s.needs_grad(0) ? channel_affine(grad, s.input(1)) : Tensor{},
            s.needs_grad(1) ? channel_dot(grad, s.input(0)) : Tensor{},
            s.needs_grad(2) ? channel_affine(grad, s.input(3)) : Tensor{},
            s.needs_grad(3) ? channel_dot(grad, s.input(2)) : Tensor{},
            s.needs_grad(4) ? channel_sum(grad) : Tensor{}};
  }
};

// Note [batch norm in one op]: channel_normalize(x, w, b) = (x - mu) / sqrt(var + eps)
// * w + b with x's batch statistics, as one primitive. Written as channel_moments
// then channel_affine, x gets two gradients (through the normalisation, and through
// mu and var), each a full-size tensor alive at once; here the backward is the
// closed form in one full-size result:
//   inv = 1 / sqrt(var + eps),  k = w inv,  S = channel_sum(g),  D = channel_dot(g, x)
//   gw = sum of g * xhat = (D - mu S) inv,  gb = S
//   gx = k g + a x + c,  a = -k inv gw / n,  c = -k S / n - a mu     (channel_affine2)
// with mu and var recomputed by channel_moments(x) when the backward records (every
// step is a differentiable primitive, so the second and higher derivatives are exact)
// and taken from the forward's statistics when it does not. Forward,
// the statistics come in as a fifth input computed from x by the kernel and never
// differentiated (channel_normalize() makes them; batch_norm also feeds its running
// estimates from them): the same two passes as before. The largest transient of an
// Omniglot MAML step's backward was the second of those two gradients (14 MB).
struct ChannelNormalize {
  static constexpr OpId id = OpId::ChannelNormalize;
  static constexpr Save save = Save::Inputs;
  struct Attrs {
    double eps = 0.0;
  };
  static Shape infer_shape(const Attrs&, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& moments) {
    check_channel_input("channel_normalize", x);
    check_per_channel("channel_normalize", "weight", x, w);
    check_per_channel("channel_normalize", "bias", x, b);
    if (moments.shape() != Shape{2, x.shape()[1]}) throw ShapeError("channel_normalize: internal error: moments");
    return x.shape();
  }
  static Tensor forward(const Attrs& a, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& moments) {
    return dispatch_float("channel_normalize", x.dtype(), [&]<class T>() {
      const std::int64_t c = x.shape()[1];
      Tensor scale({c}, x.dtype()), shift({c}, x.dtype());
      const T* pm = moments.data<T>();
      const T* pw = w.data<T>();
      const T* pb = b.data<T>();
      T* ps = scale.mutable_data<T>();
      T* pt = shift.mutable_data<T>();
      for (std::int64_t i = 0; i < c; ++i) {
        ps[i] = pw[i] / std::sqrt(pm[c + i] + static_cast<T>(a.eps));
        pt[i] = pb[i] - pm[i] * ps[i];
      }
      return kernels::channel_affine(x, scale, shift);
    });
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Tensor x = s.input(0), w = s.input(1);
    const double eps = s.attrs<Attrs>().eps, n = per_channel(x.shape());
    const std::int64_t c = x.shape()[1];
    const Tensor sum_g = channel_sum(grad);
    if (!s.needs_grad(0) && !s.needs_grad(1)) return {Tensor{}, Tensor{}, sum_g};
    // Recorded, the statistics must be channel_moments(x) on the tape (the second derivative goes
    // through them); otherwise they are the forward's, the fifth input: the same kernel on the same
    // x, so the same bits without its two passes over x again.
    const Tensor m = grad_enabled() ? channel_moments(x) : s.input(3);
    const Tensor mu = reshape(slice(m, 0, 0, 1), {c}), var = reshape(slice(m, 0, 1, 2), {c});
    const Tensor inv = pow(var + eps, -0.5);
    const Tensor gw = (channel_dot(grad, x) - mu * sum_g) * inv;
    Tensor gx;
    if (s.needs_grad(0)) {
      const Tensor k = w * inv;
      const Tensor a = k * inv * gw * (-1.0 / n);
      const Tensor c0 = k * sum_g * (-1.0 / n) - a * mu;
      // Note [donated gradients] (tape.h): grad's last use; nothing records, so the kernel alone is the op.
      gx = detail::donated(grad) ? kernels::channel_affine2(grad, k, x, a, c0, /*in_place=*/true)
                                 : channel_affine2(grad, k, x, a, c0);
    }
    return {gx, s.needs_grad(1) ? gw : Tensor{}, s.needs_grad(2) ? sum_g : Tensor{}};
  }
};

}  // namespace

Tensor channel_affine2(const Tensor& u, const Tensor& s, const Tensor& v, const Tensor& t, const Tensor& b) {
  return apply<ChannelAffine2>(u, s, v, t, b);
}

Tensor channel_normalize(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor* moments) {
  check_channel_input("channel_normalize", x);
  check_per_channel("channel_normalize", "weight", x, weight);
  check_per_channel("channel_normalize", "bias", x, bias);
  if (x.numel() == 0)
    throw ShapeError(fmt::format("channel_normalize: every channel needs a value: x is {}", x.shape().str()));
  if (!(eps >= 0.0)) throw ValueError(fmt::format("channel_normalize: eps must be >= 0, got {}", eps));
  const Tensor m = kernels::channel_moments(x);
  if (moments) *moments = m;
  return apply_with<ChannelNormalize>(ChannelNormalize::Attrs{eps}, x, weight, bias, m);
}

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
