// Reverse-mode differentiation over this thread's tape.
//
//   Tensor dw = grad(loss, w);                              // first order
//   auto g = grad({loss}, params, {.create_graph = true});  // g is differentiable:
//   auto hv = grad({dot(g, v)}, params);                    //   Hessian-vector product
//
// (dot is in ops.h; tests/autograd/test_grad_example.cpp runs these lines, and a Meson
// test checks that it quotes them verbatim.)
//
// grad() walks node ids from the largest output down to the smallest input,
// calling each node's backward with the gradient accumulated for it. Nodes that
// cannot reach a requested input are skipped. With create_graph the formulas
// record onto the tape like any other code, so the returned gradients can be
// differentiated again; without it the sweep runs under NoGradGuard.
#pragma once

#include <concepts>
#include <vector>

#include "autograd/tensor.h"

namespace mg {

struct GradOptions {
  // Record the backward sweep so the gradients are themselves differentiable. Without it
  // they are plain values, and grad() of anything computed from them says to pass this
  // (Note [Gradients without a graph] in grad.cpp).
  bool create_graph = false;
  // Return an undefined Tensor for inputs the outputs do not depend on, instead of throwing.
  bool allow_unused = false;
  // Seeds d(something)/d(output_i); required for non-scalar outputs. Default: ones.
  std::vector<Tensor> grad_outputs = {};
};

// Gradients of sum_i <grad_outputs_i, outputs_i> with respect to each input.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const GradOptions& options = {});

// Convenience: d output / d input for a single pair, grad(loss, w). (A template so
// that braced lists, grad({loss}, {w}), always pick the vector form above.)
template <std::same_as<Tensor> T>
Tensor grad(const T& output, const T& input, const GradOptions& options = {}) {
  return grad(std::vector<Tensor>{output}, std::vector<Tensor>{input}, options)[0];
}

// Accumulates d output / d leaf into leaf.grad() for every leaf that requires grad.
void backward(const Tensor& output, const Tensor& grad_output = {}, bool create_graph = false);

}  // namespace mg
