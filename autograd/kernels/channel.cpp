#include "autograd/kernels/channel.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "autograd/kernels/worker_pool.h"

namespace mg::kernels {

namespace {

// x as [N, C, L].
struct ChannelView {
  std::int64_t n = 0, c = 0, l = 0;
  explicit ChannelView(const Shape& s) : n(s[0]), c(s[1]), l(s.numel() / std::max<std::int64_t>(s[0] * s[1], 1)) {}
};

// body(c0, c1) over blocks of channels, split over op_threads() (kernels/worker_pool.h)
// when the tensor is large: every channel is one part's alone, and its values are
// visited in (n, l) order whatever the split, so the results do not depend on it.
template <class Body>
void over_channels(const ChannelView& v, Body&& body) {
  constexpr std::int64_t kValuesPerPart = std::int64_t{1} << 12;
  const std::int64_t per_channel = std::max<std::int64_t>(1, v.n * v.l);
  split_for(v.c, std::max<std::int64_t>(1, kValuesPerPart / per_channel), 1, body);
}

// Channel c's sum over (n, l) of f(value index), accumulated in double, with four
// partial sums per run so that the inner loop is no single dependency chain.
template <class F>
double channel_total(const ChannelView& v, std::int64_t c, F f) {
  double acc = 0.0;
  for (std::int64_t n = 0; n < v.n; ++n) {
    const std::int64_t base = (n * v.c + c) * v.l;
    double p[4] = {0.0, 0.0, 0.0, 0.0};
    std::int64_t i = 0;
    for (; i + 4 <= v.l; i += 4)
      for (int k = 0; k < 4; ++k) p[k] += f(base + i + k);
    for (; i < v.l; ++i) p[0] += f(base + i);
    acc += (p[0] + p[1]) + (p[2] + p[3]);
  }
  return acc;
}

// Per channel: channel_total of f.
template <class F>
void channel_reduce(const ChannelView& v, double* acc, F f) {
  over_channels(v, [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c) acc[c] = channel_total(v, c, f);
  });
}

template <class T>
Tensor to_tensor(const std::vector<double>& acc, const Shape& shape) {
  Tensor out(shape, dtype_of<T>());
  T* po = out.mutable_data<T>();
  for (std::size_t i = 0; i < acc.size(); ++i) po[i] = static_cast<T>(acc[i]);
  return out;
}

}  // namespace

Tensor channel_moments(const Tensor& x) {
  return dispatch_float("channel_moments", x.dtype(), [&]<class T>() {
    const ChannelView v(x.shape());
    const T* px = x.data<T>();
    const double count = static_cast<double>(v.n * v.l);
    std::vector<double> acc(static_cast<std::size_t>(2 * v.c));
    double* mean = acc.data();
    double* var = acc.data() + v.c;
    // Both passes over one channel before the next: its values (N runs of L) are still
    // in cache for the second (for conv4's first layer, 250 KB of a 16 MB activation).
    over_channels(v, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t c = c0; c < c1; ++c) {
        mean[c] = channel_total(v, c, [px](std::int64_t i) { return static_cast<double>(px[i]); }) / count;
        // The squared deviations from the mean as stored (rounded to T), as the composite
        // x - mean(x) would compute them.
        const T m = static_cast<T>(mean[c]);
        var[c] = channel_total(v, c, [px, m](std::int64_t i) {
          const T d = px[i] - m;
          return static_cast<double>(d * d);
        });
      }
    });
    for (std::int64_t c = 0; c < v.c; ++c) var[c] /= count;
    return to_tensor<T>(acc, {2, v.c});
  });
}

Tensor channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  return dispatch_float("channel_affine", x.dtype(), [&]<class T>() {
    const ChannelView v(x.shape());
    Tensor out(x.shape(), x.dtype());
    const T* px = x.data<T>();
    const T* ps = scale.data<T>();
    const T* pt = shift.data<T>();
    T* po = out.mutable_data<T>();
    over_channels(v, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t n = 0; n < v.n; ++n)
        for (std::int64_t c = c0; c < c1; ++c) {
          const std::int64_t base = (n * v.c + c) * v.l;
          const T s = ps[c], t = pt[c];
          for (std::int64_t i = 0; i < v.l; ++i) po[base + i] = px[base + i] * s + t;
        }
    });
    return out;
  });
}

Tensor channel_affine2(const Tensor& u, const Tensor& s, const Tensor& v, const Tensor& t, const Tensor& b,
                       bool in_place) {
  return dispatch_float("channel_affine2", u.dtype(), [&]<class T>() {
    const ChannelView view(u.shape());
    // In place, each element of u is read before it is written, at the same index.
    Tensor out = in_place ? u : Tensor(u.shape(), u.dtype());
    const T* pu = u.data<T>();
    const T* pv = v.data<T>();
    const T* ps = s.data<T>();
    const T* pt = t.data<T>();
    const T* pb = b.data<T>();
    T* po = out.mutable_data<T>();
    over_channels(view, [&](std::int64_t c0, std::int64_t c1) {
      for (std::int64_t n = 0; n < view.n; ++n)
        for (std::int64_t c = c0; c < c1; ++c) {
          const std::int64_t base = (n * view.c + c) * view.l;
          const T sc = ps[c], tc = pt[c], bc = pb[c];
          for (std::int64_t i = 0; i < view.l; ++i) po[base + i] = pu[base + i] * sc + pv[base + i] * tc + bc;
        }
    });
    return out;
  });
}

Tensor channel_dot(const Tensor& a, const Tensor& b) {
  return dispatch_float("channel_dot", a.dtype(), [&]<class T>() {
    const ChannelView v(a.shape());
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    std::vector<double> acc(static_cast<std::size_t>(v.c));
    channel_reduce(v, acc.data(), [pa, pb](std::int64_t i) { return static_cast<double>(pa[i] * pb[i]); });
    return to_tensor<T>(acc, {v.c});
  });
}

Tensor channel_sum(const Tensor& x) {
  return dispatch_float("channel_sum", x.dtype(), [&]<class T>() {
    const ChannelView v(x.shape());
    const T* px = x.data<T>();
    std::vector<double> acc(static_cast<std::size_t>(v.c));
    channel_reduce(v, acc.data(), [px](std::int64_t i) { return static_cast<double>(px[i]); });
    return to_tensor<T>(acc, {v.c});
  });
}

}  // namespace mg::kernels
