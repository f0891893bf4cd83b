// The sum loops of one instruction set: compiled three times, with
// -DMG_ISA=generic|avx2|avx512 and that path's flags (Note [CPU dispatch] in cpu.h).
//
// Note [Sum order]: a run summed into one output (inner == 0) keeps four partial sums,
// element i going to partial i mod 4 (the tail past the last multiple of four to
// partial 0, which starts from the output's value so far), and ends with
// (p0 + p1) + (p2 + p3). Four independent chains hide the add latency, and they are
// exactly one AVX2 vector of doubles. The order is part of the result: every path
// keeps it (a wider vector would regroup the additions and change the last bits), and
// the objects are built without any reassociation, so sums are bit-identical on every
// path; the wider paths gain on the float → double conversions and on runs summed
// elementwise (inner == 1: reducing a leading axis).
#include "autograd/kernels/reduce_isa.h"

#ifndef MG_ISA
#error "reduce_isa.cpp is compiled once per path with -DMG_ISA=<path> (autograd/meson.build)"
#endif

namespace mg::kernels::MG_ISA {

namespace {

using I64 = std::int64_t;

template <class T>
void sum_run(const T* __restrict x, I64 n, I64 inner, double* __restrict acc) {
  if (inner == 0) {
    double v[4] = {acc[0], 0.0, 0.0, 0.0};
    I64 i = 0;
    for (; i + 4 <= n; i += 4)
      for (int k = 0; k < 4; ++k) v[k] = v[k] + static_cast<double>(x[i + k]);
    for (; i < n; ++i) v[0] = v[0] + static_cast<double>(x[i]);
    acc[0] = (v[0] + v[1]) + (v[2] + v[3]);
  } else {
    for (I64 i = 0; i < n; ++i) acc[i] = acc[i] + static_cast<double>(x[i]);
  }
}

template <class T>
void narrow(const double* __restrict acc, T* __restrict out, I64 n) {
  for (I64 i = 0; i < n; ++i) out[i] = static_cast<T>(acc[i]);
}

}  // namespace

extern const ReduceKernels<float> reduce_f32{sum_run<float>, narrow<float>};
extern const ReduceKernels<double> reduce_f64{sum_run<double>, narrow<double>};

}  // namespace mg::kernels::MG_ISA
