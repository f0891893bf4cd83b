// fmt printing of shapes, dtypes and tensors:
//   fmt::print("{}", x)   ->  tensor([[0.1000, -1.2000], [3.0000, 4.0000]], f32)
// Large tensors print the first and last three entries of each long dimension.
#pragma once

#include <fmt/format.h>

#include <string>

#include "autograd/tensor.h"

namespace mg {
std::string to_string(const Tensor& t);
}

template <>
struct fmt::formatter<mg::Shape> : fmt::formatter<std::string> {
  auto format(const mg::Shape& s, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(s.str(), ctx);
  }
};

template <>
struct fmt::formatter<mg::DType> : fmt::formatter<std::string_view> {
  auto format(mg::DType t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(mg::dtype_name(t), ctx);
  }
};

template <>
struct fmt::formatter<mg::Tensor> : fmt::formatter<std::string> {
  auto format(const mg::Tensor& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(mg::to_string(t), ctx);
  }
};
