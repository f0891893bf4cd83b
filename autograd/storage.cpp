#include "autograd/storage.h"

#include <cstdlib>
#include <new>

namespace mg {

namespace {
constexpr std::size_t kAlign = 64;
constexpr std::size_t kHeader = (sizeof(Storage) + kAlign - 1) / kAlign * kAlign;
std::atomic<std::int64_t> g_live_bytes{0};
}  // namespace

Storage* Storage::make(std::size_t nbytes) {
  const std::size_t total = kHeader + (nbytes + kAlign - 1) / kAlign * kAlign;
  void* block = std::aligned_alloc(kAlign, total);
  if (!block) throw std::bad_alloc();
  auto* s = new (block) Storage();
  s->nbytes_ = nbytes;
  s->data_ = static_cast<char*>(block) + kHeader;
  g_live_bytes.fetch_add(static_cast<std::int64_t>(nbytes), std::memory_order_relaxed);
  return s;
}

std::int64_t Storage::live_bytes() { return g_live_bytes.load(std::memory_order_relaxed); }

void Storage::release() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    g_live_bytes.fetch_sub(static_cast<std::int64_t>(nbytes_), std::memory_order_relaxed);
    this->~Storage();
    std::free(this);
  }
}

}  // namespace mg
