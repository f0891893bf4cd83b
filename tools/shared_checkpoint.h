// The checkpoint of a --resume on every rank of an MPI job, read by rank 0 alone: the
// other ranks get its bytes by broadcast, so that --out need only be on rank 0's disk.
//
//   SharedCheckpoint c(comm, checkpoint_path(config));   // collective
//   load_checkpoint(c.path(), ...);                       // rank 0: the file; others: a copy
#pragma once

#include <string>

#include "meta/communicator.h"

namespace mg::tools {

class SharedCheckpoint {
 public:
  // Rank 0 (or a job of one, or a null `comm`) uses `path` itself; every other rank
  // writes rank 0's bytes to a file of its own in the temp folder ($TMPDIR). DataError
  // when `path` is not a readable file on rank 0 (check_path's error), or a rank cannot
  // write its copy.
  SharedCheckpoint(meta::Communicator* comm, const std::string& path);
  // Removes the copy.
  ~SharedCheckpoint();
  SharedCheckpoint(const SharedCheckpoint&) = delete;
  SharedCheckpoint& operator=(const SharedCheckpoint&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool copy_ = false;
};

}  // namespace mg::tools
