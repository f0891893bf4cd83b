#include "autograd/shape.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg {

namespace {
void check_rank(std::size_t n) {
  if (n > static_cast<std::size_t>(kMaxDims))
    throw ShapeError(fmt::format("shape: too many dimensions: {} (at most {})", n, kMaxDims));
}
void check_extent(std::int64_t d) {
  if (d < 0) throw ShapeError(fmt::format("shape: negative extent {}", d));
}
// Note [Shape sizes]: the product of the nonzero extents must fit in an int64.
void check_count(const std::int64_t* dims, int n) {
  std::int64_t count = 1;
  for (int i = 0; i < n; ++i) {
    if (dims[i] == 0) continue;
    if (!checked_mul(count, dims[i], &count)) {
      std::string text;
      for (int j = 0; j < n; ++j) text += (j ? ", " : "") + std::to_string(dims[j]);
      throw ShapeError(fmt::format("shape: element count overflows: [{}] has more than {} elements", text,
                                   kMaxNumel));
    }
  }
}
}  // namespace

Shape::Shape(std::initializer_list<std::int64_t> dims) : Shape(std::span(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const std::int64_t> dims) {
  check_rank(dims.size());
  for (std::int64_t d : dims) check_extent(d);
  check_count(dims.data(), static_cast<int>(dims.size()));  // names the whole shape
  for (std::int64_t d : dims) dims_[static_cast<std::size_t>(ndim_++)] = d;
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) n *= dims_[static_cast<std::size_t>(i)];
  return n;
}

std::array<std::int64_t, kMaxDims> Shape::strides() const {
  std::array<std::int64_t, kMaxDims> s{};
  std::int64_t acc = 1;
  for (int i = ndim_ - 1; i >= 0; --i) {
    s[static_cast<std::size_t>(i)] = acc;
    acc *= dims_[static_cast<std::size_t>(i)];
  }
  return s;
}

void Shape::push_back(std::int64_t d) {
  check_rank(static_cast<std::size_t>(ndim_) + 1);
  check_extent(d);
  std::array<std::int64_t, kMaxDims> next = dims_;
  next[static_cast<std::size_t>(ndim_)] = d;
  check_count(next.data(), ndim_ + 1);
  dims_ = next;
  ++ndim_;
}

void Shape::set(int axis, std::int64_t d) {
  if (axis < 0 || axis >= ndim_)
    throw ShapeError(fmt::format("shape: axis {} is out of range for a shape of rank {}", axis, ndim_));
  check_extent(d);
  std::array<std::int64_t, kMaxDims> next = dims_;
  next[static_cast<std::size_t>(axis)] = d;
  check_count(next.data(), ndim_);
  dims_ = next;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i)
    if ((*this)[i] != o[i]) return false;
  return true;
}

std::string Shape::str() const { return fmt::format("[{}]", fmt::join(begin(), end(), ", ")); }

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const int n = std::max(a.ndim(), b.ndim());
  Shape out;
  for (int i = 0; i < n; ++i) {
    const int ia = a.ndim() - n + i, ib = b.ndim() - n + i;
    const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (da != db && da != 1 && db != 1)
      throw ShapeError(fmt::format("{}: shapes cannot be broadcast: a is {}, b is {} (dim {}: {} vs {})",
                                   op, a.str(), b.str(), i, da, db));
    out.push_back(da == 1 ? db : da);
  }
  return out;
}

int normalize_axis(std::string_view op, int axis, int ndim) {
  const int a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= std::max(ndim, 1) || (ndim == 0))
    throw ShapeError(fmt::format("{}: axis {} is out of range for a tensor of rank {}", op, axis, ndim));
  return a;
}

}  // namespace mg
