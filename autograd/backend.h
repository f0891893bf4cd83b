// The compute backend as the floors above see it: which CPU path the kernels run and
// how many threads BLAS may use. Programs (tools/, users) ask here instead of reaching
// into autograd/kernels/, which is not a public header directory.
//
//   mg::set_blas_threads(1);   // tasks run on worker threads; BLAS stays serial in each
//   fmt::print("{} kernels\n", mg::cpu_path());
#pragma once

#include <string_view>

namespace mg {

// The number of threads OpenBLAS may use inside one product, and what it is now.
void set_blas_threads(int n);
int blas_threads();

// The CPU path the kernels run: "generic", "avx2" or "avx512" (Note [CPU dispatch] in
// autograd/kernels/cpu.h; METAGRAD_CPU forces one).
std::string_view cpu_path();

}  // namespace mg
