#include <algorithm>

#include "autograd/grad.h"
#include "autograd/ops.h"
#include "tests/tools/course_mistakes/mistakes.h"

namespace mg::course::mistakes {
namespace maml_mistake_detail {

// The inner loop with each mistake switchable.
struct Variant {
  bool create_graph = true;
  double sign = 1.0;
  bool one_step = false;
  bool gradient_at_theta = false;
  bool detach = false;
};

std::vector<Tensor> variant_loop(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps, Variant v) {
  std::vector<Tensor> theta_i(theta.begin(), theta.end());
  const std::vector<Tensor> theta0 = theta_i;
  for (int k = 0; k < (v.one_step ? std::min(steps, 1) : steps); ++k) {
    const std::vector<Tensor>& at = v.gradient_at_theta ? theta0 : theta_i;
    const std::vector<Tensor> g = grad({loss(at)}, at, {.create_graph = v.create_graph});
    for (std::size_t j = 0; j < theta_i.size(); ++j) theta_i[j] = theta_i[j] - g[j] * (v.sign * inner_lr);
  }
  if (v.detach)
    for (Tensor& t : theta_i) t = t.detach().requires_grad_();
  return theta_i;
}

}  // namespace maml_mistake_detail

using namespace maml_mistake_detail;

std::vector<Tensor> maml_no_create_graph(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps) {
  return variant_loop(loss, theta, inner_lr, steps, {.create_graph = false});
}
std::vector<Tensor> maml_uphill(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps) {
  return variant_loop(loss, theta, inner_lr, steps, {.sign = -1.0});
}
std::vector<Tensor> maml_one_step(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps) {
  return variant_loop(loss, theta, inner_lr, steps, {.one_step = true});
}
std::vector<Tensor> maml_gradient_at_theta(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps) {
  return variant_loop(loss, theta, inner_lr, steps, {.gradient_at_theta = true});
}
std::vector<Tensor> maml_detached(const meta::SupportLoss& loss, Theta theta, double inner_lr, int steps) {
  return variant_loop(loss, theta, inner_lr, steps, {.detach = true});
}

}  // namespace mg::course::mistakes
