// Deterministic block-parallel loop; see parallel.h.
#include "datasets/parallel.h"

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "autograd/errors.h"

namespace mg::data {

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
  auto run_block = [&](int w) {
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
  if (t == 1) {
    run_block(0);
  } else {
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(t - 1));
    for (int w = 1; w < t; ++w) workers.emplace_back(run_block, w);
    run_block(0);
    for (std::thread& th : workers) th.join();
  }
  // Blocks are in index order, so the first failing block holds the lowest index.
  for (const Failure& f : failures) {
    if (f.error) std::rethrow_exception(f.error);
  }
}

}  // namespace mg::data
