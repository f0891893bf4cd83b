// Reference solution of assignment 2 (tools/course/2-maml/README.md).
//
// θ'⁽⁰⁾ = θ,  θ'⁽ᵏ⁺¹⁾ = θ'⁽ᵏ⁾ − α ∇L(θ'⁽ᵏ⁾). create_graph records each inner gradient,
// so θ' stays a differentiable function of θ and the outer grad() includes the
// curvature term (I − α∇²L) (meta/maml.cpp).
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "tools/course/assignments.h"

namespace mg::course {

std::vector<Tensor> maml_inner_loop(const meta::SupportLoss& support_loss, std::span<const Tensor> theta,
                                    double inner_lr, int steps) {
  std::vector<Tensor> theta_i(theta.begin(), theta.end());
  for (int k = 0; k < steps; ++k) {
    const std::vector<Tensor> g = grad({support_loss(theta_i)}, theta_i, {.create_graph = true});
    for (std::size_t j = 0; j < theta_i.size(); ++j) theta_i[j] = theta_i[j] - g[j] * inner_lr;
  }
  return theta_i;
}

}  // namespace mg::course
