// The elementwise loops compiled once per instruction set (Note [CPU dispatch] in
// cpu.h): elementwise.cpp walks the broadcast runs and hands each run to the table
// that pick_isa() chose. A run is n elements; an operand's stride is 1 (contiguous),
// 0 (one value for the whole run) or any other step.
#pragma once

#include <cstdint>

#include "autograd/kernels/elementwise_ops.h"

namespace mg::kernels {

template <class T>
struct ElementwiseKernels {
  // out[i] = a[i·sa] (op) b[i·sb]
  void (*binary)(Binary op, const T* a, std::int64_t sa, const T* b, std::int64_t sb, T* out, std::int64_t n);
  // out[i] = f(x[i]) for the ops that vectorise: every Unary but Exp, Log, Tanh, Sigmoid
  // and Pow with p != 2 (libm calls), for which it returns false and writes nothing.
  bool (*unary)(Unary op, const T* x, T* out, std::int64_t n, T p, T q);
  // out[i] = c[i·sc] != 0 ? a[i·sa] : b[i·sb]
  void (*where)(const T* c, std::int64_t sc, const T* a, std::int64_t sa, const T* b, std::int64_t sb, T* out,
                std::int64_t n);
};

// One pair of tables per path, defined by elementwise_isa.cpp compiled three times.
namespace generic {
extern const ElementwiseKernels<float> elementwise_f32;
extern const ElementwiseKernels<double> elementwise_f64;
}  // namespace generic
namespace avx2 {
extern const ElementwiseKernels<float> elementwise_f32;
extern const ElementwiseKernels<double> elementwise_f64;
}  // namespace avx2
namespace avx512 {
extern const ElementwiseKernels<float> elementwise_f32;
extern const ElementwiseKernels<double> elementwise_f64;
}  // namespace avx512

}  // namespace mg::kernels
