#include "autograd/kernels/elementwise.h"

#include <cmath>

#include "autograd/kernels/broadcast.h"

namespace mg::kernels {

namespace {

template <class T, class F>
Tensor binary_loop(const Tensor& a, const Tensor& b, const Shape& out_shape, F f) {
  Tensor out(out_shape, a.dtype());
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.data<T>();
  const std::int64_t n = out_shape.numel();
  if (a.shape() == out_shape && b.shape() == out_shape) {
    for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
  } else if (a.shape() == out_shape && b.numel() == 1) {
    const T s = pb[0];
    for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], s);
  } else if (b.shape() == out_shape && a.numel() == 1) {
    const T s = pa[0];
    for (std::int64_t i = 0; i < n; ++i) po[i] = f(s, pb[i]);
  } else {
    const std::array<Strides, 2> st{broadcast_strides(a.shape(), out_shape), broadcast_strides(b.shape(), out_shape)};
    for_each_run(out_shape, st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      const T* ra = pa + off[0];
      const T* rb = pb + off[1];
      T* ro = po + o;
      // The common runs get loops the compiler vectorises: both contiguous, or one a constant.
      if (inner[0] == 1 && inner[1] == 1) {
        for (std::int64_t i = 0; i < len; ++i) ro[i] = f(ra[i], rb[i]);
      } else if (inner[0] == 1 && inner[1] == 0) {
        const T s = rb[0];
        for (std::int64_t i = 0; i < len; ++i) ro[i] = f(ra[i], s);
      } else if (inner[0] == 0 && inner[1] == 1) {
        const T s = ra[0];
        for (std::int64_t i = 0; i < len; ++i) ro[i] = f(s, rb[i]);
      } else {
        for (std::int64_t i = 0; i < len; ++i) ro[i] = f(ra[i * inner[0]], rb[i * inner[1]]);
      }
    });
  }
  return out;
}

template <class T>
Tensor binary_typed(Binary op, const Tensor& a, const Tensor& b, const Shape& out) {
  switch (op) {
    case Binary::Add: return binary_loop<T>(a, b, out, [](T x, T y) { return x + y; });
    case Binary::Sub: return binary_loop<T>(a, b, out, [](T x, T y) { return x - y; });
    case Binary::Mul: return binary_loop<T>(a, b, out, [](T x, T y) { return x * y; });
    case Binary::Div: return binary_loop<T>(a, b, out, [](T x, T y) { return x / y; });
    case Binary::Greater: return binary_loop<T>(a, b, out, [](T x, T y) { return T(x > y ? 1 : 0); });
    case Binary::Equal: return binary_loop<T>(a, b, out, [](T x, T y) { return T(x == y ? 1 : 0); });
  }
  return {};
}

template <class T, class F>
Tensor unary_loop(const Tensor& x, F f) {
  Tensor out(x.shape(), x.dtype());
  const T* px = x.data<T>();
  T* po = out.data<T>();
  const std::int64_t n = x.numel();
  for (std::int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
  return out;
}

template <class T>
Tensor unary_typed(Unary op, const Tensor& x, T p, T q) {
  switch (op) {
    case Unary::Neg: return unary_loop<T>(x, [](T v) { return -v; });
    case Unary::Exp: return unary_loop<T>(x, [](T v) { return std::exp(v); });
    case Unary::Log: return unary_loop<T>(x, [](T v) { return std::log(v); });
    case Unary::Sqrt: return unary_loop<T>(x, [](T v) { return std::sqrt(v); });
    case Unary::Abs: return unary_loop<T>(x, [](T v) { return std::abs(v); });
    case Unary::Tanh: return unary_loop<T>(x, [](T v) { return std::tanh(v); });
    case Unary::Sigmoid: return unary_loop<T>(x, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case Unary::Relu: return unary_loop<T>(x, [](T v) { return v > T(0) ? v : T(0); });
    case Unary::Sign: return unary_loop<T>(x, [](T v) { return T((v > T(0)) - (v < T(0))); });
    case Unary::AddScalar: return unary_loop<T>(x, [p](T v) { return v + p; });
    case Unary::MulScalar: return unary_loop<T>(x, [p](T v) { return v * p; });
    case Unary::Pow:
      if (p == T(2)) return unary_loop<T>(x, [](T v) { return v * v; });
      return unary_loop<T>(x, [p](T v) { return std::pow(v, p); });
    case Unary::LeakyRelu: return unary_loop<T>(x, [p](T v) { return v > T(0) ? v : p * v; });
    case Unary::Clamp: return unary_loop<T>(x, [p, q](T v) { return v < p ? p : (v > q ? q : v); });
    case Unary::InsideMask: return unary_loop<T>(x, [p, q](T v) { return T(v >= p && v <= q ? 1 : 0); });
  }
  return {};
}

}  // namespace

Tensor binary(Binary op, const Tensor& a, const Tensor& b, const Shape& out) {
  return dispatch_float("binary", a.dtype(), [&]<class T>() { return binary_typed<T>(op, a, b, out); });
}

Tensor unary(Unary op, const Tensor& x, double p, double q) {
  return dispatch_float("unary", x.dtype(),
                        [&]<class T>() { return unary_typed<T>(op, x, static_cast<T>(p), static_cast<T>(q)); });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b, const Shape& out_shape) {
  return dispatch_float("where", a.dtype(), [&]<class T>() {
    Tensor out(out_shape, a.dtype());
    const Tensor c = cond.dtype() == a.dtype() ? cond : cond.to(a.dtype());
    const T* pc = c.data<T>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    const std::array<Strides, 3> st{broadcast_strides(c.shape(), out_shape), broadcast_strides(a.shape(), out_shape),
                                    broadcast_strides(b.shape(), out_shape)};
    for_each_run(out_shape, st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      for (std::int64_t i = 0; i < len; ++i)
        po[o + i] = pc[off[0] + i * inner[0]] != T(0) ? pa[off[1] + i * inner[1]] : pb[off[2] + i * inner[2]];
    });
    return out;
  });
}

}  // namespace mg::kernels
