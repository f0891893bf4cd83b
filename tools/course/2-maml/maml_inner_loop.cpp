// Assignment 2: MAML's inner loop. Read README.md in this folder, then replace the
// TODO. Grade with
//   meson compile -C build course-2
//
// θ'⁽⁰⁾ = θ,  θ'⁽ᵏ⁺¹⁾ = θ'⁽ᵏ⁾ − α ∇_θ' L_support(θ'⁽ᵏ⁾),  k = 0 … steps−1.
// The grader differentiates the query loss at your θ' with respect to θ and compares
// it with the library's meta-gradient (meta/maml.h, maml_meta_gradient).
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "tools/course/assignments.h"

namespace mg::course {

std::vector<Tensor> maml_inner_loop(const meta::SupportLoss& support_loss, std::span<const Tensor> theta,
                                    double inner_lr, int steps) {
  std::vector<Tensor> theta_i(theta.begin(), theta.end());
  // TODO: `steps` times: the gradient of support_loss(theta_i) with respect to theta_i
  // (autograd/grad.h), then theta_i[j] = theta_i[j] − inner_lr * g[j] for every j.
  (void)support_loss;
  (void)inner_lr;
  (void)steps;
  return theta_i;
}

}  // namespace mg::course
