// Deterministic block-parallel loop over a persistent pool of worker threads; see parallel.h.
// The pool itself is autograd/kernels/worker_pool.cpp.
#include "autograd/parallel.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

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
  struct Failure {
    std::size_t index = 0;
    std::exception_ptr error;
  };
  std::vector<Failure> failures(static_cast<std::size_t>(t));
  const bool anomaly = anomaly_enabled();  // the caller's mode holds in the workers (autograd/anomaly.h)
  const std::function<void(int)> run_block = [&](int w) {
    const DetectAnomaly mode(anomaly);
    const std::size_t begin = n * static_cast<std::size_t>(w) / static_cast<std::size_t>(t);
    const std::size_t end = n * static_cast<std::size_t>(w + 1) / static_cast<std::size_t>(t);
    for (std::size_t i = begin; i < end; ++i) {
      try {
        body(i, w);
      } catch (...) {
        failures[static_cast<std::size_t>(w)] = {i, std::current_exception()};
        return;
      }
    }
  };
  if (t == 1 || !kernels::run_on_pool(t, run_block)) {
    for (int w = 0; w < t; ++w) run_block(w);
  }
  // Blocks are in index order, so the first failing block holds the lowest index.
  for (const Failure& f : failures) {
    if (f.error) std::rethrow_exception(f.error);
  }
}

}  // namespace mg
