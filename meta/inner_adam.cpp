#include "meta/inner_adam.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"

namespace mg::meta {

Tensor safe_sqrt(const Tensor& v, double eps) { return sqrt(add_scalar(v, eps * eps)); }

std::vector<Tensor> inner_adam_step(std::span<const Tensor> theta, std::span<const Tensor> g, InnerAdamState& state,
                                    const InnerAdamOptions& o) {
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0) || !(o.eps > 0.0) || !std::isfinite(o.lr))
    throw ValueError(
        fmt::format("inner adam: need 0 <= beta1, beta2 < 1, eps > 0 and a finite lr; got beta1 {}, "
                    "beta2 {}, eps {}, lr {}",
                    o.beta1, o.beta2, o.eps, o.lr));
  if (g.size() != theta.size())
    throw ValueError(fmt::format("inner adam: {} gradients for {} parameter tensors", g.size(), theta.size()));
  if (state.m.empty()) {
    for (const Tensor& t : theta) {
      state.m.push_back(zeros_like(t.detach()));
      state.v.push_back(zeros_like(t.detach()));
    }
  }
  ++state.step;
  const double t = static_cast<double>(state.step);
  const double c1 = 1.0 - std::pow(o.beta1, t), c2 = 1.0 - std::pow(o.beta2, t);
  std::vector<Tensor> next(theta.size());
  for (std::size_t j = 0; j < theta.size(); ++j) {
    state.m[j] = state.m[j] * o.beta1 + g[j] * (1.0 - o.beta1);
    state.v[j] = state.v[j] * o.beta2 + g[j] * g[j] * (1.0 - o.beta2);
    // θ − lr · m̂ / sqrt(v̂ + ε²)  (Note [Safe square root])
    next[j] = theta[j] - state.m[j] * (o.lr / c1) / safe_sqrt(state.v[j] * (1.0 / c2), o.eps);
  }
  return next;
}

std::vector<Tensor> adapt_adam(const SupportLoss& support_loss, std::span<const Tensor> theta,
                               const InnerAdamOptions& options, int steps, AdaptMode mode) {
  if (mode == AdaptMode::Detached)
    throw ValueError("adapt_adam: a detached inner Adam is Adaptation's (meta/adapt.h), not a differentiable loop");
  if (steps < 0) throw ValueError(fmt::format("adapt_adam: the number of inner steps must be >= 0, got {}", steps));
  InnerAdamState state;
  std::vector<Tensor> theta_i(theta.begin(), theta.end());
  for (int k = 0; k < steps; ++k) {
    std::vector<Tensor> g = grad({support_loss(theta_i)}, theta_i, {.create_graph = mode == AdaptMode::SecondOrder});
    theta_i = inner_adam_step(theta_i, g, state, options);
  }
  return theta_i;
}

}  // namespace mg::meta
