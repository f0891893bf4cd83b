#include "meta/mpi_communicator.h"

#include <fmt/format.h>

// The C API only: MPI's deprecated C++ bindings are not warning-free.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>

namespace mg::meta {

namespace {

void check(int code, int rank, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw CommError(fmt::format("mpi: rank {}: {} failed: {}", rank, what, std::string(text, static_cast<std::size_t>(
                                                                                             length))));
}

// Note [Collectives with a timeout].
void wait_for(MPI_Request& request, double timeout, int rank, const char* what) {
  const auto start = std::chrono::steady_clock::now();
  for (int tries = 0;; ++tries) {
    int done = 0;
    check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), rank, what);
    if (done) return;
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > timeout)
      throw CommError(fmt::format("mpi: rank {}: {}: not every rank answered within {} s: a rank died or hangs "
                                  "(METAGRAD_MPI_TIMEOUT sets the limit)",
                                  rank, what, timeout));
    if (tries < 1000)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

int as_count(std::uint64_t n, int rank, const char* what) {
  if (n > static_cast<std::uint64_t>(INT_MAX))
    throw CommError(fmt::format("mpi: rank {}: {}: {} bytes exceed MPI's count limit of {}", rank, what, n, INT_MAX));
  return static_cast<int>(n);
}

}  // namespace

MpiCommunicator::MpiCommunicator(double timeout_seconds) : timeout_(timeout_seconds) {
  if (!(timeout_seconds > 0.0) || !std::isfinite(timeout_seconds))
    throw ValueError(fmt::format("mpi: the timeout must be a finite number of seconds > 0, got {}", timeout_seconds));
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), 0, "MPI_Init_thread");
    owns_mpi_ = true;
  }
  check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), 0, "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), 0, "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), rank_, "MPI_Comm_size");
}

MpiCommunicator::~MpiCommunicator() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (owns_mpi_ && !finalised) MPI_Finalize();
}

std::vector<std::vector<std::byte>> MpiCommunicator::allgather(std::span<const std::byte> mine) {
  const std::uint64_t n = mine.size();
  std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
  MPI_Request request;
  check(MPI_Iallgather(&n, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD, &request), rank_,
        "allgather (sizes)");
  wait_for(request, timeout_, rank_, "allgather (sizes)");
  std::vector<int> counts, displacements;
  std::uint64_t total = 0;
  for (const std::uint64_t s : sizes) {
    displacements.push_back(as_count(total, rank_, "allgather"));
    counts.push_back(as_count(s, rank_, "allgather"));
    total += s;
  }
  as_count(total, rank_, "allgather");
  std::vector<std::byte> all(total);
  check(MPI_Iallgatherv(mine.data(), static_cast<int>(n), MPI_BYTE, all.data(), counts.data(), displacements.data(),
                        MPI_BYTE, MPI_COMM_WORLD, &request),
        rank_, "allgather");
  wait_for(request, timeout_, rank_, "allgather");
  std::vector<std::vector<std::byte>> out;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    const auto begin = all.begin() + displacements[r];
    out.emplace_back(begin, begin + counts[r]);
  }
  const auto peers = static_cast<std::uint64_t>(size_ - 1);
  count((n + sizeof n) * peers, total - n + sizeof n * peers);
  return out;
}

std::vector<std::byte> MpiCommunicator::broadcast(std::span<const std::byte> buffer, int root) {
  if (root < 0 || root >= size_)
    throw ValueError(fmt::format("broadcast: root {} is not a rank of a job of {}", root, size_));
  std::uint64_t n = buffer.size();
  MPI_Request request;
  check(MPI_Ibcast(&n, 1, MPI_UINT64_T, root, MPI_COMM_WORLD, &request), rank_, "broadcast (size)");
  wait_for(request, timeout_, rank_, "broadcast (size)");
  std::vector<std::byte> out(n);
  if (rank_ == root) out.assign(buffer.begin(), buffer.end());
  check(MPI_Ibcast(out.data(), as_count(n, rank_, "broadcast"), MPI_BYTE, root, MPI_COMM_WORLD, &request), rank_,
        "broadcast");
  wait_for(request, timeout_, rank_, "broadcast");
  if (rank_ == root)
    count((n + sizeof n) * static_cast<std::uint64_t>(size_ - 1), 0);
  else
    count(0, n + sizeof n);
  return out;
}

void MpiCommunicator::barrier() {
  MPI_Request request;
  check(MPI_Ibarrier(MPI_COMM_WORLD, &request), rank_, "barrier");
  wait_for(request, timeout_, rank_, "barrier");
}

void MpiCommunicator::abort(int status) {
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);  // MPI_Abort should not return
}

}  // namespace mg::meta
