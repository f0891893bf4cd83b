// Communicator: what the meta-batch driver needs from the processes of a job (MPI
// ranks, Note [Meta-batches over ranks] in meta/rank_batch.h): its rank and size,
// and three collectives. Two implementations: LocalCommunicator (one process, the
// default; meta/local_communicator.h) and MpiCommunicator (meta/mpi_communicator.h,
// built only with the Meson feature -Dmpi). world_communicator() (meta/world.h)
// picks one, so that no file above this one needs an MPI header.
//
//   std::shared_ptr<Communicator> comm = world_communicator();
//   std::vector<std::vector<std::byte>> all = comm->allgather(mine);  // all[r]: rank r's bytes
//
// Every collective either completes on every rank or throws CommError on the ranks
// that see the failure, within the communicator's timeout: a rank that dies or hangs
// never leaves the others waiting forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "autograd/errors.h"

namespace mg::meta {

// A collective failed: a rank died, hung past the timeout, or the transport reported an error.
struct CommError : Error {
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;

  // Every rank's `mine`, in rank order (buffers of any size, empty included).
  virtual std::vector<std::vector<std::byte>> allgather(std::span<const std::byte> mine) = 0;
  // `root`'s `buffer` on every rank (the other ranks' `buffer` is ignored).
  virtual std::vector<std::byte> broadcast(std::span<const std::byte> buffer, int root) = 0;
  // Returns once every rank has called it.
  virtual void barrier() = 0;
  // Ends every rank of the job now, with exit status `status`: after a CommError the
  // other ranks may be blocked in a collective that will never complete.
  [[noreturn]] virtual void abort(int status) = 0;

  // Bytes this rank has sent and received through the collectives (payloads only,
  // counted here, not by the transport; for bench/RESULTS.md's model).
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::uint64_t bytes_received() const { return bytes_received_; }

 protected:
  Communicator() = default;
  void count(std::uint64_t sent, std::uint64_t received) {
    bytes_sent_ += sent;
    bytes_received_ += received;
  }

 private:
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
};

}  // namespace mg::meta
