#include "nn/gaussian_policy.h"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "nn/activations.h"
#include "nn/linear.h"
#include "nn/sequential.h"

namespace mg::nn {

namespace {

// μ and log σ of a distribution tensor [..., 2, act], each [..., act].
struct Parts {
  Tensor mean, log_std;
};

Parts split(const char* who, const Tensor& dist) {
  const int nd = dist.ndim();
  if (nd < 2 || dist.shape()[nd - 2] != 2)
    throw ShapeError(fmt::format("{}: a distribution must be [..., 2, act] (mean, log std), got {}", who,
                                 dist.shape().str()));
  std::vector<std::int64_t> dims;
  for (int d = 0; d < nd; ++d)
    if (d != nd - 2) dims.push_back(dist.shape()[d]);
  const Shape part(dims);
  return {reshape(slice(dist, nd - 2, 0, 1), part), reshape(slice(dist, nd - 2, 1, 2), part)};
}

}  // namespace

GaussianPolicy::GaussianPolicy(std::int64_t obs_dim, std::int64_t act_dim, const std::vector<std::int64_t>& hidden,
                               Generator& gen, double log_std, DType dtype)
    : Module("GaussianPolicy"), obs_dim_(obs_dim), act_dim_(act_dim) {
  if (obs_dim < 1 || act_dim < 1)
    throw ValueError(fmt::format("GaussianPolicy: observation and action sizes must be >= 1, got {} and {}", obs_dim,
                                 act_dim));
  for (std::int64_t h : hidden)
    if (h < 1) throw ValueError(fmt::format("GaussianPolicy: hidden widths must be >= 1, got {}", h));
  add_parameter("log_std", full({act_dim}, log_std, dtype));
  auto mean = std::make_unique<Sequential>();
  std::int64_t in = obs_dim;
  for (std::int64_t h : hidden) {
    mean->emplace<Linear>(in, h, gen, true, dtype).emplace<ReLU>();
    in = h;
  }
  mean->emplace<Linear>(in, act_dim, gen, true, dtype);
  add_module("mean", std::move(mean));
}

Tensor GaussianPolicy::forward_with(const Tensor& s, ParamCursor& params) {
  if (s.ndim() != 2 || s.shape()[1] != obs_dim_)
    throw ShapeError(fmt::format("GaussianPolicy: states must be [B, {}], got {}", obs_dim_, s.shape().str()));
  const Tensor log_std = take(params, 0);
  const Tensor mu = child(0).run(s, params);
  const Tensor spread = broadcast_to(reshape(log_std, {1, act_dim_}), mu.shape());
  return stack({mu, spread}, 1);
}

GaussianPolicy nav_policy(Generator& gen, DType dtype) { return GaussianPolicy(2, 2, {100, 100}, gen, 0.0, dtype); }

Tensor gaussian_log_prob(const Tensor& dist, const Tensor& actions) {
  const Parts p = split("gaussian_log_prob", dist);
  if (actions.shape() != p.mean.shape())
    throw ShapeError(fmt::format("gaussian_log_prob: actions must be {} for a distribution {}, got {}",
                                 p.mean.shape().str(), dist.shape().str(), actions.shape().str()));
  // log N(a; μ, σ²) = −z²/2 − log σ − log(2π)/2 per coordinate, z = (a − μ) / σ.
  const Tensor z = (actions - p.mean) * exp(neg(p.log_std));
  const Tensor per_coordinate = add_scalar(mul_scalar(z * z, -0.5) - p.log_std, -0.5 * std::log(2.0 * std::numbers::pi));
  return sum(per_coordinate, {actions.ndim() - 1});
}

Tensor gaussian_sample(const Tensor& dist, Generator& gen) {
  NoGradGuard no_grad;
  const Parts p = split("gaussian_sample", dist);
  return (p.mean + exp(p.log_std) * randn(p.mean.shape(), gen, dist.dtype())).detach();
}

Tensor gaussian_kl(const Tensor& p, const Tensor& q) {
  const Parts a = split("gaussian_kl", p), b = split("gaussian_kl", q);
  if (a.mean.shape() != b.mean.shape())
    throw ShapeError(fmt::format("gaussian_kl: the distributions differ in shape: {} and {}", p.shape().str(),
                                 q.shape().str()));
  // log σq − log σp + (σp² + (μp − μq)²) / (2 σq²) − 1/2 per coordinate.
  const Tensor d = a.mean - b.mean;
  const Tensor ratio = (exp(mul_scalar(a.log_std, 2.0)) + d * d) * exp(mul_scalar(b.log_std, -2.0));
  const Tensor per_coordinate = add_scalar(b.log_std - a.log_std + mul_scalar(ratio, 0.5), -0.5);
  return sum(per_coordinate, {a.mean.ndim() - 1});
}

}  // namespace mg::nn
