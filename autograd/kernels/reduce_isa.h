// The sum loops compiled once per instruction set (Note [CPU dispatch] in cpu.h).
// reduce.cpp walks the runs of the input and hands each to the table that
// pick_isa() chose; the sums accumulate in double on every path, in one order.
#pragma once

#include <cstdint>

namespace mg::kernels {

template <class T>
struct ReduceKernels {
  // Adds a run of n inputs x into the double accumulators: with inner == 0 all into
  // acc[0] (Note [Sum order] in reduce_isa.cpp), with inner == 1 x[i] into acc[i].
  void (*sum_run)(const T* x, std::int64_t n, std::int64_t inner, double* acc);
  // out[i] = T(acc[i]), rounding the double sums once.
  void (*narrow)(const double* acc, T* out, std::int64_t n);
};

namespace generic {
extern const ReduceKernels<float> reduce_f32;
extern const ReduceKernels<double> reduce_f64;
}  // namespace generic
namespace avx2 {
extern const ReduceKernels<float> reduce_f32;
extern const ReduceKernels<double> reduce_f64;
}  // namespace avx2
namespace avx512 {
extern const ReduceKernels<float> reduce_f32;
extern const ReduceKernels<double> reduce_f64;
}  // namespace avx512

}  // namespace mg::kernels
