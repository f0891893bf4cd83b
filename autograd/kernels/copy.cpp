#include "autograd/kernels/copy.h"

#include <cstring>

#include "autograd/kernels/broadcast.h"

namespace mg::kernels {

namespace {

// Splits a shape around `axis`: outer = prod(dims before), inner = prod(dims after).
struct AxisSplit {
  std::int64_t outer = 1, n = 1, inner = 1;
};
AxisSplit split(const Shape& s, int axis) {
  AxisSplit a;
  for (int i = 0; i < axis; ++i) a.outer *= s[i];
  a.n = s[axis];
  for (int i = axis + 1; i < s.ndim(); ++i) a.inner *= s[i];
  return a;
}

// Copies rows of `inner` elements: dst row (o, dst_k) <- src row (o, src_k), element size esz.
void copy_block(char* dst, const char* src, std::int64_t rows, std::int64_t row_bytes) {
  std::memcpy(dst, src, static_cast<std::size_t>(rows * row_bytes));
}

}  // namespace

Tensor permute(const Tensor& x, const std::vector<int>& perm) {
  const Shape& s = x.shape();
  Shape out_shape;
  for (int p : perm) out_shape.push_back(s[p]);
  Tensor out(out_shape, x.dtype());
  const Strides in_strides = s.strides();
  Strides st{};
  for (std::size_t i = 0; i < perm.size(); ++i) st[i] = in_strides[static_cast<std::size_t>(perm[i])];
  const std::array<Strides, 1> sts{st};
  const auto esz = static_cast<std::int64_t>(dtype_size(x.dtype()));
  const char* px = static_cast<const char*>(x.raw_data());
  char* po = static_cast<char*>(out.mutable_raw_data());
  for_each_run(out_shape, sts, [&](std::int64_t o, const auto& off, std::int64_t len, const auto& inner) {
    if (esz == 4) {
      auto* d = reinterpret_cast<float*>(po) + o;
      const auto* r = reinterpret_cast<const float*>(px) + off[0];
      for (std::int64_t i = 0; i < len; ++i) d[i] = r[i * inner[0]];
    } else {
      auto* d = reinterpret_cast<double*>(po) + o;
      const auto* r = reinterpret_cast<const double*>(px) + off[0];
      for (std::int64_t i = 0; i < len; ++i) d[i] = r[i * inner[0]];
    }
  });
  return out;
}

Tensor concat(std::span<const Tensor> xs, int axis, const Shape& out_shape) {
  Tensor out(out_shape, xs[0].dtype());
  const auto esz = static_cast<std::int64_t>(dtype_size(out.dtype()));
  const AxisSplit os = split(out_shape, axis);
  char* po = static_cast<char*>(out.mutable_raw_data());
  std::int64_t at = 0;
  for (const Tensor& x : xs) {
    const AxisSplit xs_ = split(x.shape(), axis);
    const char* px = static_cast<const char*>(x.raw_data());
    for (std::int64_t o = 0; o < os.outer; ++o)
      copy_block(po + (o * os.n + at) * os.inner * esz, px + o * xs_.n * xs_.inner * esz, 1, xs_.n * xs_.inner * esz);
    at += xs_.n;
  }
  return out;
}

Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end) {
  Shape out_shape = x.shape();
  out_shape.set(axis, end - start);
  Tensor out(out_shape, x.dtype());
  const auto esz = static_cast<std::int64_t>(dtype_size(x.dtype()));
  const AxisSplit s = split(x.shape(), axis);
  const char* px = static_cast<const char*>(x.raw_data());
  char* po = static_cast<char*>(out.mutable_raw_data());
  const std::int64_t m = end - start;
  for (std::int64_t o = 0; o < s.outer; ++o)
    copy_block(po + o * m * s.inner * esz, px + (o * s.n + start) * s.inner * esz, 1, m * s.inner * esz);
  return out;
}

