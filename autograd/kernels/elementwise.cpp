#include "autograd/kernels/elementwise.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include "autograd/kernels/broadcast.h"
#include "autograd/kernels/cpu.h"
#include "autograd/kernels/elementwise_isa.h"
#include "autograd/kernels/worker_pool.h"

namespace mg::kernels {

namespace {

// The table of per-ISA loops in use (Note [CPU dispatch] in cpu.h).
template <class T>
const ElementwiseKernels<T>& loops() {
  if constexpr (std::is_same_v<T, float>)
    return pick_isa(generic::elementwise_f32, avx2::elementwise_f32, avx512::elementwise_f32);
  else
    return pick_isa(generic::elementwise_f64, avx2::elementwise_f64, avx512::elementwise_f64);
}

// body(begin, end) over blocks of [0, n), split over op_threads() (kernels/worker_pool.h)
// when n is large; each element is one part's alone, computed as it would be whole.
void over_elements(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& body) {
  split_for(n, std::int64_t{1} << 14, 16, body);
}

template <class T>
Tensor binary_typed(Binary op, const Tensor& a, const Tensor& b, const Shape& out_shape) {
  Tensor out(out_shape, a.dtype());
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* po = out.mutable_data<T>();
  const auto run = loops<T>().binary;
  const std::int64_t n = out_shape.numel();
  if (a.shape() == out_shape && b.shape() == out_shape) {
    over_elements(n, [&](std::int64_t i, std::int64_t j) { run(op, pa + i, 1, pb + i, 1, po + i, j - i); });
  } else if (a.shape() == out_shape && b.numel() == 1) {
    over_elements(n, [&](std::int64_t i, std::int64_t j) { run(op, pa + i, 1, pb, 0, po + i, j - i); });
  } else if (b.shape() == out_shape && a.numel() == 1) {
    over_elements(n, [&](std::int64_t i, std::int64_t j) { run(op, pa, 0, pb + i, 1, po + i, j - i); });
  } else {
    const std::array<Strides, 2> st{broadcast_strides(a.shape(), out_shape), broadcast_strides(b.shape(), out_shape)};
    for_each_run(out_shape, st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      run(op, pa + off[0], inner[0], pb + off[1], inner[1], po + o, len);
    });
  }
  return out;
}

template <class T, class F>
Tensor unary_loop(const Tensor& x, Tensor& out, F f) {
  const T* px = x.data<T>();
  T* po = out.mutable_data<T>();
  const std::int64_t n = x.numel();
  for (std::int64_t i = 0; i < n; ++i) po[i] = f(px[i]);
  return out;
}

// The ops the per-ISA table lacks: libm calls, evaluated here on every path.
template <class T>
Tensor unary_typed(Unary op, const Tensor& x, T p, T q) {
  Tensor out(x.shape(), x.dtype());
  if (loops<T>().unary(op, x.data<T>(), out.mutable_data<T>(), x.numel(), p, q)) return out;
  switch (op) {
    case Unary::Exp: return unary_loop<T>(x, out, [](T v) { return std::exp(v); });
    case Unary::Log: return unary_loop<T>(x, out, [](T v) { return std::log(v); });
    case Unary::Tanh: return unary_loop<T>(x, out, [](T v) { return std::tanh(v); });
    case Unary::Sigmoid: return unary_loop<T>(x, out, [](T v) { return T(1) / (T(1) + std::exp(-v)); });
    case Unary::Pow: return unary_loop<T>(x, out, [p](T v) { return std::pow(v, p); });
    default: break;
  }
  throw std::logic_error("unary: internal error: op has no kernel");
}

}  // namespace

Tensor binary(Binary op, const Tensor& a, const Tensor& b, const Shape& out) {
  return dispatch_float("binary", a.dtype(), [&]<class T>() { return binary_typed<T>(op, a, b, out); });
}

void add_into(Tensor& dst, const Tensor& src) {
  dispatch_float("add", dst.dtype(), [&]<class T>() {
    T* pd = dst.mutable_data<T>();
    const T* ps = src.data<T>();
    over_elements(dst.numel(), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t i = begin; i < end; ++i) pd[i] += ps[i];
    });
  });
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
    T* po = out.mutable_data<T>();
    const std::array<Strides, 3> st{broadcast_strides(c.shape(), out_shape), broadcast_strides(a.shape(), out_shape),
                                    broadcast_strides(b.shape(), out_shape)};
    const auto run = loops<T>().where;
    for_each_run(out_shape, st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      run(pc + off[0], inner[0], pa + off[1], inner[1], pb + off[2], inner[2], po + o, len);
    });
    return out;
  });
}

}  // namespace mg::kernels
