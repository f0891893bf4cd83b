// Deterministic block-parallel loop over a persistent pool of worker threads; see parallel.h.
//
// Why a pool: a meta-iteration of sinusoid MAML takes well under a millisecond,
// and starting and joining a thread costs tens of microseconds. The workers also
// keep their thread-local state between calls — their tape and their storage
// block pool (autograd/storage.h) — so steady-state meta-training allocates
// nothing from the system.
//
// Note [Pool handshake]: the caller publishes a job (the body and the number of
// workers taking part), bumps `generation_`, and runs block 0 itself. Worker w
// (1-based) runs block w of every job that has at least w + 1 blocks, then
// decrements `pending_`. Both sides spin for a short while before sleeping on a
// condition variable: a job usually arrives within microseconds of the last.
// One job runs at a time; a call made while the pool is busy (from a worker, or
// from a second thread) runs its blocks in order on the calling thread, which
// gives the same results, since every index writes its own slot.
#include "autograd/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/errors.h"

namespace mg {

namespace {

constexpr int kSpinRounds = 20000;  // ~tens of microseconds of polling before sleeping

// True on pool workers, and on a caller while its job runs: a parallel_for from
// inside a job runs inline instead of waiting for the pool it is part of.
thread_local bool inside_job = false;

class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // Runs block(w) for w in [0, blocks), block 0 on the calling thread. False when
  // the pool is busy with another job (the caller then runs the blocks itself).
  bool run(int blocks, const std::function<void(int)>& block) {
    if (inside_job) return false;
    std::unique_lock job(job_mutex_, std::try_to_lock);
    if (!job.owns_lock()) return false;
    grow(blocks - 1);
    {
      std::lock_guard lock(mutex_);
      block_ = &block;
      taking_part_ = blocks - 1;
      pending_.store(blocks - 1);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    inside_job = true;
    block(0);
    inside_job = false;
    for (int spin = 0; pending_.load() != 0 && spin < kSpinRounds; ++spin) {
    }
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] { return pending_.load() == 0; });
    block_ = nullptr;
    return true;
  }

 private:
  // Called before the job is published, so a new worker waits for it.
  void grow(int workers) {
    while (static_cast<int>(workers_.size()) < workers) {
      const int w = static_cast<int>(workers_.size()) + 1;
      const std::uint64_t seen = generation_.load();
      workers_.emplace_back([this, w, seen] { work(w, seen); });
    }
  }

  void work(int w, std::uint64_t seen) {
    inside_job = true;
    for (;;) {
      for (int spin = 0; generation_.load() == seen && spin < kSpinRounds; ++spin) {
      }
      const std::function<void(int)>* block = nullptr;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        if (stop_) return;
        if (w <= taking_part_) block = block_;
      }
      if (!block) continue;
      (*block)(w);
      if (pending_.fetch_sub(1) == 1) {
        std::lock_guard lock(mutex_);  // the caller checks pending_ under this lock
        done_.notify_one();
      }
    }
  }

  std::mutex job_mutex_;  // held by the caller for a whole job
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  const std::function<void(int)>* block_ = nullptr;
  int taking_part_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

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
  if (t == 1 || !pool().run(t, run_block)) {
    for (int w = 0; w < t; ++w) run_block(w);
  }
  // Blocks are in index order, so the first failing block holds the lowest index.
  for (const Failure& f : failures) {
    if (f.error) std::rethrow_exception(f.error);
  }
}

}  // namespace mg
