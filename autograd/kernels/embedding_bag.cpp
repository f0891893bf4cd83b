#include "autograd/kernels/embedding_bag.h"

#include <cstring>

namespace mg::kernels {

namespace {

// The number of ids of row i that are not the pad id 0.
std::int64_t bag_size(const std::int64_t* row, std::int64_t length) {
  std::int64_t c = 0;
  for (std::int64_t j = 0; j < length; ++j) c += row[j] != 0;
  return c;
}

}  // namespace

Tensor embedding_bag(const Tensor& table, const Tensor& ids) {
  const std::int64_t n = ids.shape()[0], length = ids.shape()[1], d = table.shape()[1];
  Tensor out({n, d}, table.dtype());
  dispatch_float("embedding_bag", table.dtype(), [&]<class T>() {
    const T* pt = table.data<T>();
    const std::int64_t* pi = ids.data<std::int64_t>();
    T* po = out.mutable_data<T>();
    std::memset(po, 0, static_cast<std::size_t>(n * d) * sizeof(T));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t* row = pi + i * length;
      T* o = po + i * d;
      for (std::int64_t j = 0; j < length; ++j) {
        if (row[j] == 0) continue;
        const T* src = pt + row[j] * d;
        for (std::int64_t k = 0; k < d; ++k) o[k] += src[k];
      }
      const std::int64_t c = bag_size(row, length);
      if (c > 1) {
        const T inv = T(1) / static_cast<T>(c);
        for (std::int64_t k = 0; k < d; ++k) o[k] *= inv;
      }
    }
  });
  return out;
}

Tensor embedding_bag_scatter(const Tensor& grad, const Tensor& ids, std::int64_t rows) {
  const std::int64_t n = ids.shape()[0], length = ids.shape()[1], d = grad.shape()[1];
  Tensor out({rows, d}, grad.dtype());
  dispatch_float("embedding_bag_scatter", grad.dtype(), [&]<class T>() {
    const T* pg = grad.data<T>();
    const std::int64_t* pi = ids.data<std::int64_t>();
    T* po = out.mutable_data<T>();
    std::memset(po, 0, static_cast<std::size_t>(rows * d) * sizeof(T));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t* row = pi + i * length;
      const std::int64_t c = bag_size(row, length);
      if (c == 0) continue;
      const T inv = T(1) / static_cast<T>(c);
      const T* g = pg + i * d;
      for (std::int64_t j = 0; j < length; ++j) {
        if (row[j] == 0) continue;
        T* dst = po + row[j] * d;
        for (std::int64_t k = 0; k < d; ++k) dst[k] += inv * g[k];
      }
    }
  });
  return out;
}

}  // namespace mg::kernels
