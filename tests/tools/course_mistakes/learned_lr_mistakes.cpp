#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "tests/tools/course_mistakes/mistakes.h"

namespace mg::course::mistakes {

std::vector<Tensor> lr_init_not_learned(Theta theta, double initial_lr) {
  std::vector<Tensor> alpha;
  for (const Tensor& t : theta) alpha.push_back(full_like(t, initial_lr));
  return alpha;
}
// One rate per tensor (LSLR), not per element.
std::vector<Tensor> lr_init_scalar(Theta theta, double initial_lr) {
  std::vector<Tensor> alpha;
  for (const Tensor& t : theta) alpha.push_back(scalar(initial_lr, t.dtype()).requires_grad_());
  return alpha;
}
std::vector<Tensor> lr_init_right(Theta theta, double initial_lr) {
  std::vector<Tensor> alpha = lr_init_not_learned(theta, initial_lr);
  for (Tensor& a : alpha) a.requires_grad_();
  return alpha;
}

namespace lr_mistake_detail {
std::vector<Tensor> variant_step(const meta::SupportLoss& loss, Theta theta, Theta alpha, bool detach_alpha) {
  const std::vector<Tensor> wrt(theta.begin(), theta.end());
  const std::vector<Tensor> g = grad({loss(theta)}, wrt, {.create_graph = true});
  std::vector<Tensor> out;
  for (std::size_t j = 0; j < theta.size(); ++j)
    out.push_back(theta[j] - (detach_alpha ? alpha[j].detach() : alpha[j]) * g[j]);
  return out;
}
}  // namespace lr_mistake_detail

using namespace lr_mistake_detail;

std::vector<Tensor> lr_step_detached_alpha(const meta::SupportLoss& loss, Theta theta, Theta alpha) {
  return variant_step(loss, theta, alpha, true);
}
std::vector<Tensor> lr_step_right(const meta::SupportLoss& loss, Theta theta, Theta alpha) {
  return variant_step(loss, theta, alpha, false);
}

}  // namespace mg::course::mistakes
