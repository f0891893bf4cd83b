// Tensor: a cheap handle (one pointer) to a shape, an element type and shared,
// contiguous, row-major storage. A tensor that takes part in differentiation
// also remembers the tape node that produced it (leaves are bound to the tape
// lazily, the first time an op reads them; see tape.h).
//
//   Tensor x = mg::randn({3, 4}, gen);        // data
//   Tensor w = mg::zeros({4, 2}).requires_grad_();   // a leaf parameter
//   Tensor y = mg::relu(mg::matmul(x, w));    // recorded on this thread's tape
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "autograd/dtype.h"
#include "autograd/shape.h"
#include "autograd/storage.h"

namespace mg {

class Tensor;
class Tape;

namespace detail {
struct TensorImpl;
}

// The bytes of a tensor of `shape` and `dtype`. ShapeError when they exceed
// 2^63 − 1 (Note [Shape sizes] in shape.h: the element count itself always fits).
std::size_t tensor_nbytes(const Shape& shape, DType dtype);

class Tensor {
 public:
  // An undefined tensor: also the symbolic zero of a backward formula.
  Tensor() = default;
  // A new tensor of `shape` and `dtype` with uninitialised storage. ShapeError when its
  // byte count overflows (tensor_nbytes), MemoryError when the system refuses the memory.
  Tensor(const Shape& shape, DType dtype);
  // A tensor sharing `storage` (which must hold at least shape.numel() elements).
  Tensor(Rc<Storage> storage, const Shape& shape, DType dtype);

  bool defined() const { return static_cast<bool>(impl_); }
  const Shape& shape() const;  // inline below, with dtype() and requires_grad():
  DType dtype() const;         // every op calls them several times
  int ndim() const { return shape().ndim(); }
  std::int64_t numel() const { return shape().numel(); }
  // Extent of `axis` (negative counts from the end).
  std::int64_t size(int axis) const;
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype()); }

  // Typed access to the elements; throws DTypeError if T does not match dtype().
  // Note [Mutable access]: reading and writing have different names. mutable_data()
  // and mutable_raw_data() bump the storage version, so that a backward reading a
  // tensor saved before the write throws (Note [Saved tensor versions] in apply.h)
  // instead of silently using the new values; data() and raw_data() never do. With
  // one name overloaded on const, a read through a non-const handle would pick the
  // writing overload and bump for nothing, and an innocent read between forward and
  // backward would break the backward. Take the writable pointer once, before the
  // writes: each call bumps.
  template <class T> const T* data() const;
  template <class T> T* mutable_data();
  const void* raw_data() const;
  void* mutable_raw_data();

  // The single value of a one-element tensor, as double.
  double item() const;
  // The element at a full index, as double (bounds-checked).
  double at(std::initializer_list<std::int64_t> index) const;
  // Writes one element (bounds-checked); bumps the storage version.
  void set(std::initializer_list<std::int64_t> index, double value);
  // All elements in row-major order, converted to T.
  template <class T> std::vector<T> to_vector() const;

  // --- differentiation -------------------------------------------------------
  bool requires_grad() const;
  // Marks a leaf as a parameter whose gradient is wanted. Throws GradError on a non-leaf.
  Tensor& requires_grad_(bool on = true);
  // True for tensors not produced by a recorded op (data and parameters).
  bool is_leaf() const;
  // Gradient accumulated into this leaf by backward(); undefined until then.
  Tensor grad() const;
  void set_grad(const Tensor& g);
  void zero_grad();
  // The same storage, cut off from the tape: never requires grad.
  Tensor detach() const;
  // A copy of the data with no history.
  Tensor clone() const;
  // A copy converted to another element type, with no history.
  Tensor to(DType dtype) const;

  // Version of the storage, bumped by in-place writes (mutable_data, set, optimizers).
  std::uint32_t version() const;
  void bump_version();
  // Tape node id of this tensor on its tape, or -1 when not recorded.
  std::int32_t node() const;

  // Same handle (not same values).
  bool is_same(const Tensor& o) const { return impl_.get() == o.impl_.get(); }
  const Rc<Storage>& storage() const;

  detail::TensorImpl* impl() const { return impl_.get(); }

 private:
  friend class Tape;
  explicit Tensor(Rc<detail::TensorImpl> impl) : impl_(std::move(impl)) {}
  Rc<detail::TensorImpl> impl_;
};

namespace detail {

// The shared state behind a handle. Copies of a Tensor share it, so marking a
// parameter, binding it to the tape or accumulating its gradient is seen by all.
struct TensorImpl {
  std::atomic<std::int32_t> refs{1};
  Rc<Storage> storage;
  Shape shape;
  DType dtype = DType::F32;
  bool requires_grad = false;
  bool is_leaf = true;
  // Where this tensor is recorded: tape, node id on it and that node's generation
  // (generations change when a scope rewinds the tape; see tape.h).
  const Tape* tape = nullptr;
  std::int32_t node = -1;
  std::uint32_t generation = 0;
  // Note [Gradients without a graph] (grad.cpp): set on what grad() and backward() return
  // without create_graph, and on what ops compute from it while recording is on.
  bool graphless_grad = false;
  Tensor grad;

  void retain() { refs.fetch_add(1, std::memory_order_relaxed); }
  void release();

  // Every op makes one: allocated from the block pool (Note [Block pool] in storage.cpp).
  static void* operator new(std::size_t bytes) { return pool_alloc(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { pool_free(p, bytes); }
};

// Throws ValueError "tensor: use of an undefined tensor" (kept out of line).
[[noreturn]] void throw_undefined_tensor();

}  // namespace detail

inline const Shape& Tensor::shape() const {
  if (!impl_) detail::throw_undefined_tensor();
  return impl_->shape;
}
inline DType Tensor::dtype() const {
  if (!impl_) detail::throw_undefined_tensor();
  return impl_->dtype;
}
inline bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }

// Calls f.template operator()<T>() with T the C++ type of a floating dtype;
// throws DTypeError naming `op` for int64.
template <class F>
decltype(auto) dispatch_float(std::string_view op, DType t, F&& f);

// Throws DTypeError unless `t` is floating: "<op>: dtype i64 is not supported".
void require_floating(std::string_view op, DType t);
// Throws DTypeError unless both dtypes agree: "<op>: mixed dtypes: a is f32, b is f64".
void require_same_dtype(std::string_view op, const Tensor& a, const Tensor& b);

template <class F>
decltype(auto) dispatch_float(std::string_view op, DType t, F&& f) {
  require_floating(op, t);
  if (t == DType::F32) return f.template operator()<float>();
  return f.template operator()<double>();
}

}  // namespace mg
