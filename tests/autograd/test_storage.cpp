// The storage block pool (Note [Block pool] in autograd/storage.cpp): reuse,
// caps, trimming, and blocks freed on another thread than made them.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "autograd/creation.h"
#include "autograd/storage.h"
#include "autograd/thread_counter.h"

using namespace mg;

TEST_SUITE("storage") {
  TEST_CASE("ThreadCounter sums what every thread added, while they run and after they exit") {
    static ThreadCounter* const counter = new ThreadCounter;  // as the library's: made once, never destroyed
    ThreadCounter& c = *counter;
    c.add(5);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&c, t] {
        for (int i = 0; i < 1000; ++i) c.add(t + 1);
        c.add(-(t + 1) * 500);
      });
    for (std::thread& th : threads) th.join();
    // Threads 1..4 added 1000·k − 500·k = 500·k each; exited threads keep their slots.
    CHECK(c.total() == 5 + 500 * (1 + 2 + 3 + 4));
    c.add(-5);
    CHECK(c.total() == 5000);
  }

  TEST_CASE("live bytes count tensors, not cached blocks; trim_pool empties the cache") {
    Storage::trim_pool();
    const std::int64_t live = Storage::live_bytes();
    {
      std::vector<Tensor> ts;
      for (int i = 0; i < 16; ++i) ts.push_back(zeros({256}));  // 1 KiB each
      CHECK(Storage::live_bytes() == live + 16 * 1024);
    }
    CHECK(Storage::live_bytes() == live);
    CHECK(Storage::pooled_bytes() > 0);
    Storage::trim_pool();
    CHECK(Storage::pooled_bytes() == 0);
  }

  TEST_CASE("a freed block is reused for the next tensor of its size class") {
    Storage::trim_pool();
    const void* first = nullptr;
    {
      const Tensor a = zeros({100});
      first = a.raw_data();
    }
    const Tensor b = zeros({100});
    CHECK(b.raw_data() == first);
  }

  TEST_CASE("a freed large block is reused for a request of the same rounded size, and the cache is capped") {
    Storage::trim_pool();
    const void* first = nullptr;
    {
      const Tensor a = zeros({250000});  // 1,000,000 bytes: rounded up to 1 MiB
      first = a.raw_data();
    }
    CHECK(Storage::pooled_bytes() >= 1000000);
    CHECK(Storage::pooled_bytes() <= 1100000);
    {
      const Tensor b = zeros({260000});  // 1,040,000 bytes: the same rounded size
      CHECK(b.raw_data() == first);
      CHECK(Storage::pooled_bytes() == 0);
    }
    {
      std::vector<Tensor> ts;
      // 72 blocks of just over 16 MiB (rounded to 18 MiB): more than the cache keeps.
      for (int i = 0; i < 72; ++i) ts.push_back(zeros({(4 << 20) + (i % 10) * 4096}));
    }
    const auto cap = static_cast<std::int64_t>(Storage::kLargeCacheBytes);
    CHECK(Storage::pooled_bytes() <= cap);
    CHECK(Storage::pooled_bytes() >= cap - 2 * 18 * 1024 * 1024);
    Storage::trim_pool();
    CHECK(Storage::pooled_bytes() == 0);
  }

  TEST_CASE("a cached large block serves a request of up to half its size, and goes back to its own bin") {
    Storage::trim_pool();
    const void* first = nullptr;
    {
      const Tensor a = zeros({1 << 20});  // 4 MiB (+ header): rounded to 4.5 MiB
      first = a.raw_data();
    }
    const std::int64_t cached = Storage::pooled_bytes();
    CHECK(cached >= 4 << 20);
    {
      const Tensor b = zeros({3 << 18});  // 3 MiB: takes the 4.5 MiB block
      CHECK(b.raw_data() == first);
      CHECK(Storage::pooled_bytes() == 0);
    }
    CHECK(Storage::pooled_bytes() == cached);  // back in the 4.5 MiB bin
    {
      const Tensor c = zeros({1 << 18});  // 1 MiB: less than half, a block of its own
      CHECK(c.raw_data() != first);
      CHECK(Storage::pooled_bytes() >= 4 << 20);  // the 4.5 MiB block stays cached
    }
    Storage::trim_pool();
  }

  TEST_CASE("the cache is capped") {
    Storage::trim_pool();
    {
      std::vector<Tensor> ts;
      for (int i = 0; i < 4096; ++i) ts.push_back(zeros({1024}));  // 4 MiB of 4 KiB blocks
    }
    CHECK(Storage::pooled_bytes() <= 512 * 1024 + static_cast<std::int64_t>(Storage::kLargeCacheBytes));
    CHECK(Storage::pooled_bytes() < 4096 * 4096);
    Storage::trim_pool();
  }

  TEST_CASE("a block made on one thread may be freed on another") {
    const std::int64_t live = Storage::live_bytes();
    std::vector<Tensor> made(64);
    std::thread maker([&] {
      for (Tensor& t : made) t = ones({300});
    });
    maker.join();
    CHECK(made[5].at({299}) == 1.0f);
    made.clear();
    CHECK(Storage::live_bytes() == live);
  }

  TEST_CASE("peak tracking: the high-water mark of every thread's live bytes while it is on") {
    const std::int64_t base = Storage::live_bytes();
    Storage::start_peak_tracking();
    { const Tensor a = zeros({1000}); }  // 4,000 bytes, then freed
    { const Tensor b = zeros({500}); }
    CHECK(Storage::stop_peak_tracking() == base + 4000);
    { const Tensor c = zeros({10000}); }  // tracking is off: not counted next time
    Storage::start_peak_tracking();
    CHECK(Storage::stop_peak_tracking() == base);  // nothing made: the mark is what was live
    // Two threads hold a tensor each at the same time: the mark has both.
    Storage::start_peak_tracking();
    std::atomic<int> holding{0};
    const auto hold = [&] {
      const Tensor t = zeros({2000});
      holding.fetch_add(1);
      while (holding.load() < 2) {
      }
    };
    std::thread first(hold), second(hold);
    first.join();
    second.join();
    CHECK(Storage::stop_peak_tracking() >= base + 2 * 8000);
    CHECK(Storage::live_bytes() == base);
  }
}
