#include "meta/rank_batch.h"

#include <fmt/format.h>

#include "autograd/errors.h"
#include "autograd/parallel.h"
#include "meta/group_wire.h"

namespace mg::meta {

std::pair<std::size_t, std::size_t> rank_groups(std::size_t groups, int rank, int ranks) {
  if (ranks < 1 || rank < 0 || rank >= ranks)
    throw ValueError(fmt::format("rank groups: rank {} of {} does not exist", rank, ranks));
  const auto r = static_cast<std::size_t>(rank), n = static_cast<std::size_t>(ranks);
  return {groups * r / n, groups * (r + 1) / n};
}

std::vector<GroupResult> run_groups_on_ranks(Communicator& comm, std::size_t tasks, std::size_t groups, int threads,
                                             const std::function<GroupResult(std::size_t group)>& step) {
  if (static_cast<std::size_t>(comm.size()) > tasks)
    throw ValueError(fmt::format("meta-batch: {} ranks for a batch of {} tasks; every rank needs a task, so run at "
                                 "most {} ranks",
                                 comm.size(), tasks, tasks));
  // Not a structured binding: the lambda below captures `first`, which clang 14 refuses.
  const std::pair<std::size_t, std::size_t> mine_range = rank_groups(groups, comm.rank(), comm.size());
  const std::size_t first = mine_range.first, last = mine_range.second;
  WireGroups mine;
  mine.first = first;
  mine.groups.resize(last - first);
  try {
    parallel_for(last - first, threads, [&](std::size_t i, int) { mine.groups[i] = step(first + i); });
  } catch (const std::exception& e) {  // parallel_for rethrows this rank's lowest failed group
    mine = WireGroups{first, {}, true, error_kind_of(e), e.what()};
  }
  const std::vector<std::vector<std::byte>> all = comm.allgather(encode_groups(mine));
  std::vector<GroupResult> out;
  out.reserve(groups);
  for (const std::vector<std::byte>& bytes : all) {
    WireGroups theirs = decode_groups(bytes);
    if (theirs.failed) throw_error_kind(theirs.error_kind, theirs.error);  // ranks in order: the lowest group
    if (theirs.first != out.size())
      throw CommError(fmt::format("meta-batch: internal error: a rank sent groups from {}, expected {}", theirs.first,
                                  out.size()));
    for (GroupResult& g : theirs.groups) out.push_back(std::move(g));
  }
  if (out.size() != groups)
    throw CommError(fmt::format("meta-batch: internal error: the ranks sent {} groups of {}", out.size(), groups));
  return out;
}

}  // namespace mg::meta
