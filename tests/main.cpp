// The doctest main of the single test binary (see tests/meson.build).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "autograd/kernels/blas.h"

int main(int argc, char** argv) {
  // Results must not depend on how many threads BLAS happens to use.
  mg::kernels::set_blas_threads(1);
  doctest::Context context(argc, argv);
  return context.run();
}
