#include "autograd/storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include "autograd/profile.h"
#include "autograd/thread_counter.h"

namespace mg {

// Note [Block pool]
// Blocks up to kMaxPooled bytes are rounded up to a power of two (a size class)
// and, when freed, kept on a free list of the freeing thread for the next
// allocation of that class. This serves Storage blocks and TensorImpl objects
// (tensor.h), the two allocations every op makes.
//
// * Thread safety: the lists are thread_local and never shared. A block freed on
//   another thread than the one that allocated it simply joins the freeing
//   thread's list; all blocks come from aligned_alloc, so any list (or free())
//   can take any block.
// * Bounded: a class keeps at most kCachedBytesPerClass bytes (2 MiB; at least
//   kMinCachedBlocks blocks); beyond that blocks go back to free(). A thread
//   therefore caches at most ~26 MiB in classes plus Storage::kLargeCacheBytes (1 GiB) of large
//   blocks (below), and returns all of it when it exits. With two workers, blocks flow
//   between the threads (a result made on one is freed on the other), and a smaller
//   cap sent the overflow back to glibc, whose per-thread heaps then shrank and grew
//   again every step: at 512 KiB (four 128 KiB blocks, the class of a sinusoid stack's
//   [13, 40, 40] gradients) sinusoid MAML at 2 threads took 18,500 page faults per
//   3,000 steps (470 brk calls per 1,000) and ran at 3,250 it/s; at 2 MiB, 5,500
//   faults and 4,100 it/s (medians of five alternated runs; `perf stat -e
//   page-faults`, `strace -c`).
// * Exit order: the lists are trivially destructible, so they stay usable while
//   other thread_local objects (the tape and the tensors it saved) are destroyed.
//   A separate guard, armed on the first cached block, empties them at thread
//   exit; blocks freed after that go straight to free().
// * Large blocks (over kMaxPooled) are rounded up to one of eight sizes per power
//   of two (at most 12.5 % slack) and, when freed, kept on a per-thread free list of
//   that size (a bin), up to Storage::kLargeCacheBytes in all. A training step
//   allocates the same shapes every time; without this, glibc returns such a block to
//   the system on free (heap trim or munmap) and every step page-faults it back in.
//   A second-order MAML step on a conv net frees hundreds of large blocks of dozens
//   of sizes, so the cache is binned by size, not a handful of slots (with 32 slots,
//   page faults were a fifth of an Omniglot MAML step: 690,000 faults for two
//   meta-iterations, `perf stat -e page-faults`).
// * A storage may get a cached block up to twice the size it asked for (the block's
//   size is kept in the Storage, and it goes back to its own bin): a step whose
//   phases use different mixes of sizes reuses what the last phase freed instead of
//   holding it while taking more from the system. MiniImageNet FOMAML step, peak RSS
//   927 MB with exact sizes only, 827 MB so (621 MB with no cache at all, but 35 %
//   slower). Freeing cached blocks before every fresh allocation got 733 MB but
//   doubled the page faults of an Omniglot step and cost 10-25 % of its time; not done.
// * Huge pages: blocks of at least kHugeBytes are 2 MiB aligned and advised as
//   transparent huge pages (madvise), so their first touch costs one fault per
//   2 MiB instead of one per 4 KiB. Where THP is off the advice is a no-op.
// * live_bytes() counts the bytes of live Storages, so it falls when a tape is
//   rewound even though the blocks stay cached.

namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kHeader = (sizeof(Storage) + kAlign - 1) / kAlign * kAlign;
// Per-thread slots (no cache line shared by the workers). Made on first use (storages
// may be made during static initialisation) and never destroyed, so a worker thread
// that exits during static destruction can still retire its slot.
ThreadCounter& g_live_bytes() {
  static ThreadCounter* c = new ThreadCounter;
  return *c;
}

// Storage::start_peak_tracking: on/off, and the mark. ThreadCounter::total() locks a
// mutex, a full barrier, so of two threads allocating at once the later reader sees both.
std::atomic<bool> g_track_peak{false};
std::atomic<std::int64_t> g_peak{0};

void note_peak() {
  const std::int64_t live = g_live_bytes().total();
  std::int64_t seen = g_peak.load(std::memory_order_relaxed);
  while (live > seen && !g_peak.compare_exchange_weak(seen, live, std::memory_order_relaxed)) {
  }
}

constexpr int kMinClassLog2 = 6;   // 64 bytes
constexpr int kMaxClassLog2 = 18;  // 256 KiB
constexpr int kNumClasses = kMaxClassLog2 - kMinClassLog2 + 1;
constexpr std::size_t kMaxPooled = std::size_t{1} << kMaxClassLog2;
constexpr std::size_t kCachedBytesPerClass = std::size_t{1} << 21;  // 2 MiB
constexpr std::uint32_t kMinCachedBlocks = 4;
constexpr int kLargeBins = 8 * (48 - kMaxClassLog2);  // eighth steps of 2^18 .. 2^48 bytes
constexpr std::size_t kHugeBytes = std::size_t{4} << 20;
constexpr std::size_t kHugeAlign = std::size_t{2} << 20;

// Smallest c with 2^(c + kMinClassLog2) >= bytes, for 0 < bytes <= kMaxPooled.
int size_class(std::size_t bytes) {
  const std::size_t units = (bytes - 1) >> kMinClassLog2;  // 0 for bytes <= 64
  return units == 0 ? 0 : static_cast<int>(64 - __builtin_clzll(static_cast<unsigned long long>(units)));
}

constexpr std::size_t class_bytes(int c) { return std::size_t{1} << (c + kMinClassLog2); }

// A large request rounded up to a multiple of an eighth of its highest power of two.
std::size_t large_bytes(std::size_t bytes) {
  const int top = 63 - __builtin_clzll(static_cast<unsigned long long>(bytes));
  const std::size_t step = std::size_t{1} << (top - 3);
  return (bytes + step - 1) / step * step;
}

// The bin of a rounded large size: 8 bins per power of two, from 2^kMaxClassLog2 up.
// -1 for sizes past the last bin (never cached).
int large_bin(std::size_t rounded) {
  const int top = 63 - __builtin_clzll(static_cast<unsigned long long>(rounded));
  const int eighth = static_cast<int>(rounded >> (top - 3)) - 8;  // 0..7
  const int bin = (top - kMaxClassLog2) * 8 + eighth;
  return bin < kLargeBins ? bin : -1;
}

constexpr std::uint32_t class_capacity(int c) {
  const std::size_t n = kCachedBytesPerClass / class_bytes(c);
  return n < kMinCachedBlocks ? kMinCachedBlocks : static_cast<std::uint32_t>(n);
}

struct FreeBlock {
  FreeBlock* next;
};

struct FreeLists {
  FreeBlock* head[kNumClasses];
  std::uint32_t count[kNumClasses];
  FreeBlock* large_head[kLargeBins];
  std::size_t large_bytes;
  bool armed;   // the exit guard is registered
  bool closed;  // this thread is exiting: cache nothing more
};

// Zero-initialised, trivially destructible: no TLS init guard on the hot path.
thread_local FreeLists t_lists;

void* system_alloc(std::size_t bytes) {
  const bool huge = bytes >= kHugeBytes;
  const std::size_t align = huge ? kHugeAlign : kAlign;
  void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
  if (!p) throw std::bad_alloc();
  if (huge) (void)madvise(p, bytes / kHugeAlign * kHugeAlign, MADV_HUGEPAGE);
  return p;
}

void drain(FreeLists& lists) noexcept {
  for (int c = 0; c < kNumClasses; ++c) {
    while (FreeBlock* b = lists.head[c]) {
      lists.head[c] = b->next;
      std::free(b);
    }
    lists.count[c] = 0;
  }
  for (FreeBlock*& head : lists.large_head)
    while (FreeBlock* b = head) {
      head = b->next;
      std::free(b);
    }
  lists.large_bytes = 0;
}

// The size of the blocks in a bin (the inverse of large_bin).
std::size_t bin_bytes(int bin) {
  const int top = bin / 8 + kMaxClassLog2;
  return static_cast<std::size_t>(8 + bin % 8) << (top - 3);
}

// Takes a cached large block for a request of `bytes` (rounded) bytes: one of that
// size, else the smallest cached one of at most twice the size when `larger` is set
// (the caller then owns a bigger block and must return it with its size). Sets
// *got to the block's size; nullptr when none fits.
void* take_large(FreeLists& lists, std::size_t bytes, bool larger, std::size_t* got) {
  const int bin = large_bin(bytes);
  if (bin < 0) return nullptr;
  const int last = larger ? std::min(bin + 8, kLargeBins - 1) : bin;
  for (int b = bin; b <= last; ++b)
    if (FreeBlock* block = lists.large_head[b]) {
      lists.large_head[b] = block->next;
      *got = bin_bytes(b);
      lists.large_bytes -= *got;
      return block;
    }
  return nullptr;
}

// Caches a large block of `bytes` (rounded) bytes; false when the cache is full.
bool keep_large(FreeLists& lists, void* block, std::size_t bytes) {
  const int bin = large_bin(bytes);
  if (bin < 0 || lists.large_bytes + bytes > Storage::kLargeCacheBytes) return false;
  auto* b = static_cast<FreeBlock*>(block);
  b->next = lists.large_head[bin];
  lists.large_head[bin] = b;
  lists.large_bytes += bytes;
  return true;
}

struct ExitGuard {
  bool touched = false;
  ~ExitGuard() {
    drain(t_lists);
    t_lists.closed = true;
  }
};
thread_local ExitGuard t_exit_guard;

void arm(FreeLists& lists) {
  if (lists.armed) return;
  lists.armed = true;
  t_exit_guard.touched = true;  // first use registers the guard's destructor for this thread
}

}  // namespace

