// A meta-batch over the ranks of a job (MPI), the run_batch of meta/driver.h one
// level up: threads split a rank's groups, ranks split the batch's groups.
//
// Note [Meta-batches over ranks]
// Every rank holds the same θ and draws the same batch (the task stream is a function
// of the step number). The groups (meta/task_group.h, plan_groups) depend on the batch
// and the task-stack setting only, never on the rank or thread count. Rank r of R runs
// the contiguous groups [G·r/R, G·(r+1)/R) on its threads, then every rank sends every
// other one its groups' results unsummed (one allgather, meta/group_wire.h), and every
// rank sums all G results in group order, the additions one process would do. So the
// sum, the outer update that every rank applies, and θ after N steps are the same bits
// for any R × T. The price: a rank receives G lists of terms, not one reduced list,
// (G − 1)/G · G · |θ| per step; an allreduce would move less but sums in an order that
// depends on R (bench/RESULTS.md, "Scaling over ranks").
//
// A step that throws on one rank is sent in place of its results, and every rank
// rethrows the exception of the lowest failed group (its type and message), as one
// process would; a rank that dies or hangs is a CommError (meta/communicator.h).
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "meta/communicator.h"
#include "meta/driver.h"

namespace mg::meta {

// The groups [first, last) that rank `rank` of `ranks` runs: G·r/R … G·(r+1)/R.
std::pair<std::size_t, std::size_t> rank_groups(std::size_t groups, int rank, int ranks);

// Runs this rank's groups of a batch of `tasks` tasks split into `groups` groups with
// `step` on `threads` workers, exchanges the results, and returns all G in group order
// (the same on every rank). ValueError when the job has more ranks than the batch has
// tasks; the exception of the lowest failed group when a step throws.
std::vector<GroupResult> run_groups_on_ranks(Communicator& comm, std::size_t tasks, std::size_t groups, int threads,
                                             const std::function<GroupResult(std::size_t group)>& step);

}  // namespace mg::meta
