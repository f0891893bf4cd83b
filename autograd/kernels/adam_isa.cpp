// Adam's loop for one instruction set: compiled three times, with -DMG_ISA=generic|avx2|
// avx512 and that path's flags (Note [CPU dispatch] in cpu.h). The loop is plain C++
// that the compiler vectorises: -fno-math-errno makes the square root an instruction,
// -ffp-contract=off keeps every multiply and add separate on every path.
#include "autograd/kernels/adam_isa.h"

#ifndef MG_ISA
#error "adam_isa.cpp is compiled once per path with -DMG_ISA=<path> (autograd/meson.build)"
#endif

namespace mg::kernels::MG_ISA {

namespace {

template <class T>
void update(T* __restrict theta, const T* __restrict g, T* __restrict m, T* __restrict v, std::int64_t n,
            const AdamStep& s) {
  const double b1 = s.beta1, b2 = s.beta2, keep1 = 1.0 - s.beta1, keep2 = 1.0 - s.beta2;
  const double c1 = s.c1, c2 = s.c2, l2 = s.l2, shrink = s.shrink, lr = s.lr, eps = s.eps;
  for (std::int64_t j = 0; j < n; ++j) {
    const double th = static_cast<double>(theta[j]) * shrink;
    const double d = static_cast<double>(g[j]) + l2 * static_cast<double>(theta[j]);
    const double mj = b1 * static_cast<double>(m[j]) + keep1 * d;
    const double vj = b2 * static_cast<double>(v[j]) + keep2 * d * d;
    m[j] = static_cast<T>(mj);
    v[j] = static_cast<T>(vj);
    theta[j] = static_cast<T>(th - lr * (mj / c1) / (__builtin_sqrt(vj / c2) + eps));
  }
}

}  // namespace

const AdamKernels<float> adam_f32 = {&update<float>};
const AdamKernels<double> adam_f64 = {&update<double>};

}  // namespace mg::kernels::MG_ISA
