// ThreadCounter: a process-wide sum that many threads add to without sharing a
// cache line. Each thread adds to its own slot (a relaxed atomic only it writes);
// total() adds up every slot. With one shared atomic, two workers adding to it on
// every allocation and every GEMM bounced its cache line between the cores: ~3 % of
// a 2-thread sinusoid meta-step (perf), for counters only tests and benchmarks read.
//
//   ThreadCounter& bytes() { static ThreadCounter* c = new ThreadCounter; return *c; }
//   bytes().add(n);                 // hot path: no contention
//   bytes().total();                // exact once the adding threads are quiet
//
// Slots belong to the counter and live as long as it (make counters on first use and
// never destroy them, as above): a thread that has exited keeps its slot, so its
// additions stay in the total, and nothing is freed that a destructor running at
// exit (a static Tensor releasing its storage) could still touch.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace mg {

class ThreadCounter {
 public:
  ThreadCounter();
  ThreadCounter(const ThreadCounter&) = delete;
  ThreadCounter& operator=(const ThreadCounter&) = delete;

  void add(std::int64_t v) {
    std::atomic<std::int64_t>& s = slot();
    s.store(s.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  }
  std::int64_t total() const;

 private:
  // One per (counter, thread), on its own cache line.
  struct alignas(64) Slot {
    std::atomic<std::int64_t> value{0};
  };
  std::atomic<std::int64_t>& slot();

  int id_;                                   // index of this counter in each thread's slot table
  mutable std::mutex mutex_;                 // guards slots_
  std::vector<std::unique_ptr<Slot>> slots_;  // every thread's slot, in order of first use
};

}  // namespace mg
