#include "meta/local_communicator.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace mg::meta {

std::vector<std::vector<std::byte>> LocalCommunicator::allgather(std::span<const std::byte> mine) {
  return {std::vector<std::byte>(mine.begin(), mine.end())};
}

std::vector<std::byte> LocalCommunicator::broadcast(std::span<const std::byte> buffer, int root) {
  if (root != 0) throw ValueError(fmt::format("broadcast: root {} is not a rank of a one-process job", root));
  return {buffer.begin(), buffer.end()};
}

// As MPI_Abort: the streams are flushed, but no destructor runs (a worker pool's threads
// may be mid-task).
void LocalCommunicator::abort(int status) {
  std::fflush(nullptr);
  std::_Exit(status);
}

}  // namespace mg::meta
