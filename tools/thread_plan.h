// How a run spends its --threads: on whole tasks, or on each op's work (--parallel).
// Note [Two ways to use two cores] (autograd/kernels/worker_pool.h) says why both exist;
// the results are bit-identical either way, so the choice is about memory and speed.
#pragma once

#include <string>
#include <string_view>

namespace mg::tools {

struct ThreadPlan {
  int task_threads = 1;  // the learner's worker threads over the tasks of a batch
  int op_threads = 1;    // the parts each big kernel splits into (kernels::OpThreads)
  // "2 threads over tasks", "2 threads over each op's work", "1 thread"
  std::string describe() const;
};

// The plan for `parallel` (auto | tasks | ops) on `dataset` with `threads` threads.
// auto: ops for omniglot (conv nets: one task graph alive instead of one per thread, at
// about the same speed), tasks for the rest (small models, whose ops are too short to
// split). ValueError naming `who` and the value for anything else.
ThreadPlan plan_threads(std::string_view who, const std::string& parallel, const std::string& dataset, int threads);

}  // namespace mg::tools
