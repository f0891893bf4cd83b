// apply<Op>: the only code that records onto the tape.
//
// A primitive is one struct (see STYLE.md, "An op is defined once"):
//
//   // mul(a, b) -> a * b            (broadcasting)
//   //   a: sum_to(grad * b, a.shape)
//   //   b: sum_to(grad * a, b.shape)
//   struct Mul {
//     static constexpr OpId id = OpId::Mul;
//     static constexpr Save save = Save::Inputs;
//     static Shape infer_shape(const Tensor& a, const Tensor& b);   // every shape error here
//     static Tensor forward(const Tensor& a, const Tensor& b);      // kernels only
//     static Grads backward(const Saved& s, const Tensor& grad);    // differentiable ops only
//   };
//
// An op with attributes adds `struct Attrs` (trivially copyable, at most 80
// bytes) and takes it as the first argument of infer_shape and forward; the
// backward reads it with s.attrs<Attrs>().
//
// Because a backward is written with the same differentiable functions users
// call, running it with recording on (create_graph) records the gradient's own
// graph on the tape, and a second grad() differentiates it: any order for free.
//
// Note [Saved tensor versions]: a node keeps handles to the tensors its
// backward reads, together with the storage version at the time. In-place
// writes (optimizer steps) bump the version; reading a saved tensor whose
// version moved throws a GradError instead of silently using new values.
#pragma once

#include <array>
#include <optional>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/profile.h"
#include "autograd/tape.h"

namespace mg {

using Grads = std::vector<Tensor>;

struct NoAttrs {};

// The view of one node that a backward formula reads.
class Saved {
 public:
  Saved(const Tape& tape, std::int32_t id, std::uint32_t needs_grad_mask)
      : tape_(tape), id_(id), needs_(needs_grad_mask), save_(tape.node(id).save) {}

  // Whether input i needs a gradient in this sweep (false: return Tensor{} for it).
  bool needs_grad(std::uint32_t i) const { return (needs_ >> i) & 1u; }
  // Input i as it was when the op ran (the op must save its inputs).
  Tensor input(std::uint32_t i) const;
  // The op's result (the op must save its output).
  Tensor output() const;
  // Shape of input i (always available). Returned by value: a backward may append to
  // the tape while the shape is still to be used, e.g. sum_to(grad * b, s.input_shape(0)).
  Shape input_shape(std::uint32_t i) const;
  std::uint32_t num_inputs() const;
  // The node's result shape (by value, as above) and dtype.
  Shape shape() const;
  DType dtype() const;
  template <class A>
  A attrs() const {
    static_assert(std::is_trivially_copyable_v<A> && sizeof(A) <= kAttrBytes);
    A a;
    std::memcpy(&a, tape_.node(id_).attrs.bytes.data(), sizeof(A));
    return a;
  }

 private:
  Tensor checked(std::uint32_t slot) const;
  const Tape& tape_;
  std::int32_t id_;
  std::uint32_t needs_;
  Save save_;
};

namespace detail {

// Throws DTypeError when floating inputs disagree: "<op>: mixed dtypes: a is f32, b is f64".
void check_dtypes(std::string_view op, std::span<const Tensor* const> inputs);

// Records `out` as the result of a new node reading `inputs`; a no-op when no input requires grad.
void record(OpId id, BackwardFn backward, Save save, const AttrBlob& attrs, std::span<const Tensor* const> inputs,
            Tensor& out);

template <class A>
AttrBlob pack(const A& a) {
  static_assert(std::is_trivially_copyable_v<A> && sizeof(A) <= kAttrBytes, "op attributes must be small PODs");
  AttrBlob blob;
  if constexpr (!std::is_empty_v<A>) std::memcpy(blob.bytes.data(), &a, sizeof(A));
  return blob;
}

template <class Op, class A, class... In>
Tensor run(const A& attrs, const In&... in) {
  if constexpr (std::is_same_v<A, NoAttrs>) {
    (void)Op::infer_shape(in...);
    return Op::forward(in...);
  } else {
    (void)Op::infer_shape(attrs, in...);
    return Op::forward(attrs, in...);
  }
}

}  // namespace detail

// Runs Op's shape check and forward, then records a node when any input requires grad
// and recording is on. Inputs are Tensors; attributes come first when the op has them.
template <class Op, class A, class... In>
Tensor apply_with(const A& attrs, const In&... in) {
  const std::array<const Tensor*, sizeof...(In)> inputs{&in...};
  detail::check_dtypes(op_name(Op::id), inputs);
  if (detail::t_profile) [[unlikely]] {
    const auto start = std::chrono::steady_clock::now();
    const detail::ProfileOpScope scope(Op::id);
    Tensor out = detail::run<Op>(attrs, in...);
    detail::profile_add(Op::id, start, static_cast<std::int64_t>(out.nbytes()));
    detail::record(Op::id, &Op::backward, Op::save, detail::pack(attrs), inputs, out);
    if (detail::t_anomaly) detail::anomaly_check_op(Op::id, inputs, out);
    return out;
  }
  Tensor out = detail::run<Op>(attrs, in...);
  detail::record(Op::id, &Op::backward, Op::save, detail::pack(attrs), inputs, out);
  if (detail::t_anomaly) [[unlikely]] detail::anomaly_check_op(Op::id, inputs, out);  // anomaly.h
  return out;
}

template <class Op, class... In>
Tensor apply(const In&... in) {
  return apply_with<Op>(NoAttrs{}, in...);
}

// For ops with a variable number of inputs (concat): forward takes (attrs, span).
template <class Op>
Tensor apply_list(const typename Op::Attrs& attrs, std::span<const Tensor> in) {
  std::vector<const Tensor*> inputs;
  inputs.reserve(in.size());
  for (const Tensor& t : in) inputs.push_back(&t);
  detail::check_dtypes(op_name(Op::id), inputs);
  (void)Op::infer_shape(attrs, in);
  const auto start = detail::t_profile ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  std::optional<detail::ProfileOpScope> scope;
  if (detail::t_profile) scope.emplace(Op::id);
  Tensor out = Op::forward(attrs, in);
  if (detail::t_profile) detail::profile_add(Op::id, start, static_cast<std::int64_t>(out.nbytes()));
  detail::record(Op::id, &Op::backward, Op::save, detail::pack(attrs), inputs, out);
  if (detail::t_anomaly) [[unlikely]] detail::anomaly_check_op(Op::id, inputs, out);
  return out;
}

}  // namespace mg
