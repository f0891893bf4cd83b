#include "autograd/format.h"

namespace mg {

namespace {
constexpr std::int64_t kEdge = 3;  // entries shown at each end of a long dimension

void append_value(std::string& out, const Tensor& t, std::int64_t flat) {
  const void* p = t.raw_data();
  switch (t.dtype()) {
    case DType::F32: out += fmt::format("{:.4f}", static_cast<const float*>(p)[flat]); break;
    case DType::F64: out += fmt::format("{:.6f}", static_cast<const double*>(p)[flat]); break;
    case DType::I64: out += fmt::format("{}", static_cast<const std::int64_t*>(p)[flat]); break;
  }
}

void append_dim(std::string& out, const Tensor& t, int axis, std::int64_t offset, bool summarize) {
  const Shape& s = t.shape();
  if (axis == s.ndim()) return append_value(out, t, offset);
  const std::int64_t stride = s.strides()[static_cast<std::size_t>(axis)];
  const std::int64_t n = s[axis];
  out += '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdge && i == kEdge) {
      out += "..., ";
      i = n - kEdge - 1;
      continue;
    }
    append_dim(out, t, axis + 1, offset + i * stride, summarize);
    if (i + 1 < n) out += ", ";
  }
  out += ']';
}
}  // namespace

std::string to_string(const Tensor& t) {
  if (!t.defined()) return "tensor(undefined)";
  std::string out = "tensor(";
  append_dim(out, t, 0, 0, t.numel() > 1000);
  out += fmt::format(", {}", dtype_name(t.dtype()));
  if (t.requires_grad()) out += ", requires_grad";
  out += ')';
  return out;
}

}  // namespace mg
