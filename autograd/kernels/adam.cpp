#include "autograd/kernels/adam.h"

#include <string>
#include <type_traits>

#include "autograd/errors.h"
#include "autograd/kernels/cpu.h"

namespace mg::kernels {

void adam_update(Tensor& theta, const Tensor& grad, Tensor& m, Tensor& v, const AdamStep& step) {
  const auto check = [&](const Tensor& t, const char* name) {
    if (t.dtype() != theta.dtype() || t.numel() != theta.numel())
      throw ValueError(std::string("adam_update: ") + name + " must be " + std::string(dtype_name(theta.dtype())) +
                       " with " + std::to_string(theta.numel()) + " elements like theta, got " +
                       std::string(dtype_name(t.dtype())) + " with " + std::to_string(t.numel()));
  };
  check(grad, "grad");
  check(m, "m");
  check(v, "v");
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
