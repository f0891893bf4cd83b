#include "autograd/kernels/reduce.h"

#include <limits>
#include <type_traits>
#include <vector>

#include "autograd/kernels/broadcast.h"
#include "autograd/kernels/cpu.h"
#include "autograd/kernels/reduce_isa.h"

namespace mg::kernels {

namespace {

// Strides into the reduced output for each input axis (0 along reduced axes).
Strides reduced_strides(const Shape& in, AxisMask mask) {
  Shape kept;
  for (int i = 0; i < in.ndim(); ++i) kept.push_back(mask[static_cast<std::size_t>(i)] ? 1 : in[i]);
  const Strides ks = kept.strides();
  Strides s{};
  for (int i = 0; i < in.ndim(); ++i)
    s[static_cast<std::size_t>(i)] = mask[static_cast<std::size_t>(i)] ? 0 : ks[static_cast<std::size_t>(i)];
  return s;
}

// Visits every input element with the offset of its output slot: acc = f(acc, x).
// `identity` is f's neutral element (-inf for max) and merge(acc, acc) combines two
// partial results. (The sum has its own per-ISA copy of this loop, reduce_isa.cpp.)
template <class T, class Acc, class F, class M>
void reduce_into(const Tensor& x, AxisMask mask, Acc* acc, Acc identity, F f, M merge) {
  const T* px = x.data<T>();
  const std::array<Strides, 1> st{reduced_strides(x.shape(), mask)};
  for_each_run(x.shape(), st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
    Acc* a = acc + off[0];
    const T* r = px + o;
    if (inner[0] == 0) {
      // Four independent partial results, so the loop is not one long dependency chain.
      Acc v[4] = {a[0], identity, identity, identity};
      std::int64_t i = 0;
      for (; i + 4 <= len; i += 4)
        for (int k = 0; k < 4; ++k) v[k] = f(v[k], r[i + k]);
      for (; i < len; ++i) v[0] = f(v[0], r[i]);
      a[0] = merge(merge(v[0], v[1]), merge(v[2], v[3]));
    } else {
      for (std::int64_t i = 0; i < len; ++i) a[i] = f(a[i], r[i]);
    }
  });
}

template <class T>
const ReduceKernels<T>& sum_loops() {
  if constexpr (std::is_same_v<T, float>)
    return pick_isa(generic::reduce_f32, avx2::reduce_f32, avx512::reduce_f32);
  else
    return pick_isa(generic::reduce_f64, avx2::reduce_f64, avx512::reduce_f64);
}

}  // namespace

Tensor sum(const Tensor& x, AxisMask mask, const Shape& out_shape) {
  return dispatch_float("sum", x.dtype(), [&]<class T>() {
    // Accumulate in double so that float32 sums of many terms stay accurate, in a
    // per-thread buffer that is reused (no allocation per call in steady state). The
    // loops are the active path's (Note [CPU dispatch] in cpu.h), all in one order
    // (Note [Sum order] in reduce_isa.cpp).
    const ReduceKernels<T>& k = sum_loops<T>();
    thread_local std::vector<double> acc;
    acc.assign(static_cast<std::size_t>(out_shape.numel()), 0.0);
    const T* px = x.data<T>();
    const std::array<Strides, 1> st{reduced_strides(x.shape(), mask)};
    for_each_run(x.shape(), st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      k.sum_run(px + o, len, inner[0], acc.data() + off[0]);
    });
    Tensor out(out_shape, x.dtype());
    k.narrow(acc.data(), out.mutable_data<T>(), out_shape.numel());
    return out;
  });
}

Tensor max(const Tensor& x, AxisMask mask, const Shape& out_shape) {
  return dispatch_float("max", x.dtype(), [&]<class T>() {
    Tensor out(out_shape, x.dtype());
    T* po = out.mutable_data<T>();
    for (std::int64_t i = 0; i < out_shape.numel(); ++i) po[i] = -std::numeric_limits<T>::infinity();
    // The first NaN wins and stays (Note [NaN propagation] in elementwise_isa.cpp).
    auto larger = [](T a, T v) { return v > a || v != v ? (a != a ? a : v) : a; };
    reduce_into<T>(x, mask, po, -std::numeric_limits<T>::infinity(), larger, larger);
    return out;
  });
}

Tensor broadcast_to(const Tensor& x, const Shape& out_shape) {
  return dispatch_float("broadcast_to", x.dtype(), [&]<class T>() {
    Tensor out(out_shape, x.dtype());
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    const std::array<Strides, 1> st{broadcast_strides(x.shape(), out_shape)};
    for_each_run(out_shape, st, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
      const T* r = px + off[0];
      for (std::int64_t i = 0; i < len; ++i) po[o + i] = r[i * inner[0]];
    });
    return out;
  });
}

Tensor argmax(const Tensor& x, int axis) {
  return dispatch_float("argmax", x.dtype(), [&]<class T>() {
    const Shape& s = x.shape();
    std::int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= s[i];
    for (int i = axis + 1; i < s.ndim(); ++i) inner *= s[i];
    const std::int64_t n = s[axis];
    Shape out_shape;
    for (int i = 0; i < s.ndim(); ++i)
      if (i != axis) out_shape.push_back(s[i]);
    Tensor out(out_shape, DType::I64);
    const T* px = x.data<T>();
    std::int64_t* po = out.mutable_data<std::int64_t>();
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t j = 0; j < inner; ++j) {
        const T* base = px + o * n * inner + j;
        // NaN is the largest value (the first one), as in max and PyTorch's argmax.
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < n && base[best * inner] == base[best * inner]; ++k)
          if (base[k * inner] > base[best * inner] || base[k * inner] != base[k * inner]) best = k;
        po[o * inner + j] = best;
      }
    return out;
  });
}

}  // namespace mg::kernels
