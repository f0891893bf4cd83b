// Storage: one heap block holding a reference count, a version counter and the
// data itself (64-byte aligned for SIMD and BLAS). Tensors that share data (a
// reshape, a detach) share one Storage. The version counter is bumped by every
// in-place write so that a backward pass can detect a saved tensor that was
// modified after it was saved (see Note [Saved tensor versions] in apply.h).
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
  static std::int64_t live_bytes();

  void* data() { return data_; }
  const void* data() const { return data_; }
  std::size_t nbytes() const { return nbytes_; }
  std::uint32_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

  void retain() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release();

 private:
  Storage() = default;
  std::atomic<std::int32_t> refs_{1};
  std::atomic<std::uint32_t> version_{0};
  std::size_t nbytes_ = 0;
  void* data_ = nullptr;
};

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
