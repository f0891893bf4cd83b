// Storage: one heap block holding a reference count, a version counter and the
// data itself (64-byte aligned for SIMD and BLAS). Tensors that share data (a
// reshape, a detach) share one Storage. The version counter is bumped by every
// in-place write so that a backward pass can detect a saved tensor that was
// modified after it was saved (see Note [Saved tensor versions] in apply.h).
//
// Small blocks come from a per-thread pool (Note [Block pool] in storage.cpp):
// a model like the 1-40-40-1 MLP makes and drops thousands of tiny tensors per
// step, and malloc was the largest item in the per-op profile.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace mg {

class Storage {
 public:
  // Uninitialised storage of `nbytes` bytes (zero bytes allowed).
  static Storage* make(std::size_t nbytes);
  // Total bytes currently held by live storages of this process (for tests and tape stats).
  // Blocks cached in the pools are not live and are not counted.
  static std::int64_t live_bytes();
  // The high-water mark of live_bytes() over every thread's allocations, from
  // start_peak_tracking() (which sets it to live_bytes()) to stop_peak_tracking() (which
  // returns it). For measurements across worker threads: the profiler (profile.h) notes
  // only its own thread's allocations. While on, each allocation also takes the total of
  // every thread's counter (a mutex): not for timed runs.
  static void start_peak_tracking();
  static std::int64_t stop_peak_tracking();
  // Bytes this thread's pool keeps cached for reuse, and freeing them all.
  static std::int64_t pooled_bytes();
  static void trim_pool();
  // The most bytes of large blocks (over 256 KiB) one thread keeps cached. Above
  // it, freed blocks go back to the system (Note [Block pool] in storage.cpp).
  static constexpr std::size_t kLargeCacheBytes = std::size_t{1} << 30;

  void* data() { return data_; }
  const void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  std::uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  // A plain increment, not a locked read-modify-write: every writable pointer handed
  // out bumps (Note [Mutable access] in tensor.h), and threads writing disjoint parts of
  // one tensor at once may lose an increment but never leave the version unchanged.
  void bump_version() { version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  // True when one handle holds this storage (nothing else can see a write to it).
  bool unique() const { return refs_.load(std::memory_order_acquire) == 1; }
  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    // The sole owner cannot race with a retain (nobody else holds a reference), so the
    // common last release skips the atomic read-modify-write.
    if (refs_.load(std::memory_order_acquire) == 1 || refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

 private:
  Storage() = default;
  void destroy();
  std::atomic<std::int32_t> refs_{1};
  std::atomic<std::uint32_t> version_{0};
  std::size_t nbytes_ = 0;
  std::size_t block_bytes_ = 0;  // the pool block holding this storage (header included)
  std::uint16_t profile_origin_ = 0;  // who made it, while an OpProfiler ran (profile.h); 0 otherwise
  void* data_ = nullptr;
};

namespace detail {
// A block of at least `bytes` bytes, 64-byte aligned, from this thread's pool. When
// block_bytes is given, a large request may get a bigger cached block, and
// *block_bytes is set to the size to pass to pool_free.
void* pool_alloc(std::size_t bytes, std::size_t* block_bytes = nullptr);
// Returns a block from pool_alloc (with `bytes` the request, or *block_bytes when set);
// any thread may free it.
void pool_free(void* block, std::size_t bytes) noexcept;
}  // namespace detail

// A minimal intrusive reference-counted pointer: T provides retain()/release().
template <class T>
class Rc {
 public:
  Rc() = default;
  // Adopts a pointer whose count is already 1.
  static Rc adopt(T* p) {
    Rc r;
    r.p_ = p;
    return r;
  }
  Rc(const Rc& o) : p_(o.p_) {
    if (p_) p_->retain();
  }
  Rc(Rc&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Rc& operator=(Rc o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Rc() {
    if (p_) p_->release();
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

}  // namespace mg
