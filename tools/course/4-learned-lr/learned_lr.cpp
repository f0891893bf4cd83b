// Assignment 4: a learned inner learning rate, Meta-SGD style. Read README.md in
// this folder, then replace the TODOs. Grade with
//   meson compile -C build course-4
//
// α has θ's shape (one rate per weight) and is meta-learned with θ:
//   θ' = θ − α ∘ ∇_θ L_support(θ)          (one inner step; ∘ is elementwise)
// The grader trains θ and α with Adam on sinusoid tasks and checks the MSE after
// one step on held-out tasks.
#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "tools/course/assignments.h"

namespace mg::course {

std::vector<Tensor> init_inner_lrs(std::span<const Tensor> theta, double initial_lr) {
  std::vector<Tensor> alpha;
  // TODO: one tensor per θ_j, of θ_j's shape, every element initial_lr, that the
  // outer loop can differentiate with respect to.
  for (std::size_t j = 0; j < theta.size(); ++j) alpha.push_back(scalar(initial_lr, theta[j].dtype()));
  return alpha;
}

std::vector<Tensor> learned_lr_step(const meta::SupportLoss& support_loss, std::span<const Tensor> theta,
                                    std::span<const Tensor> alpha) {
  // TODO: θ' = θ − α ∘ ∇L(θ), differentiable with respect to θ and α.
  (void)support_loss;
  (void)alpha;
  return {theta.begin(), theta.end()};
}

}  // namespace mg::course
