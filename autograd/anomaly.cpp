#include "autograd/anomaly.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/errors.h"

namespace mg {

DetectAnomaly::DetectAnomaly(bool on) : previous_(detail::t_anomaly) { detail::t_anomaly = on; }
DetectAnomaly::~DetectAnomaly() { detail::t_anomaly = previous_; }

bool anomaly_enabled() { return detail::t_anomaly; }

namespace {

// Index of the first non-finite element, or -1. A float is finite exactly when its
// exponent bits are not all ones; testing the bits (no branch per element, no
// floating-point compare) lets the loop vectorise.
template <class T, class Bits>
std::int64_t first_non_finite(const T* p, std::int64_t n) {
  constexpr Bits kExponent = sizeof(T) == 4 ? Bits(0x7F800000u) : Bits(0x7FF0000000000000ull);
  constexpr std::int64_t kBlock = 1024;
  for (std::int64_t start = 0; start < n; start += kBlock) {
    const std::int64_t end = std::min(n, start + kBlock);
    bool bad = false;
    for (std::int64_t i = start; i < end; ++i) {
      Bits b;
      std::memcpy(&b, p + i, sizeof b);
      bad |= (b & kExponent) == kExponent;
    }
    if (bad)
      for (std::int64_t i = start; i < end; ++i)
        if (!std::isfinite(p[i])) return i;
  }
  return -1;
}

std::int64_t first_non_finite(const Tensor& t) {
  switch (t.dtype()) {
    case DType::F32: return first_non_finite<float, std::uint32_t>(t.data<float>(), t.numel());
    case DType::F64: return first_non_finite<double, std::uint64_t>(t.data<double>(), t.numel());
    case DType::I64: break;
  }
  return -1;
}

char operand_name(std::size_t i) { return static_cast<char>('a' + i); }

}  // namespace

bool all_finite(const Tensor& t) { return first_non_finite(t) < 0; }

const char* non_finite_kind(const Tensor& t) {
  const std::int64_t i = first_non_finite(t);
  if (i < 0) return "";
  const double v = t.dtype() == DType::F32 ? static_cast<double>(t.data<float>()[i]) : t.data<double>()[i];
  return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

namespace detail {

namespace {

std::string operand_shapes(std::span<const Shape> inputs, const Shape& result) {
  std::string out;
  for (std::size_t i = 0; i < inputs.size(); ++i) out += fmt::format("{} is {}, ", operand_name(i), inputs[i].str());
  return out + fmt::format("result is {}", result.str());
}

}  // namespace

void anomaly_check_op(OpId op, std::span<const Tensor* const> inputs, const Tensor& out) {
  const char* kind = non_finite_kind(out);
  if (*kind == '\0') return;
  for (const Tensor* t : inputs)
    if (!all_finite(*t)) return;  // passed on, not produced (Note [Anomaly: the first producer])
  if (t_anomaly_backward) {
    const AnomalyBackward& b = *t_anomaly_backward;
    anomaly_throw_backward(b, b.summing ? std::string("summing its gradients into its inputs' ones")
                                        : fmt::format("its formula's {}", op_name(op)),
                           kind);
  }
  std::vector<Shape> shapes;
  for (const Tensor* t : inputs) shapes.push_back(t->shape());
  const std::string where = out.is_leaf() ? std::string("(not recorded on the tape)")
                                          : fmt::format("at tape position %{}", out.node());
  throw AnomalyError(fmt::format("anomaly: {} produced {} in forward {}: {}", op_name(op), kind, where,
                                 operand_shapes(shapes, out.shape())));
}

void anomaly_throw_backward(const AnomalyBackward& b, const std::string& where, const char* kind) {
  throw AnomalyError(fmt::format("anomaly: {} produced {} in backward at tape position %{} ({}): {}, grad is {}",
                                 op_name(b.op), kind, b.node, where, operand_shapes(b.input_shapes, *b.output_shape),
                                 b.grad->shape().str()));
}

}  // namespace detail
}  // namespace mg
