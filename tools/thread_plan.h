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

// The plan for `parallel` (auto | tasks | ops) with `threads` threads. auto: tasks, unless
// `ops_first` (the caller's reasons: training the pretrained classifier is one joint pass
// over the batch, which only ops can split; the profiler times its own thread's ops). Over tasks two threads ran Omniglot's conv4
// MAML 1.85-2.02x as fast as one, over ops 1.34-1.55x (bench/RESULTS.md, session 13), at
// the price of one task graph alive per thread instead of one in all (MAML at two
// threads: 192 MB against 107). ValueError naming `who` and the value for anything else.
ThreadPlan plan_threads(std::string_view who, const std::string& parallel, bool ops_first, int threads);

}  // namespace mg::tools
