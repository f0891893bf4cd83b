#include "autograd/creation.h"

#include <fmt/format.h>

#include <cstring>

#include "autograd/errors.h"

namespace mg {

namespace {
// Fills every element with gen(i) converted to the tensor's type.
template <class Gen>
Tensor fill_with(const Shape& shape, DType dtype, Gen&& gen) {
  Tensor t(shape, dtype);
  const std::int64_t n = t.numel();
  switch (dtype) {
    case DType::F32: {
      float* p = t.mutable_data<float>();
      for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<float>(gen(i));
      break;
    }
    case DType::F64: {
      double* p = t.mutable_data<double>();
      for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<double>(gen(i));
      break;
    }
    case DType::I64: {
      std::int64_t* p = t.mutable_data<std::int64_t>();
      for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<std::int64_t>(gen(i));
      break;
    }
  }
  return t;
}

template <class T>
Tensor copy_vector(const std::vector<T>& values, const Shape& shape) {
  if (static_cast<std::int64_t>(values.size()) != shape.numel())
    throw ShapeError(fmt::format("from_vector: {} values do not fill shape {} ({} elements)", values.size(),
                                 shape.str(), shape.numel()));
  Tensor t(shape, dtype_of<T>());
  if (!values.empty()) std::memcpy(t.mutable_raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}
}  // namespace

Tensor full(const Shape& shape, double value, DType dtype) {
  return fill_with(shape, dtype, [value](std::int64_t) { return value; });
}
Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor scalar(double value, DType dtype) { return full(Shape{}, value, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.dtype()); }

Tensor arange(std::int64_t n, DType dtype) {
  if (n < 0) throw ValueError(fmt::format("arange: length must be non-negative, got {}", n));
  return fill_with(Shape{n}, dtype, [](std::int64_t i) { return static_cast<double>(i); });
}

Tensor from_vector(const std::vector<float>& values, const Shape& shape) { return copy_vector(values, shape); }
Tensor from_vector(const std::vector<double>& values, const Shape& shape) { return copy_vector(values, shape); }
Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& shape) {
  return copy_vector(values, shape);
}

Tensor randn(const Shape& shape, Generator& gen, DType dtype) {
  require_floating("randn", dtype);
  return fill_with(shape, dtype, [&gen](std::int64_t) { return gen.normal(); });
}

Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype) {
  require_floating("uniform", dtype);
  if (!(lo <= hi)) throw ValueError(fmt::format("uniform: lo must not exceed hi, got [{}, {})", lo, hi));
  return fill_with(shape, dtype, [&](std::int64_t) { return gen.uniform(lo, hi); });
}

}  // namespace mg
