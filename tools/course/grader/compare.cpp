#include "tools/course/grader/compare.h"

#include <cmath>
#include <exception>

namespace mg::course {

bool close(const Tensor& a, const Tensor& b, double tol) {
  if (!a.defined() || !b.defined() || a.shape() != b.shape()) return false;
  const std::vector<double> x = a.to(DType::F64).to_vector<double>(), y = b.to(DType::F64).to_vector<double>();
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!(std::abs(x[i] - y[i]) <= tol * (1.0 + std::abs(y[i])))) return false;
  return true;
}

bool all_close(std::span<const Tensor> a, std::span<const Tensor> b, double tol) {
  if (a.size() != b.size()) return false;
  for (std::size_t j = 0; j < a.size(); ++j)
    if (!close(a[j], b[j], tol)) return false;
  return true;
}

bool all_finite(std::span<const Tensor> ts) {
  for (const Tensor& t : ts)
    for (double v : t.to(DType::F64).to_vector<double>())
      if (!std::isfinite(v)) return false;
  return true;
}

bool runs(const std::function<void()>& body, std::string& error) {
  try {
    body();
    return true;
  } catch (const std::exception& e) {
    error = std::string("threw: ") + e.what();
    return false;
  }
}

}  // namespace mg::course
