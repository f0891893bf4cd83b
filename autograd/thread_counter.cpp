#include "autograd/thread_counter.h"

#include <array>
#include <stdexcept>

namespace mg {

namespace {

constexpr int kMaxCounters = 8;
std::atomic<int> g_next_id{0};

// This thread's slot in each counter. Trivially destructible on purpose: it is
// still read by destructors that run while the thread (or the process) exits.
thread_local std::array<std::atomic<std::int64_t>*, kMaxCounters> t_slots{};

}  // namespace

ThreadCounter::ThreadCounter() : id_(g_next_id.fetch_add(1)) {
  if (id_ >= kMaxCounters) throw std::logic_error("ThreadCounter: internal error: too many counters");
}

std::atomic<std::int64_t>& ThreadCounter::slot() {
  std::atomic<std::int64_t>*& mine = t_slots[static_cast<std::size_t>(id_)];
  if (!mine) {
    const std::lock_guard<std::mutex> lock(mutex_);
    slots_.push_back(std::make_unique<Slot>());
    mine = &slots_.back()->value;
  }
  return *mine;
}

std::int64_t ThreadCounter::total() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::int64_t sum = 0;
  for (const auto& s : slots_) sum += s->value.load(std::memory_order_relaxed);
  return sum;
}

}  // namespace mg
