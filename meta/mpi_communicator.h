// MpiCommunicator: the ranks of MPI_COMM_WORLD (Open MPI, MPICH), built only with
// the Meson feature -Dmpi. This header names no MPI type, so that its users need
// no MPI header; meta/mpi_communicator.cpp is the one file that includes <mpi.h>.
//
// Note [Collectives with a timeout]
// A blocking MPI collective waits forever for a rank that hangs (an infinite loop, a
// stopped node), and a rank that dies may leave the others blocked until the launcher
// notices. So every collective here is the non-blocking form (MPI_Iallgather,
// MPI_Ibcast, MPI_Ibarrier) polled with MPI_Test until it completes or `timeout`
// seconds pass, and errors are returned (MPI_ERRORS_RETURN) instead of aborting
// inside the library; both become a CommError naming the rank and the collective.
// The caller then ends the whole job with abort() (MPI_Abort), since the peers may
// still be blocked. The poll yields the core for its first thousand tries (a
// meta-step of the sinusoid MLP is a fraction of a millisecond, and sleeping would
// add more than that), then sleeps 100 µs per try.
#pragma once

#include "meta/communicator.h"

namespace mg::meta {

class MpiCommunicator final : public Communicator {
 public:
  // Initialises MPI (threads: funneled, only the calling thread talks to MPI) unless
  // it already is. ValueError for a timeout that is not > 0; CommError when MPI fails.
  explicit MpiCommunicator(double timeout_seconds);
  // MPI_Finalize, when this object initialised MPI.
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::vector<std::vector<std::byte>> allgather(std::span<const std::byte> mine) override;
  std::vector<std::byte> broadcast(std::span<const std::byte> buffer, int root) override;
  void barrier() override;
  [[noreturn]] void abort(int status) override;

 private:
  double timeout_;
  int rank_ = 0;
  int size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace mg::meta
