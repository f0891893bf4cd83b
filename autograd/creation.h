// Creating tensors: constants, ranges, copies of host vectors and random
// draws from an explicit Generator. None of them require grad; mark a leaf
// with requires_grad_().
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace mg {

// All zeros.
Tensor zeros(const Shape& shape, DType dtype = DType::F32);
// All ones.
Tensor ones(const Shape& shape, DType dtype = DType::F32);
// Every entry `value`.
Tensor full(const Shape& shape, double value, DType dtype = DType::F32);
// A rank-0 tensor holding `value`.
Tensor scalar(double value, DType dtype = DType::F32);
// Zeros, ones or `value` with t's shape and dtype.
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// 0, 1, ..., n-1 as a [n] tensor.
Tensor arange(std::int64_t n, DType dtype = DType::F32);
// Copies `values` into a tensor of `shape` (numel must match; ShapeError otherwise).
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
Tensor from_vector(const std::vector<double>& values, const Shape& shape);
Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& shape);
// Standard normal entries.
Tensor randn(const Shape& shape, Generator& gen, DType dtype = DType::F32);
// Uniform entries in [lo, hi).
Tensor uniform(const Shape& shape, double lo, double hi, Generator& gen, DType dtype = DType::F32);

}  // namespace mg
