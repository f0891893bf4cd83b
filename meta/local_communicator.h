// LocalCommunicator: a job of one process (rank 0 of 1), the default. Its
// collectives return at once: allgather gives back the caller's own buffer.
#pragma once

#include "meta/communicator.h"

namespace mg::meta {

class LocalCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  // {mine}.
  std::vector<std::vector<std::byte>> allgather(std::span<const std::byte> mine) override;
  // `buffer`; ValueError for a root other than 0.
  std::vector<std::byte> broadcast(std::span<const std::byte> buffer, int root) override;
  void barrier() override {}
  // Flushes the output streams and ends this process with `status` (std::_Exit, as
  // MPI_Abort: no destructors run); there is no other rank to end.
  [[noreturn]] void abort(int status) override;
};

}  // namespace mg::meta
