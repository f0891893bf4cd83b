#include "meta/local_communicator.h"

#include <fmt/format.h>

#include <cstdlib>

namespace mg::meta {

std::vector<std::vector<std::byte>> LocalCommunicator::allgather(std::span<const std::byte> mine) {
  return {std::vector<std::byte>(mine.begin(), mine.end())};
}

std::vector<std::byte> LocalCommunicator::broadcast(std::span<const std::byte> buffer, int root) {
  if (root != 0) throw ValueError(fmt::format("broadcast: root {} is not a rank of a one-process job", root));
  return {buffer.begin(), buffer.end()};
}

void LocalCommunicator::abort(int status) { std::exit(status); }

}  // namespace mg::meta
