// The worker pool and kernel splits; see worker_pool.h.
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
#include "autograd/kernels/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "autograd/errors.h"

namespace mg::kernels {

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

bool run_on_pool(int blocks, const std::function<void(int)>& block) { return pool().run(blocks, block); }

OpThreads::OpThreads(int threads) : saved_(detail::t_op_threads) {
  if (threads < 1) throw ValueError("op threads: must be >= 1, got " + std::to_string(threads));
  detail::t_op_threads = threads;
}

OpThreads::~OpThreads() { detail::t_op_threads = saved_; }

namespace detail {

void split_parts(std::int64_t n, std::int64_t parts, std::int64_t align,
                 const std::function<void(std::int64_t, std::int64_t, int)>& body) {
  if (parts <= 1 || inside_job) {  // one part, or a part of a pool job already: no nested split
    if (n > 0) body(0, n, 0);
    return;
  }
  const auto bound = [&](std::int64_t p) { return split_bound(n, parts, align, p); };
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(parts));
  const std::function<void(int)> run_part = [&](int p) {
    try {
      const std::int64_t begin = bound(p), end = bound(p + 1);
      if (begin < end) body(begin, end, p);
    } catch (...) {
      errors[static_cast<std::size_t>(p)] = std::current_exception();
    }
  };
  if (!run_on_pool(static_cast<int>(parts), run_part)) {
    for (int p = 0; p < parts; ++p) run_part(p);
  }
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace detail

}  // namespace mg::kernels
