// Comparisons the graders use to tell a right answer from the typical wrong ones.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace mg::course {

// Whether a and b have the same shape and |a − b| <= tol · (1 + |b|) everywhere.
bool close(const Tensor& a, const Tensor& b, double tol = 1e-8);
// The same for lists of tensors (same length, each pair close).
bool all_close(std::span<const Tensor> a, std::span<const Tensor> b, double tol = 1e-8);
// Whether every element is finite.
bool all_finite(std::span<const Tensor> ts);
// Runs `body`; on an exception returns false and sets `error` to "threw: <what>".
bool runs(const std::function<void()>& body, std::string& error);

}  // namespace mg::course
