// Element types. float32 is the fast path, float64 is for gradient checks,
// int64 only carries indices (labels, gather/scatter positions) and is never
// differentiated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mg {

enum class DType : std::uint8_t { F32, F64, I64 };

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32";
    case DType::F64: return "f64";
    case DType::I64: return "i64";
  }
  return "?";
}

constexpr std::size_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }

constexpr bool is_floating(DType t) { return t != DType::I64; }

template <class T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<std::int64_t>() { return DType::I64; }

}  // namespace mg
