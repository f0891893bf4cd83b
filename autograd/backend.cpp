#include "autograd/backend.h"

#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"

namespace mg {

void set_blas_threads(int n) { kernels::set_blas_threads(n); }
int blas_threads() { return kernels::blas_threads(); }
std::string_view cpu_path() { return kernels::isa_name(kernels::active_isa()); }

}  // namespace mg
