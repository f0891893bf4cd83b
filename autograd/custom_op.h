// A unary op defined outside the library: a forward and a backward, both written
// with the library's differentiable functions (ops.h), recorded as one tape node.
//
//   // softplus(x) = log(1 + e^x);  x: grad * sigmoid(x)
//   Tensor sp_forward(const Tensor& x) { return log(exp(x) + 1.0); }
//   Tensor sp_backward(const Tensor& x, const Tensor& result, const Tensor& grad) { return grad * sigmoid(x); }
//   Tensor y = custom_unary(x, {sp_forward, sp_backward});
//
// The forward runs with recording off: the node is the op, its inside is not on the
// tape. The backward receives the input, the result and the upstream gradient; with
// create_graph it records like any backward formula (STYLE.md, "An op is defined
// once"), so gradgradcheck can test a user's rule exactly as it tests the library's.
// This is the hook of the course's first assignment (tools/course/backward).
#pragma once

#include "autograd/tensor.h"

namespace mg {

struct CustomUnary {
  Tensor (*forward)(const Tensor& x) = nullptr;
  // d<grad, f(x)>/dx, of x's shape.
  Tensor (*backward)(const Tensor& x, const Tensor& result, const Tensor& grad) = nullptr;
};

// f(x) recorded as one node named "custom_unary". ValueError when a function is missing;
// ShapeError when the forward does not keep x's shape or the backward does not return it.
Tensor custom_unary(const Tensor& x, const CustomUnary& op);

}  // namespace mg
