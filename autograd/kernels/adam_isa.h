// Adam's update of one parameter tensor, compiled once per instruction set (Note [CPU
// dispatch] in cpu.h). nn::Adam (nn/adam.cpp) computes the step's coefficients and
// calls adam_update (adam.h), which picks the table of the active path.
//
// Every path does the same IEEE double operations per element, without fused
// multiply-adds, so the parameters and moments are bit-identical on every path (and
// to the scalar loop that nn::Adam ran before this kernel existed).
#pragma once

#include <cstdint>

namespace mg::kernels {

// One step's numbers (nn/adam.h has their meaning): the moments' decay rates, their
// bias corrections c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ, the L2 coefficient added to the
// gradient, the decoupled decay's factor on θ, the learning rate and ε.
struct AdamStep {
  double beta1 = 0.9, beta2 = 0.999, c1 = 1.0, c2 = 1.0, l2 = 0.0, shrink = 1.0, lr = 1e-3, eps = 1e-8;
};

template <class T>
struct AdamKernels {
  // For each of the n elements: d = g + l2·θ; m ← β1·m + (1 − β1)·d;
  // v ← β2·v + (1 − β2)·d·d; θ ← shrink·θ − lr·(m / c1) / (√(v / c2) + ε).
  void (*update)(T* theta, const T* g, T* m, T* v, std::int64_t n, const AdamStep& s);
};

namespace generic {
extern const AdamKernels<float> adam_f32;
extern const AdamKernels<double> adam_f64;
}  // namespace generic
namespace avx2 {
extern const AdamKernels<float> adam_f32;
extern const AdamKernels<double> adam_f64;
}  // namespace avx2
namespace avx512 {
extern const AdamKernels<float> adam_f32;
extern const AdamKernels<double> adam_f64;
}  // namespace avx512

}  // namespace mg::kernels