Tensor slice_backward(const Tensor& grad, const Shape& out_shape, int axis, std::int64_t start) {
  Tensor out(out_shape, grad.dtype());
  std::memset(out.mutable_raw_data(), 0, out.nbytes());
  const auto esz = static_cast<std::int64_t>(dtype_size(grad.dtype()));
  const AxisSplit s = split(out_shape, axis);
  const std::int64_t m = grad.shape()[axis];
  const char* pg = static_cast<const char*>(grad.raw_data());
  char* po = static_cast<char*>(out.mutable_raw_data());
  for (std::int64_t o = 0; o < s.outer; ++o)
    copy_block(po + (o * s.n + start) * s.inner * esz, pg + o * m * s.inner * esz, 1, m * s.inner * esz);
  return out;
}

Tensor index_select(const Tensor& x, int axis, const Tensor& index) {
  Shape out_shape = x.shape();
  out_shape.set(axis, index.numel());
  Tensor out(out_shape, x.dtype());
  const auto esz = static_cast<std::int64_t>(dtype_size(x.dtype()));
  const AxisSplit s = split(x.shape(), axis);
  const std::int64_t* idx = index.data<std::int64_t>();
  const std::int64_t m = index.numel();
  const char* px = static_cast<const char*>(x.raw_data());
  char* po = static_cast<char*>(out.mutable_raw_data());
  for (std::int64_t o = 0; o < s.outer; ++o)
    for (std::int64_t k = 0; k < m; ++k)
      copy_block(po + (o * m + k) * s.inner * esz, px + (o * s.n + idx[k]) * s.inner * esz, 1, s.inner * esz);
  return out;
}

Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  Tensor out = base.clone();
  dispatch_float("index_add", base.dtype(), [&]<class T>() {
    const AxisSplit s = split(base.shape(), axis);
    const std::int64_t* idx = index.data<std::int64_t>();
    const std::int64_t m = index.numel();
    const T* ps = src.data<T>();
    T* po = out.mutable_data<T>();
    for (std::int64_t o = 0; o < s.outer; ++o)
      for (std::int64_t k = 0; k < m; ++k) {
        T* d = po + (o * s.n + idx[k]) * s.inner;
        const T* r = ps + (o * m + k) * s.inner;
        for (std::int64_t i = 0; i < s.inner; ++i) d[i] += r[i];
      }
  });
  return out;
}

Tensor gather(const Tensor& x, int axis, const Tensor& index) {
  Tensor out(index.shape(), x.dtype());
  dispatch_float("gather", x.dtype(), [&]<class T>() {
    const AxisSplit xs = split(x.shape(), axis);
    const AxisSplit is = split(index.shape(), axis);
    const std::int64_t* idx = index.data<std::int64_t>();
    const T* px = x.data<T>();
    T* po = out.mutable_data<T>();
    for (std::int64_t o = 0; o < is.outer; ++o)
      for (std::int64_t k = 0; k < is.n; ++k)
        for (std::int64_t i = 0; i < is.inner; ++i) {
          const std::int64_t flat = (o * is.n + k) * is.inner + i;
          po[flat] = px[(o * xs.n + idx[flat]) * xs.inner + i];
        }
  });
  return out;
}

Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src) {
  Tensor out = base.clone();
  dispatch_float("scatter_add", base.dtype(), [&]<class T>() {
    const AxisSplit bs = split(base.shape(), axis);
    const AxisSplit is = split(index.shape(), axis);
    const std::int64_t* idx = index.data<std::int64_t>();
    const T* ps = src.data<T>();
    T* po = out.mutable_data<T>();
    for (std::int64_t o = 0; o < is.outer; ++o)
      for (std::int64_t k = 0; k < is.n; ++k)
        for (std::int64_t i = 0; i < is.inner; ++i) {
          const std::int64_t flat = (o * is.n + k) * is.inner + i;
          po[(o * bs.n + idx[flat]) * bs.inner + i] += ps[flat];
        }
  });
  return out;
}

}  // namespace mg::kernels
