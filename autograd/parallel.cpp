// Deterministic block-parallel loop over a persistent pool of worker threads; see parallel.h.
// The pool itself is autograd/kernels/worker_pool.cpp.
#include "autograd/parallel.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>

#include "autograd/anomaly.h"
#include "autograd/errors.h"
#include "autograd/kernels/worker_pool.h"

namespace mg {

int resolve_threads(int requested, std::size_t n) {
  if (requested < 0) {
    throw ValueError("threads: must be >= 0 (0 = one per core), got " + std::to_string(requested));
  }
  std::size_t t = requested > 0 ? static_cast<std::size_t>(requested)
                                : std::max(1u, std::thread::hardware_concurrency());
  t = std::min(t, std::max<std::size_t>(n, 1));
  return static_cast<int>(t);
}

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t, int)>& body) {
  const int t = resolve_threads(threads, n);
  const bool anomaly = anomaly_enabled();  // the caller's mode holds in the workers (autograd/anomaly.h)
  // Block w is [w·n/T, (w+1)·n/T): split_parts' parts with align 1. It rethrows the
  // lowest failing block's exception, which is the lowest failing index's, since a block
  // stops at its first.
  kernels::detail::split_parts(static_cast<std::int64_t>(n), t, 1,
                               [&](std::int64_t begin, std::int64_t end, int w) {
                                 const DetectAnomaly mode(anomaly);
                                 for (std::int64_t i = begin; i < end; ++i) body(static_cast<std::size_t>(i), w);
                               });
}

}  // namespace mg
