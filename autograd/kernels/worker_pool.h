// The persistent pool of worker threads, and the split of one kernel's work over it.
//
// Two kinds of parallelism share the pool (Note [Two ways to use two cores]):
//   * tasks in parallel: parallel_for (autograd/parallel.h) runs whole per-task steps
//     on the workers, each with its own tape;
//   * ops in parallel: one thread records every task, and the big kernels split their
//     own output over the pool: split_for, below, with op_threads() parts.
// A split made from inside a pool job (a worker of a parallel_for, or a part of another
// split) runs as one part on the calling thread, so the two never nest.
//
// Note [Two ways to use two cores]
// With tasks in parallel, T workers each hold one task's graph: for conv MAML that is
// T times the 50 MB of a task's peak (bench/RESULTS.md, "where two threads' memory
// goes"). With ops in parallel, one task's graph is alive at a time, and its
// convolutions, channel kernels and pooling use every core. Each part of a split writes
// its own block of the output, and every output element is computed by the same
// sequence of operations whatever the number of parts, so the bits do not depend on
// op_threads(): both ways give what one thread gives.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

namespace mg::kernels {

// Runs block(w) for every w in [0, blocks), block 0 on the calling thread and the others
// on pool workers, and returns when all are done; block must not throw. Returns false,
// having run nothing, when the caller is inside a pool job or the pool is busy with
// another caller's job (the caller then runs the blocks itself).
bool run_on_pool(int blocks, const std::function<void(int)>& block);

namespace detail {
inline thread_local int t_op_threads = 1;  // op_threads(); set through OpThreads
// split_for's parallel case, and parallel_for's (autograd/parallel.cpp): body(begin, end,
// part) over `parts` contiguous parts of [0, n) as split_for describes them; with one
// part, body(0, n, 0) on this thread (inside_job unchanged, so its kernels may split).
void split_parts(std::int64_t n, std::int64_t parts, std::int64_t align,
                 const std::function<void(std::int64_t, std::int64_t, int)>& body);
}  // namespace detail

// The number of parts this thread's kernels split their work into (default 1).
inline int op_threads() { return detail::t_op_threads; }

// Sets op_threads() on this thread for the scope's lifetime. ValueError for threads < 1.
class OpThreads {
 public:
  explicit OpThreads(int threads);
  ~OpThreads();
  OpThreads(const OpThreads&) = delete;
  OpThreads& operator=(const OpThreads&) = delete;

 private:
  int saved_;
};

// How split_for cuts [0, n) with `threads` op threads: split_count parts, part p starting at
// split_bound(n, parts, align, p) (equal shares rounded down to `align`; bound(parts) = n).
// Also for code that must know a split without running it (meta/memory_prediction.cpp).
inline std::int64_t split_count(std::int64_t n, std::int64_t grain, int threads) {
  return std::min<std::int64_t>(threads, n / std::max<std::int64_t>(grain, 1));
}
inline std::int64_t split_bound(std::int64_t n, std::int64_t parts, std::int64_t align, std::int64_t p) {
  align = std::max<std::int64_t>(align, 1);
  return p == parts ? n : std::min(n, n * p / parts / align * align);
}

// body(begin, end) over contiguous parts covering [0, n) in order: min(op_threads(),
// n / grain) parts of about equal size, each a multiple of `align` long except the last
// (align ≥ 1, grain ≥ 1), run on the pool. With one part, or from inside a pool job,
// body(0, n) on this thread.
// An exception from a part is rethrown after all parts are done (the lowest part's).
// One part costs a test and a call: small tensors pay nothing else.
template <class Body>
void split_for(std::int64_t n, std::int64_t grain, std::int64_t align, Body&& body) {
  const std::int64_t parts = split_count(n, grain, op_threads());
  if (parts > 1)
    detail::split_parts(n, parts, align, [&](std::int64_t begin, std::int64_t end, int) { body(begin, end); });
  else if (n > 0)
    body(std::int64_t{0}, n);
}

}  // namespace mg::kernels
