// The public view of the compute backend (autograd/backend.h) agrees with the kernels'.
#include <doctest/doctest.h>

#include <string>

#include "autograd/backend.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"

using namespace mg;

TEST_SUITE("cpu") {
  TEST_CASE("backend: cpu_path names the active kernel path; blas threads round-trip") {
    CHECK(cpu_path() == kernels::isa_name(kernels::active_isa()));
    CHECK(kernels::isa_from_name(cpu_path()).has_value());
    const int before = blas_threads();
    set_blas_threads(1);
    CHECK(blas_threads() == 1);
    set_blas_threads(before);
    CHECK(blas_threads() == before);
  }

  TEST_CASE("kernels::blas_config names the BLAS build (the benchmarks' context line)") {
    const std::string config = kernels::blas_config();
    CHECK(!config.empty());
  }
}
