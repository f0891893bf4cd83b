// TRPO's step, Hessian-vector products and conjugate gradients; see trpo.h.
#include "nn/trpo.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

namespace mg::nn {
namespace {

// a + c · b, elementwise over the lists.
std::vector<Tensor> axpy(std::span<const Tensor> a, double c, std::span<const Tensor> b) {
  std::vector<Tensor> out;
  for (std::size_t j = 0; j < a.size(); ++j) out.push_back(a[j] + b[j] * c);
  return out;
}

// Leaves that require grad, holding theta's values: what f is differentiated at.
std::vector<Tensor> fresh_leaves(std::span<const Tensor> theta) {
  std::vector<Tensor> out;
  for (const Tensor& t : theta) out.push_back(t.detach().requires_grad_());
  return out;
}

void check_scalar(const char* who, const Tensor& t) {
  if (t.numel() != 1) throw ShapeError(fmt::format("{}: the function must give a scalar, got {}", who, t.shape().str()));
}

bool finite(double v) { return std::isfinite(v); }

}  // namespace

std::vector<Tensor> hessian_vector_product(const ParamFunction& f, std::span<const Tensor> theta,
                                           std::span<const Tensor> v) {
  if (v.size() != theta.size())
    throw ShapeError(fmt::format("hessian_vector_product: {} vectors for {} parameters", v.size(), theta.size()));
  for (std::size_t j = 0; j < theta.size(); ++j)
    if (v[j].shape() != theta[j].shape())
      throw ShapeError(fmt::format("hessian_vector_product: vector {} is {}, parameter {} is {}", j, v[j].shape().str(),
                                   j, theta[j].shape().str()));
  EnableGradGuard recording;  // also inside a NoGradGuard (TRPO's products)
  TapeScope scope;
  const std::vector<Tensor> at = fresh_leaves(theta);
  const Tensor y = f(at);
  check_scalar("hessian_vector_product", y);
  const std::vector<Tensor> g = grad({y}, at, {.create_graph = true, .allow_unused = true});
  std::vector<Tensor> v_const;
  for (const Tensor& t : v) v_const.push_back(t.detach());
  const Tensor gv = dot(g, v_const);  // ∇f(θ) · v; an unused parameter's g is a symbolic zero
  std::vector<Tensor> hv(at.size());
  if (gv.requires_grad()) hv = grad({gv}, at, {.allow_unused = true});
  for (std::size_t j = 0; j < hv.size(); ++j) hv[j] = hv[j].defined() ? hv[j].detach() : theta[j].detach() * 0.0;
  return hv;
}

std::vector<Tensor> conjugate_gradient(const LinearMap& a, std::span<const Tensor> b, int iterations,
                                       double tolerance) {
  NoGradGuard no_grad;
  std::vector<Tensor> x, r, p;
  for (const Tensor& t : b) {
    x.push_back(t.detach() * 0.0);
    r.push_back(t.detach());
    p.push_back(t.detach());
  }
  double rr = dot(r, r).item();
  for (int i = 0; i < iterations && rr > tolerance; ++i) {
    const std::vector<Tensor> ap = a(p);
    const double pap = dot(p, ap).item();
    if (!(pap > 0.0)) break;  // A is not positive definite along p: keep x
    const double alpha = rr / pap;
    x = axpy(x, alpha, p);
    r = axpy(r, -alpha, ap);
    const double rr_next = dot(r, r).item();
    p = axpy(r, rr_next / rr, p);
    rr = rr_next;
  }
  return x;
}

TrpoStep trpo_step(std::span<const Tensor> theta, const ParamFunction& loss, const ParamFunction& kl,
                   const TrpoOptions& o) {
  if (!(o.max_kl > 0.0)) throw ValueError(fmt::format("trpo: max_kl must be > 0, got {}", o.max_kl));
  if (!(o.backtrack_ratio > 0.0 && o.backtrack_ratio < 1.0))
    throw ValueError(fmt::format("trpo: backtrack_ratio must be in (0, 1), got {}", o.backtrack_ratio));
  if (o.cg_iterations < 1) throw ValueError(fmt::format("trpo: cg_iterations must be >= 1, got {}", o.cg_iterations));
  if (o.max_backtracks < 0)
    throw ValueError(fmt::format("trpo: max_backtracks must be >= 0, got {}", o.max_backtracks));

  TrpoStep step;
  std::vector<Tensor> g;
  {
    TapeScope scope;
    const std::vector<Tensor> at = fresh_leaves(theta);
    const Tensor l0 = loss(at);
    check_scalar("trpo", l0);
    step.loss_before = l0.item();
    g = grad({l0}, at, {.allow_unused = true});
    for (std::size_t j = 0; j < g.size(); ++j) g[j] = g[j].defined() ? g[j].detach() : theta[j].detach() * 0.0;
  }
  NoGradGuard no_grad;
  std::vector<Tensor> minus_g;
  for (const Tensor& t : g) minus_g.push_back(t * -1.0);
  if (!finite(step.loss_before) || !finite(dot(g, g).item()))
    throw ValueError(fmt::format("trpo: the loss ({}) or its gradient is not finite", step.loss_before));
  const LinearMap fisher = [&](std::span<const Tensor> v) {
    return axpy(hessian_vector_product(kl, theta, v), o.damping, v);
  };
  const std::vector<Tensor> x = conjugate_gradient(fisher, minus_g, o.cg_iterations);
  const double xfx = dot(x, fisher(x)).item();
  if (!(xfx > 0.0) || !finite(xfx))
    throw ValueError(fmt::format("trpo: the step's curvature x·Fx is {} (the KL's Hessian must be positive)", xfx));
  const double beta = std::sqrt(2.0 * o.max_kl / xfx);

  step.theta.assign(theta.begin(), theta.end());
  double scale = beta;
  for (int k = 0; k <= o.max_backtracks; ++k, scale *= o.backtrack_ratio) {
    std::vector<Tensor> candidate;
    for (std::size_t j = 0; j < theta.size(); ++j) candidate.push_back((theta[j].detach() + x[j] * scale).detach());
    const double l = loss(candidate).item(), d = kl(candidate).item();
    if (l < step.loss_before && d <= o.max_kl) {
      step.theta = std::move(candidate);
      step.accepted = true;
      step.loss_after = l;
      step.kl = d;
      step.backtracks = k;
      return step;
    }
  }
  for (Tensor& t : step.theta) t = t.detach();
  step.loss_after = step.loss_before;
  return step;
}

}  // namespace mg::nn
