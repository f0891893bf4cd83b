// Shape: up to kMaxDims extents held inline (no heap), so that creating a tensor
// or a tape node never allocates for its shape.
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

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims)
      : Shape(std::span<const std::int64_t>(dims)) {}

  int ndim() const { return ndim_; }
  std::int64_t operator[](int axis) const { return dims_[static_cast<std::size_t>(axis)]; }
  std::int64_t& operator[](int axis) { return dims_[static_cast<std::size_t>(axis)]; }
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

// numpy broadcasting of two shapes; throws ShapeError naming `op`.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// Normalises a possibly negative axis into [0, ndim); throws ShapeError naming `op`.
int normalize_axis(std::string_view op, int axis, int ndim);

}  // namespace mg