namespace detail {

void* pool_alloc(std::size_t bytes, std::size_t* block_bytes) {
  if (bytes == 0) return system_alloc(1);
  if (bytes > kMaxPooled) {
    bytes = large_bytes(bytes);
    std::size_t got = 0;
    if (void* b = take_large(t_lists, bytes, block_bytes != nullptr, &got)) {
      if (block_bytes) *block_bytes = got;
      return b;
    }
    if (block_bytes) *block_bytes = bytes;
    return system_alloc(bytes);
  }
  if (block_bytes) *block_bytes = bytes;
  const int c = size_class(bytes);
  FreeLists& lists = t_lists;
  if (FreeBlock* b = lists.head[c]) {
    lists.head[c] = b->next;
    --lists.count[c];
    return b;
  }
  return system_alloc(class_bytes(c));
}

void pool_free(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  FreeLists& lists = t_lists;
  if (bytes == 0 || lists.closed) {
    std::free(block);
    return;
  }
  if (bytes > kMaxPooled) {
    if (!keep_large(lists, block, large_bytes(bytes))) std::free(block);
    else arm(lists);
    return;
  }
  const int c = size_class(bytes);
  if (lists.count[c] >= class_capacity(c)) {
    std::free(block);
    return;
  }
  arm(lists);
  auto* b = static_cast<FreeBlock*>(block);
  b->next = lists.head[c];
  lists.head[c] = b;
  ++lists.count[c];
}

}  // namespace detail

