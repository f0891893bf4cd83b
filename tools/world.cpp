#include "tools/world.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <string_view>

#include "autograd/errors.h"
#include "tools/numbers.h"

namespace mg::tools {

double mpi_timeout(const std::optional<std::string>& value) {
  if (!value) return kDefaultMpiTimeout;
  const std::optional<double> v = to_number<double>(*value);
  if (!v || !std::isfinite(*v) || *v <= 0.0 || *v > 86400.0)
    throw ValueError(fmt::format("METAGRAD_MPI_TIMEOUT must be a number of seconds in (0, 86400], got '{}'", *value));
  return *v;
}

int launcher_world_size(const std::function<const char*(const char*)>& env) {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    if (std::string_view(name) == "SLURM_NTASKS" && !env("PMIX_RANK")) continue;
    const char* value = env(name);
    if (!value) continue;
    const std::optional<int> n = to_number<int>(value);
    if (!n || *n < 1) throw ValueError(fmt::format("{} must be a count of ranks >= 1, got '{}'", name, value));
    return *n;
  }
  return 1;
}

}  // namespace mg::tools
