// Shape: up to kMaxDims extents held inline (no heap), so that creating a tensor
// or a tape node never allocates for its shape.
//
// Note [Shape sizes]: every Shape that exists has a representable element count.
// Extents are >= 0 and the product of the nonzero extents is at most kMaxNumel
// (2^63 - 1), checked with overflow-checked multiplication whenever an extent is
// added or changed (push_back, set); a shape that would break this is a
// ShapeError naming the shape. Because zeros are skipped, [0, 2^62, 2^62] is an
// error too: its strides would overflow. So numel() and strides() need no
// checks of their own, and neither does anything that multiplies the extents of
// one valid shape. Byte counts (numel × element size) are checked where storage
// is allocated (tensor_nbytes in tensor.h).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mg {

inline constexpr int kMaxDims = 6;
inline constexpr std::int64_t kMaxNumel = INT64_MAX;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims)
      : Shape(std::span<const std::int64_t>(dims)) {}

  int ndim() const { return ndim_; }
  std::int64_t operator[](int axis) const { return dims_[static_cast<std::size_t>(axis)]; }
  // Changes one extent; ShapeError when the element count would overflow (Note [Shape sizes]).
  void set(int axis, std::int64_t d);
  std::int64_t numel() const;
  const std::int64_t* begin() const { return dims_.data(); }
  const std::int64_t* end() const { return dims_.data() + ndim_; }
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }

  // Row-major strides in elements.
  std::array<std::int64_t, kMaxDims> strides() const;

  void push_back(std::int64_t d);
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // "[2, 3]"
  std::string str() const;

 private:
  std::array<std::int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

// a × b for element and byte counts; false when the product does not fit in 64 bits.
inline bool checked_mul(std::int64_t a, std::int64_t b, std::int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// numpy broadcasting of two shapes; throws ShapeError naming `op`.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// Normalises a possibly negative axis into [0, ndim); throws ShapeError naming `op`.
int normalize_axis(std::string_view op, int axis, int ndim);

}  // namespace mg
