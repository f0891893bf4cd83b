// The doctest main of the single test binary (see tests/meson.build).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "autograd/errors.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"

int main(int argc, char** argv) {
  // Results must not depend on how many threads BLAS happens to use.
  mg::kernels::set_blas_threads(1);
  // METAGRAD_CPU forces a kernel path (tests/meson.build runs suites on each). A path
  // this CPU lacks is a skip (77, Meson's SKIP), an unknown value a failure.
  const char* forced = std::getenv("METAGRAD_CPU");
  if (forced != nullptr && *forced != '\0') {
    const auto isa = mg::kernels::isa_from_name(forced);
    if (isa && *isa > mg::kernels::cpu_isa()) {
      std::printf("skipped: METAGRAD_CPU=%s, but this CPU runs at most %s\n", forced,
                  std::string(mg::kernels::isa_name(mg::kernels::cpu_isa())).c_str());
      return 77;
    }
    try {
      mg::kernels::active_isa();
    } catch (const mg::ValueError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
  }
  doctest::Context context(argc, argv);
  return context.run();
}
