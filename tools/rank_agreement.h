// Ranks that agree: every rank of an MPI job must start the same run, the same
// binary, flags, data and starting state, or the bits of the ranks part ways
// silently (Note [Meta-batches over ranks], meta/rank_batch.h). So before the first
// step the ranks compare a description of their run, and its hash names it:
//
//   mpi: rank 1 runs another configuration than rank 0 (hash 3f2a… vs 9c01…): config.seed
//   is 2 there, 1 on rank 0; start every rank with the same metalearn, flags and files
#pragma once

#include <cstdint>
#include <string>

#include "meta/communicator.h"
#include "tools/experiment.h"

namespace mg::tools {

// One "key = value" line per setting: the checkpoint's config.* entries, a hash of the
// program's file (/proc/self/exe), its compiler, the byte order, the first iteration,
// and a hash of every parameter and optimizer tensor. Not the kernel path: nodes whose
// CPUs pick different kernels still agree bit for bit (Note [CPU dispatch] in
// autograd/kernels/cpu.h; the suites run on every path).
std::string describe_run(const Experiment& e, std::int64_t first_iteration);

// FNV-1a of `description`, printed in the error.
std::uint64_t run_hash(const std::string& description);

// Compares every rank's description with rank 0's (one allgather); ValueError naming
// the lowest rank that differs and its first differing line, on every rank.
void check_ranks_agree(meta::Communicator& comm, const std::string& description);

}  // namespace mg::tools
