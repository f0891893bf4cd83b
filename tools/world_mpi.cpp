// world_communicator() of a build with MPI (-Dmpi; tools/world.h).
#include <cstdlib>
#include <optional>
#include <string>

#include "meta/local_communicator.h"
#include "meta/mpi_communicator.h"
#include "tools/world.h"

namespace mg::tools {

std::shared_ptr<meta::Communicator> world_communicator() {
  const auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (launcher_world_size(env) <= 1) return std::make_shared<meta::LocalCommunicator>();
  const char* timeout = env("METAGRAD_MPI_TIMEOUT");
  return std::make_shared<meta::MpiCommunicator>(mpi_timeout(timeout ? std::optional<std::string>(timeout)
                                                                     : std::nullopt));
}

}  // namespace mg::tools
