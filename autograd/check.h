// Gradient checks that ship with the library: compare the tape's gradients
// with central finite differences in float64.
//
//   auto r = mg::gradcheck([](const auto& x) { return mg::tanh(x[0]) * x[1]; }, {a, b});
//   CHECK_MESSAGE(r.ok, r.message);
//
// gradcheck projects the output on a fixed random direction v and checks
// d<v, f(x)>/dx_j against (<v, f(x + h e_j)> - <v, f(x - h e_j)>) / 2h for every
// element j of every input that requires grad. gradgradcheck runs the same
// check on x -> <w, grad(<v, f(x)>, x, create_graph)>: the backward of the
// backward, which is what second-order MAML differentiates.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace mg {

using CheckedFunction = std::function<Tensor(const std::vector<Tensor>& inputs)>;

struct CheckOptions {
  double eps = 1e-6;   // finite-difference step h
  double atol = 1e-5;  // pass when |numeric - analytic| <= atol + rtol * |numeric|
  double rtol = 1e-4;
  std::uint64_t seed = 0;  // for the projection directions v and w
  std::string name = "f";  // what the failure message calls the function (an op name)
};

struct CheckResult {
  bool ok = true;
  // On failure: "gradcheck: mul: input 1, element 3: numeric 0.41 vs analytic 0.4 (|diff| 0.01)".
  std::string message = {};
  double max_abs_error = 0.0;
};

// Inputs must be float64 (int64 inputs, such as labels, pass through unchanged);
// only those with requires_grad() are differentiated.
CheckResult gradcheck(const CheckedFunction& f, const std::vector<Tensor>& inputs, const CheckOptions& options = {});
CheckResult gradgradcheck(const CheckedFunction& f, const std::vector<Tensor>& inputs,
                          const CheckOptions& options = {});

}  // namespace mg