Storage* Storage::make(std::size_t nbytes) {
  // Past this the rounding below would wrap around to a small block (Note [Shape sizes]
  // in shape.h: tensors never ask for more than 2^63 - 1 bytes).
  if (nbytes > static_cast<std::size_t>(PTRDIFF_MAX)) throw std::bad_alloc();
  const std::size_t total = kHeader + (nbytes + kAlign - 1) / kAlign * kAlign;
  std::size_t block_bytes = 0;
  void* block = detail::pool_alloc(total, &block_bytes);
  auto* s = new (block) Storage();
  s->nbytes_ = nbytes;
  s->block_bytes_ = block_bytes;
  s->data_ = static_cast<char*>(block) + kHeader;
  g_live_bytes().add(static_cast<std::int64_t>(nbytes));
  if (g_track_peak.load(std::memory_order_relaxed)) [[unlikely]]
    note_peak();
  if (detail::t_profile) [[unlikely]]
    s->profile_origin_ = detail::profile_note_alloc(static_cast<std::int64_t>(nbytes), live_bytes());
  return s;
}

void Storage::destroy() {
  const std::size_t nbytes = nbytes_, block_bytes = block_bytes_;
  g_live_bytes().add(-static_cast<std::int64_t>(nbytes));
  if (profile_origin_ != 0 && detail::t_profile) [[unlikely]]
    detail::profile_note_free(profile_origin_, static_cast<std::int64_t>(nbytes));
  this->~Storage();
  detail::pool_free(this, block_bytes);
}

std::int64_t Storage::live_bytes() { return g_live_bytes().total(); }

void Storage::start_peak_tracking() {
  g_peak.store(live_bytes(), std::memory_order_relaxed);
  g_track_peak.store(true, std::memory_order_seq_cst);
}

std::int64_t Storage::stop_peak_tracking() {
  g_track_peak.store(false, std::memory_order_seq_cst);
  return std::max(g_peak.load(std::memory_order_relaxed), live_bytes());
}

std::int64_t Storage::pooled_bytes() {
  std::int64_t total = 0;
  for (int c = 0; c < kNumClasses; ++c) total += static_cast<std::int64_t>(t_lists.count[c] * class_bytes(c));
  return total + static_cast<std::int64_t>(t_lists.large_bytes);
}

void Storage::trim_pool() { drain(t_lists); }

}  // namespace mg
