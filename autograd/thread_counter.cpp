#include "autograd/thread_counter.h"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>

namespace mg {

namespace {

constexpr int kMaxCounters = 8;
std::atomic<int> g_next_id{0};

// This thread's slots, one per counter; on thread exit each is retired into its counter.
struct ThreadSlots {
  std::array<ThreadCounter*, kMaxCounters> owner{};
  std::array<std::unique_ptr<ThreadCounter::Slot>, kMaxCounters> slot{};
  ~ThreadSlots() {
    for (int i = 0; i < kMaxCounters; ++i)
      if (owner[static_cast<std::size_t>(i)]) owner[static_cast<std::size_t>(i)]->retire(slot[static_cast<std::size_t>(i)].get());
  }
};

ThreadSlots& thread_slots() {
  thread_local ThreadSlots slots;
  return slots;
}

}  // namespace

ThreadCounter::ThreadCounter() : id_(g_next_id.fetch_add(1)) {
  if (id_ >= kMaxCounters) throw std::logic_error("ThreadCounter: internal error: too many counters");
}

std::atomic<std::int64_t>& ThreadCounter::slot() {
  ThreadSlots& t = thread_slots();
  const auto i = static_cast<std::size_t>(id_);
  if (!t.owner[i]) {
    t.slot[i] = std::make_unique<Slot>();
    t.owner[i] = this;
    const std::lock_guard<std::mutex> lock(mutex_);
    slots_.push_back(t.slot[i].get());
  }
  return t.slot[i]->value;
}

void ThreadCounter::retire(Slot* s) {
  const std::lock_guard<std::mutex> lock(mutex_);
  retired_.fetch_add(s->value.load(std::memory_order_relaxed), std::memory_order_relaxed);
  slots_.erase(std::remove(slots_.begin(), slots_.end(), s), slots_.end());
}

std::int64_t ThreadCounter::total() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::int64_t sum = retired_.load(std::memory_order_relaxed);
  for (const Slot* s : slots_) sum += s->value.load(std::memory_order_relaxed);
  return sum;
}

}  // namespace mg
