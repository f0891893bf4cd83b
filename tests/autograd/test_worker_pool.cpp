// The kernel-level pool (autograd/kernels/worker_pool.h): split_for's parts, the
// op-thread setting, errors, and splits made from inside a pool job.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "autograd/errors.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/parallel.h"

namespace pool_test {

using Part = std::pair<std::int64_t, std::int64_t>;

// The parts split_for makes of [0, n), in order, and the threads that ran them.
struct Split {
  std::vector<Part> parts;
  std::vector<std::thread::id> threads;
};

Split record(std::int64_t n, std::int64_t grain, std::int64_t align) {
  std::mutex mutex;
  Split s;
  mg::kernels::split_for(n, grain, align, [&](std::int64_t begin, std::int64_t end) {
    const std::lock_guard lock(mutex);
    s.parts.emplace_back(begin, end);
    s.threads.push_back(std::this_thread::get_id());
  });
  std::vector<std::size_t> order(s.parts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.parts[a] < s.parts[b]; });
  Split sorted;
  for (const std::size_t i : order) {
    sorted.parts.push_back(s.parts[i]);
    sorted.threads.push_back(s.threads[i]);
  }
  return sorted;
}

}  // namespace pool_test

TEST_SUITE("parallel") {
  TEST_CASE("split_for: one part on one op thread, op_threads() parts of whole multiples of align otherwise") {
    using pool_test::Part;
    CHECK(mg::kernels::op_threads() == 1);
    CHECK(pool_test::record(100, 1, 1).parts == std::vector<Part>{{0, 100}});
    CHECK(pool_test::record(0, 1, 1).parts.empty());
    {
      const mg::kernels::OpThreads two(2);
      CHECK(mg::kernels::op_threads() == 2);
      const pool_test::Split s = pool_test::record(100, 1, 1);
      CHECK(s.parts == std::vector<Part>{{0, 50}, {50, 100}});
      CHECK(s.threads[0] != s.threads[1]);  // the second part ran on a pool worker
      CHECK(pool_test::record(100, 1, 48).parts == std::vector<Part>{{0, 48}, {48, 100}});
      CHECK(pool_test::record(100, 60, 1).parts == std::vector<Part>{{0, 100}});  // fewer than two grains
      {
        const mg::kernels::OpThreads three(3);
        CHECK(pool_test::record(10, 1, 1).parts == std::vector<Part>{{0, 3}, {3, 6}, {6, 10}});
      }
      CHECK(mg::kernels::op_threads() == 2);  // the scope put the outer setting back
    }
    CHECK(mg::kernels::op_threads() == 1);
    CHECK_THROWS_WITH_AS(mg::kernels::OpThreads(0), "op threads: must be >= 1, got 0", mg::ValueError);
  }

  TEST_CASE("split_count and split_bound say the parts split_for makes on that many threads") {
    for (const int threads : {1, 2, 3})
      for (const std::int64_t n : {0, 1, 10, 100, 101})
        for (const std::int64_t grain : {1, 7, 60})
          for (const std::int64_t align : {1, 16, 48}) {
            CAPTURE(threads);
            CAPTURE(n);
            CAPTURE(grain);
            CAPTURE(align);
            const mg::kernels::OpThreads op(threads);
            const std::int64_t parts = mg::kernels::split_count(n, grain, threads);
            std::vector<pool_test::Part> want;
            if (parts <= 1) {
              if (n > 0) want.emplace_back(0, n);
            } else {
              for (std::int64_t p = 0; p < parts; ++p) {
                const std::int64_t b = mg::kernels::split_bound(n, parts, align, p);
                const std::int64_t e = mg::kernels::split_bound(n, parts, align, p + 1);
                if (b < e) want.emplace_back(b, e);
              }
            }
            CHECK(pool_test::record(n, grain, align).parts == want);
          }
    CHECK(mg::kernels::split_count(100, 30, 8) == 3);  // no more parts than whole grains
    CHECK(mg::kernels::split_bound(100, 2, 48, 1) == 48);
    CHECK(mg::kernels::split_bound(100, 2, 48, 2) == 100);
  }

  TEST_CASE("split_for inside a pool job runs as one part on the calling thread") {
    const mg::kernels::OpThreads two(2);
    std::vector<std::vector<pool_test::Part>> seen(2);
    std::vector<std::thread::id> caller(2);
    std::vector<int> one_thread(2, 0);  // not vector<bool>: its bits share a word, and the workers write both
    mg::parallel_for(2, 2, [&](std::size_t i, int) {
      caller[i] = std::this_thread::get_id();
      const mg::kernels::OpThreads inner(2);  // a worker asking for parts gets the whole range
      const pool_test::Split s = pool_test::record(10, 1, 1);
      seen[i] = s.parts;
      one_thread[i] = s.threads.size() == 1 && s.threads[0] == caller[i];
    });
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(seen[i] == std::vector<pool_test::Part>{{0, 10}});
      CHECK(one_thread[i]);
    }
  }

  TEST_CASE("split_for rethrows the lowest failing part's exception after every part ran") {
    const mg::kernels::OpThreads three(3);
    std::atomic<int> ran{0};
    CHECK_THROWS_WITH_AS(mg::kernels::split_for(9, 1, 1,
                                                [&](std::int64_t begin, std::int64_t) {
                                                  ++ran;
                                                  if (begin > 0) throw std::runtime_error("part at " +
                                                                                          std::to_string(begin));
                                                }),
                         "part at 3", std::runtime_error);
    CHECK(ran.load() == 3);
  }
}
