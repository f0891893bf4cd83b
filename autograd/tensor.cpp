#include "autograd/tensor.h"

#include <fmt/format.h>

#include <cstring>
#include <new>

#include "autograd/errors.h"

namespace mg {

namespace detail {
void TensorImpl::release() {
  if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}
}  // namespace detail

namespace {
detail::TensorImpl* new_impl(Rc<Storage> storage, const Shape& shape, DType dtype) {
  auto* impl = new detail::TensorImpl();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->dtype = dtype;
  return impl;
}

std::int64_t flat_index(const Shape& shape, std::initializer_list<std::int64_t> index) {
  if (static_cast<int>(index.size()) != shape.ndim())
    throw ShapeError(fmt::format("at: index has {} entries, tensor is {}", index.size(), shape.str()));
  std::int64_t flat = 0;
  int axis = 0;
  for (std::int64_t i : index) {
    if (i < 0 || i >= shape[axis])
      throw ShapeError(fmt::format("at: index {} is out of range for dim {} of {}", i, axis, shape.str()));
    flat = flat * shape[axis] + i;
    ++axis;
  }
  return flat;
}

double read_as_double(const void* p, DType t, std::int64_t i) {
  switch (t) {
    case DType::F32: return static_cast<const float*>(p)[i];
    case DType::F64: return static_cast<const double*>(p)[i];
    case DType::I64: return static_cast<double>(static_cast<const std::int64_t*>(p)[i]);
  }
  return 0;
}
}  // namespace

std::size_t tensor_nbytes(const Shape& shape, DType dtype) {
  std::int64_t bytes = 0;
  if (!checked_mul(shape.numel(), static_cast<std::int64_t>(dtype_size(dtype)), &bytes))
    throw ShapeError(fmt::format("tensor: byte count overflows: {} {} has {} elements of {} bytes (at most {} bytes)",
                                 shape.str(), dtype_name(dtype), shape.numel(), dtype_size(dtype), kMaxNumel));
  return static_cast<std::size_t>(bytes);
}

namespace {
Storage* allocate(const Shape& shape, DType dtype) {
  const std::size_t bytes = tensor_nbytes(shape, dtype);
  try {
    return Storage::make(bytes);
  } catch (const std::bad_alloc&) {
    throw MemoryError(fmt::format("tensor: cannot allocate {} {} ({} bytes): out of memory", shape.str(),
                                  dtype_name(dtype), bytes));
  }
}
}  // namespace

Tensor::Tensor(const Shape& shape, DType dtype) : Tensor(Rc<Storage>::adopt(allocate(shape, dtype)), shape, dtype) {}

Tensor::Tensor(Rc<Storage> storage, const Shape& shape, DType dtype)
    : impl_(Rc<detail::TensorImpl>::adopt(new_impl(std::move(storage), shape, dtype))) {
  const std::size_t need = tensor_nbytes(shape, dtype);
  const std::size_t have = impl_->storage ? impl_->storage->nbytes() : 0;
  if (have < need)
    throw ShapeError(fmt::format("tensor: storage of {} bytes is too small for {} {} ({} bytes)", have, shape.str(),
                                 dtype_name(dtype), need));
}

void detail::throw_undefined_tensor() { throw ValueError("tensor: use of an undefined tensor"); }

static const detail::TensorImpl& checked(const Rc<detail::TensorImpl>& impl) {
  if (!impl) detail::throw_undefined_tensor();
  return *impl;
}

std::int64_t Tensor::size(int axis) const { return shape()[normalize_axis("size", axis, ndim())]; }

template <class T>
const T* Tensor::data() const {
  if (dtype() != dtype_of<T>())
    throw DTypeError(fmt::format("data: tensor is {}, requested {}", dtype_name(dtype()), dtype_name(dtype_of<T>())));
  return static_cast<const T*>(impl_->storage->data());
}

// Note [Mutable access] in tensor.h.
template <class T>
T* Tensor::mutable_data() {
  if (dtype() != dtype_of<T>())
    throw DTypeError(
        fmt::format("mutable_data: tensor is {}, requested {}", dtype_name(dtype()), dtype_name(dtype_of<T>())));
  impl_->storage->bump_version();
  return static_cast<T*>(impl_->storage->data());
}

template const float* Tensor::data<float>() const;
template const double* Tensor::data<double>() const;
template const std::int64_t* Tensor::data<std::int64_t>() const;
template float* Tensor::mutable_data<float>();
template double* Tensor::mutable_data<double>();
template std::int64_t* Tensor::mutable_data<std::int64_t>();

const void* Tensor::raw_data() const { return checked(impl_).storage->data(); }
void* Tensor::mutable_raw_data() {
  const auto& impl = checked(impl_);
  impl.storage->bump_version();
  return impl.storage->data();
}

double Tensor::item() const {
  if (numel() != 1)
    throw ShapeError(fmt::format("item: tensor must have one element, got {}", shape().str()));
  return read_as_double(raw_data(), dtype(), 0);
}

double Tensor::at(std::initializer_list<std::int64_t> index) const {
  return read_as_double(raw_data(), dtype(), flat_index(shape(), index));
}

void Tensor::set(std::initializer_list<std::int64_t> index, double value) {
  const std::int64_t i = flat_index(shape(), index);
  void* p = mutable_raw_data();
  switch (dtype()) {
    case DType::F32: static_cast<float*>(p)[i] = static_cast<float>(value); break;
    case DType::F64: static_cast<double*>(p)[i] = value; break;
    case DType::I64: static_cast<std::int64_t*>(p)[i] = static_cast<std::int64_t>(value); break;
  }
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  const std::int64_t n = numel();
  std::vector<T> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<T>(read_as_double(raw_data(), dtype(), i));
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<std::int64_t> Tensor::to_vector<std::int64_t>() const;

Tensor& Tensor::requires_grad_(bool on) {
  auto& impl = const_cast<detail::TensorImpl&>(checked(impl_));
  if (!impl.is_leaf)
    throw GradError("requires_grad_: only leaves can be marked; use detach() to make a leaf from a result");
  if (on && !is_floating(impl.dtype))
    throw DTypeError(fmt::format("requires_grad_: dtype {} cannot require grad", dtype_name(impl.dtype)));
  impl.requires_grad = on;
  return *this;
}

bool Tensor::is_leaf() const { return checked(impl_).is_leaf; }
Tensor Tensor::grad() const { return checked(impl_).grad; }
void Tensor::set_grad(const Tensor& g) { const_cast<detail::TensorImpl&>(checked(impl_)).grad = g; }
void Tensor::zero_grad() { set_grad(Tensor()); }

Tensor Tensor::detach() const {
  const auto& impl = checked(impl_);
  return Tensor(impl.storage, impl.shape, impl.dtype);
}

Tensor Tensor::clone() const {
  Tensor out(shape(), dtype());
  if (nbytes()) std::memcpy(out.mutable_raw_data(), raw_data(), nbytes());
  return out;
}

Tensor Tensor::to(DType target) const {
  Tensor out(shape(), target);
  const std::int64_t n = numel();
  const void* src = raw_data();
  const DType from = dtype();
  void* dst = out.mutable_raw_data();
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = read_as_double(src, from, i);
    switch (target) {
      case DType::F32: static_cast<float*>(dst)[i] = static_cast<float>(v); break;
      case DType::F64: static_cast<double*>(dst)[i] = v; break;
      case DType::I64: static_cast<std::int64_t*>(dst)[i] = static_cast<std::int64_t>(v); break;
    }
  }
  return out;
}

std::uint32_t Tensor::version() const { return checked(impl_).storage->version(); }
void Tensor::bump_version() { checked(impl_).storage->bump_version(); }
std::int32_t Tensor::node() const { return impl_ ? impl_->node : -1; }
const Rc<Storage>& Tensor::storage() const { return checked(impl_).storage; }

void require_floating(std::string_view op, DType t) {
  if (!is_floating(t)) throw DTypeError(fmt::format("{}: dtype {} is not supported", op, dtype_name(t)));
}

void require_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    throw DTypeError(fmt::format("{}: mixed dtypes: a is {}, b is {}", op, dtype_name(a.dtype()),
                                 dtype_name(b.dtype())));
}

}  // namespace mg
