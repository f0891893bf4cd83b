// The worker pool (autograd/parallel.h): every index once, a persistent pool, nested
// and concurrent calls.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
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

  TEST_CASE("parallel_for rethrows the lowest failing index's exception; a worker stops at its first") {
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      std::vector<std::atomic<int>> ran(12);
      CHECK_THROWS_WITH_AS(parallel_for(ran.size(), threads,
                                        [&](std::size_t i, int) {
                                          ran[i]++;
                                          if (i == 5 || i == 10) throw ValueError("index " + std::to_string(i));
                                        }),
                           "index 5", ValueError);
      for (std::size_t i = 0; i <= 5; ++i) CHECK(ran[i].load() == 1);
      CHECK(ran[11].load() == 0);  // after index 10 in its block, whatever the split
    }
  }

  TEST_CASE("parallel_for keeps its workers between calls and runs nested or concurrent calls correctly") {
    // The same worker thread serves block 1 of consecutive calls (a persistent pool).
    std::thread::id first, second;
    parallel_for(2, 2, [&](std::size_t i, int) { if (i == 1) first = std::this_thread::get_id(); });
    parallel_for(2, 2, [&](std::size_t i, int) { if (i == 1) second = std::this_thread::get_id(); });
    CHECK(first == second);
    CHECK(first != std::this_thread::get_id());

    // A call from inside a body runs every index inline, in order, as worker 0.
    std::vector<std::atomic<int>> nested(12);
    std::vector<std::vector<std::size_t>> order(3);
    parallel_for(3, 3, [&](std::size_t i, int) {
      parallel_for(4, 2, [&](std::size_t j, int w) {
        nested[i * 4 + j] += 1 + w;
        order[i].push_back(j);
      });
    });
    for (std::size_t k = 0; k < nested.size(); ++k) CHECK(nested[k].load() == 1);
    for (const std::vector<std::size_t>& o : order) CHECK(o == std::vector<std::size_t>{0, 1, 2, 3});

    // Two threads calling at once: one gets the pool, the other runs its blocks itself.
    std::vector<std::atomic<int>> a(50), b(50);
    std::thread other([&] { parallel_for(a.size(), 2, [&](std::size_t i, int) { a[i]++; }); });
    parallel_for(b.size(), 2, [&](std::size_t i, int) { b[i]++; });
    other.join();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK((a[i].load() == 1 && b[i].load() == 1));
  }
}
