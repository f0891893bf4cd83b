// The worker pool (autograd/parallel.h): every index once, a persistent pool, nested
// and concurrent calls.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "autograd/errors.h"
#include "autograd/parallel.h"

using namespace mg;

TEST_SUITE("parallel") {
  TEST_CASE("parallel_for visits every index once; resolve_threads caps at n") {
    std::vector<std::atomic<int>> hits(101);
    std::atomic<int> max_worker{0};
    parallel_for(hits.size(), 3, [&](std::size_t i, int w) {
      hits[i]++;
      int m = max_worker.load();
      while (w > m && !max_worker.compare_exchange_weak(m, w)) {
      }
    });
    for (auto& h : hits) CHECK(h.load() == 1);
    CHECK(max_worker.load() == 2);
    CHECK(resolve_threads(8, 3) == 3);
    CHECK(resolve_threads(2, 100) == 2);
    CHECK(resolve_threads(0, 100) >= 1);
    CHECK(resolve_threads(5, 0) == 1);
    CHECK_THROWS_WITH_AS(resolve_threads(-2, 5), doctest::Contains("threads: must be >= 0 (0 = one per core), got -2"),
                         ValueError);
  }

  TEST_CASE("parallel_for keeps its workers between calls and runs nested or concurrent calls correctly") {
    // The same worker thread serves block 1 of consecutive calls (a persistent pool).
    std::thread::id first, second;
    parallel_for(2, 2, [&](std::size_t i, int) { if (i == 1) first = std::this_thread::get_id(); });
    parallel_for(2, 2, [&](std::size_t i, int) { if (i == 1) second = std::this_thread::get_id(); });
    CHECK(first == second);
    CHECK(first != std::this_thread::get_id());

    // A call from inside a body runs its blocks inline, with the same block-to-worker numbering.
    std::vector<std::atomic<int>> nested(12);
    parallel_for(3, 3, [&](std::size_t i, int) {
      parallel_for(4, 2, [&](std::size_t j, int w) { nested[i * 4 + j] += 1 + w; });
    });
    for (std::size_t k = 0; k < nested.size(); ++k) CHECK(nested[k].load() == (k % 4 < 2 ? 1 : 2));

    // Two threads calling at once: one gets the pool, the other runs its blocks itself.
    std::vector<std::atomic<int>> a(50), b(50);
    std::thread other([&] { parallel_for(a.size(), 2, [&](std::size_t i, int) { a[i]++; }); });
    parallel_for(b.size(), 2, [&](std::size_t i, int) { b[i]++; });
    other.join();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK((a[i].load() == 1 && b[i].load() == 1));
  }
}
