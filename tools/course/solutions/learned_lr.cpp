// Reference solution of assignment 4 (tools/course/4-learned-lr/README.md).
//
// Meta-SGD (Li et al. 2017): α has θ's shape and is meta-learned with θ, so it must
// require grad, and the step θ' = θ − α ∘ ∇L(θ) must keep both α and (through
// create_graph) the inner gradient on the tape.
#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "tools/course/assignments.h"

namespace mg::course {

std::vector<Tensor> init_inner_lrs(std::span<const Tensor> theta, double initial_lr) {
  std::vector<Tensor> alpha;
  for (const Tensor& t : theta) alpha.push_back(full_like(t, initial_lr).requires_grad_());
  return alpha;
}

std::vector<Tensor> learned_lr_step(const meta::SupportLoss& support_loss, std::span<const Tensor> theta,
                                    std::span<const Tensor> alpha) {
  const std::vector<Tensor> wrt(theta.begin(), theta.end());
  const std::vector<Tensor> g = grad({support_loss(theta)}, wrt, {.create_graph = true});
  std::vector<Tensor> theta_i;
  for (std::size_t j = 0; j < theta.size(); ++j) theta_i.push_back(theta[j] - alpha[j] * g[j]);
  return theta_i;
}

}  // namespace mg::course
