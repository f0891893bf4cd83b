#include "autograd/kernels/adam.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

#include "autograd/errors.h"
#include "autograd/kernels/cpu.h"

namespace mg::kernels {

namespace {

// ValueError unless grad, m and v have theta's dtype and number of elements.
void check_operands(const char* who, const Tensor& theta, const Tensor& grad, const Tensor& m, const Tensor& v) {
  const auto check = [&](const Tensor& t, const char* name) {
    if (t.dtype() != theta.dtype() || t.numel() != theta.numel())
      throw ValueError(std::string(who) + ": " + name + " must be " + std::string(dtype_name(theta.dtype())) +
                       " with " + std::to_string(theta.numel()) + " elements like theta, got " +
                       std::string(dtype_name(t.dtype())) + " with " + std::to_string(t.numel()));
  };
  check(grad, "grad");
  check(m, "m");
  check(v, "v");
}

}  // namespace

void adam_update_scalar(Tensor& theta, const Tensor& grad, Tensor& m, Tensor& v, const AdamStep& s) {
  check_operands("adam_update_scalar", theta, grad, m, v);
  dispatch_float("adam_update_scalar", theta.dtype(), [&]<class T>() {
    T* th = theta.mutable_data<T>();
    const T* g = grad.data<T>();
    T* pm = m.mutable_data<T>();
    T* pv = v.mutable_data<T>();
    for (std::int64_t j = 0; j < theta.numel(); ++j) {
      const double x = static_cast<double>(th[j]) * s.shrink;
      const double d = static_cast<double>(g[j]) + s.l2 * static_cast<double>(th[j]);
      const double mj = s.beta1 * static_cast<double>(pm[j]) + (1.0 - s.beta1) * d;
      const double vj = s.beta2 * static_cast<double>(pv[j]) + (1.0 - s.beta2) * d * d;
      pm[j] = static_cast<T>(mj);
      pv[j] = static_cast<T>(vj);
      th[j] = static_cast<T>(x - s.lr * (mj / s.c1) / (std::sqrt(vj / s.c2) + s.eps));
    }
  });
}

void adam_update(Tensor& theta, const Tensor& grad, Tensor& m, Tensor& v, const AdamStep& step) {
  check_operands("adam_update", theta, grad, m, v);
  dispatch_float("adam_update", theta.dtype(), [&]<class T>() {
    const AdamKernels<T>& k = [] {
      if constexpr (std::is_same_v<T, float>)
        return pick_isa(generic::adam_f32, avx2::adam_f32, avx512::adam_f32);
      else
        return pick_isa(generic::adam_f64, avx2::adam_f64, avx512::adam_f64);
    }();
    k.update(theta.mutable_data<T>(), grad.data<T>(), m.mutable_data<T>(), v.mutable_data<T>(), theta.numel(), step);
  });
}

}  // namespace mg::kernels
