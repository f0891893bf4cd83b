// Anomaly mode: find the op where a NaN or an infinity first appears.
//
//   {
//     mg::DetectAnomaly anomaly;     // on this thread while alive
//     Tensor loss = model(x);        // AnomalyError at the first op that makes a
//     auto g = grad({loss}, theta);  //   non-finite value, forward or backward
//   }
//
// Under the guard every op's result is checked (apply<Op> is the one place every op
// runs through: in the forward pass, and inside the backward formulas of every grad()
// sweep, recorded or not, so second and higher order are covered too), and so is every
// gradient a backward formula returns and every sum of gradients. The first result
// that holds a NaN or an infinity although the op's operands were all finite throws an
// AnomalyError naming the op, the phase, its tape position and the shapes:
//
//   anomaly: log produced nan in forward at tape position %3: a is [3], result is [3]
//   anomaly: sqrt produced inf in backward at tape position %1 (its formula's div):
//     a is [3], result is [3], grad is [3]
//
// Note [Anomaly: the first producer]: an op fed a non-finite operand only passes on what
// it was given (a NaN in the data, a -inf mask) and is not reported; what is reported is
// the op that turned finite values into a non-finite one. An op's result carries its
// own tape position when it was recorded; in a backward sweep the position is that of
// the node being differentiated, and the op inside its formula is named in brackets.
//
// Off by default; when off the cost is one thread-local load per op. The mode is per
// thread, like the tape; parallel_for turns it on in the workers of a job whose
// caller has it on, so meta-batches split across threads are checked too.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "autograd/op_list.h"
#include "autograd/tensor.h"

namespace mg {

// Turns anomaly mode on (or, with on = false, off) on this thread for its lifetime,
// and puts the previous state back at the end. Guards nest.
class DetectAnomaly {
 public:
  explicit DetectAnomaly(bool on = true);
  ~DetectAnomaly();
  DetectAnomaly(const DetectAnomaly&) = delete;
  DetectAnomaly& operator=(const DetectAnomaly&) = delete;

 private:
  bool previous_;
};

// Whether anomaly mode is on on this thread.
bool anomaly_enabled();

// True when every element of a floating tensor is finite (integer tensors always are).
bool all_finite(const Tensor& t);
// "nan" or "inf" (the first non-finite element's kind; "-inf" for negative infinity),
// or "" when all are finite.
const char* non_finite_kind(const Tensor& t);

namespace detail {

inline thread_local bool t_anomaly = false;

// The node whose backward formula is running in a sweep under anomaly mode (grad.cpp).
struct AnomalyBackward {
  OpId op;
  std::int32_t node;
  std::span<const Shape> input_shapes;
  const Shape* output_shape;
  const Tensor* grad;
  bool summing = false;  // adding the node's gradients to what its inputs already had
};
inline thread_local const AnomalyBackward* t_anomaly_backward = nullptr;

// apply<Op>, under anomaly mode: throws AnomalyError when `out` is not finite while
// every operand is (Note [Anomaly: the first producer]).
void anomaly_check_op(OpId op, std::span<const Tensor* const> inputs, const Tensor& out);
// Throws the AnomalyError of node `b`'s backward producing a `kind` value in `where`
// ("its formula's div", "the gradient for input a", ...).
[[noreturn]] void anomaly_throw_backward(const AnomalyBackward& b, const std::string& where, const char* kind);

}  // namespace detail
}  // namespace mg
