// Reference solution of assignment 3 (tools/course/3-reptile/README.md).
//
// θ ← θ + ε · (1/n) Σ_i (W_i − θ): move θ a fraction ε of the way to the mean of the
// adapted weights. New tensors: θ itself is not written.
#include "autograd/creation.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "tools/course/assignments.h"

namespace mg::course {

std::vector<Tensor> reptile_outer_update(std::span<const Tensor> theta,
                                         const std::vector<std::vector<Tensor>>& adapted, double epsilon) {
  NoGradGuard no_grad;  // an update of values, not part of any graph
  std::vector<Tensor> next;
  for (std::size_t j = 0; j < theta.size(); ++j) {
    Tensor direction = zeros_like(theta[j]);
    for (const std::vector<Tensor>& w : adapted) direction = direction + (w[j] - theta[j]);
    next.push_back(theta[j] + direction * (epsilon / static_cast<double>(adapted.size())));
  }
  return next;
}

}  // namespace mg::course
