// world_communicator() of a build without MPI (tools/world.h).
#include <fmt/format.h>

#include <cstdlib>

#include "autograd/errors.h"
#include "meta/local_communicator.h"
#include "tools/world.h"

namespace mg::tools {

std::shared_ptr<meta::Communicator> world_communicator() {
  const int ranks = launcher_world_size([](const char* name) -> const char* { return std::getenv(name); });
  if (ranks > 1)
    throw ValueError(fmt::format("started as one of {} MPI ranks, but this metalearn was built without MPI (each rank "
                                 "would train alone and write the same files); rebuild with libopenmpi-dev installed "
                                 "(meson setup -Dmpi=enabled)",
                                 ranks));
  return std::make_shared<meta::LocalCommunicator>();
}

}  // namespace mg::tools
