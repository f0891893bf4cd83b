// ThreadCounter: a process-wide sum that many threads add to without sharing a
// cache line. Each thread adds to its own slot (a relaxed atomic only it writes);
// total() adds up the live threads' slots and what exited threads left behind.
// With one shared atomic, two workers adding to it on every allocation and every
// GEMM bounced its cache line between the cores: ~3% of a 2-thread sinusoid
// meta-step (perf), for counters that are only read by tests and benchmarks.
//
//   ThreadCounter& bytes() { static ThreadCounter* c = new ThreadCounter; return *c; }
//                                   // made on first use, never destroyed: outlives every thread
//   bytes().add(n);                 // hot path: no contention
//   bytes().total();                // exact once the adding threads are quiet
#pragma once

#include <atomic>
#include <cstdint>
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

  // One slot per (counter, thread), on its own cache line.
  struct alignas(64) Slot {
    std::atomic<std::int64_t> value{0};
  };
  // Called when a thread that added exits: keeps its sum and drops its slot.
  void retire(Slot* s);

 private:
  std::atomic<std::int64_t>& slot();

  int id_;                          // index of this counter in each thread's slot table
  mutable std::mutex mutex_;        // guards slots_
  std::vector<Slot*> slots_;        // the live threads' slots
  std::atomic<std::int64_t> retired_{0};
};

}  // namespace mg
