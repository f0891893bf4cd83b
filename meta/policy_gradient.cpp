// The policy-gradient pieces; see policy_gradient.h.
#include "meta/policy_gradient.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"

namespace mg::meta {
namespace {

void same_shape(const char* who, const char* a_name, const Tensor& a, const char* b_name, const Tensor& b) {
  if (a.shape() != b.shape())
    throw ShapeError(fmt::format("{}: {} and {} must have one shape, got {} and {}", who, a_name, b_name,
                                 a.shape().str(), b.shape().str()));
}

void check_steps(const char* who, const Tensor& t) {
  if (t.ndim() != 2) throw ShapeError(fmt::format("{}: expected [B, T] per-step values, got {}", who, t.shape().str()));
}

// Σ mask, with ValueError when it is 0.
double count_steps(const char* who, const std::vector<double>& mask) {
  double n = 0.0;
  for (double m : mask) n += m;
  if (n <= 0.0) throw ValueError(fmt::format("{}: no step is masked in", who));
  return n;
}

// Solves (A + λI) x = b for a symmetric positive semi-definite A (n × n, row-major) by
// Cholesky; false when the factor is not finite and positive.
bool solve_ridge(std::vector<double> a, std::vector<double> b, double lambda, std::vector<double>& x) {
  const std::size_t n = b.size();
  for (std::size_t i = 0; i < n; ++i) a[i * n + i] += lambda;
  for (std::size_t j = 0; j < n; ++j) {  // A = L Lᵀ, L in the lower triangle of a
    double d = a[j * n + j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0) || !std::isfinite(d)) return false;
    const double l = std::sqrt(d);
    a[j * n + j] = l;
    for (std::size_t i = j + 1; i < n; ++i) {
      double s = a[i * n + j];
      for (std::size_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {  // L y = b
    for (std::size_t k = 0; k < i; ++k) b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (std::size_t i = n; i-- > 0;) {  // Lᵀ x = y
    for (std::size_t k = i + 1; k < n; ++k) b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  x = std::move(b);
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

}  // namespace

Tensor discounted_returns(const Tensor& rewards, const Tensor& mask, double discount) {
  check_steps("discounted_returns", rewards);
  same_shape("discounted_returns", "rewards", rewards, "mask", mask);
  if (!(discount >= 0.0 && discount <= 1.0))
    throw ValueError(fmt::format("discounted_returns: the discount must be in [0, 1], got {}", discount));
  const std::int64_t b = rewards.shape()[0], t = rewards.shape()[1];
  const std::vector<double> r = rewards.to_vector<double>(), m = mask.to_vector<double>();
  std::vector<double> g(r.size(), 0.0);
  for (std::int64_t i = 0; i < b; ++i) {
    double next = 0.0;
    for (std::int64_t s = t; s-- > 0;) {
      const auto at = static_cast<std::size_t>(i * t + s);
      next = m[at] * (r[at] + discount * next);
      g[at] = next;
    }
  }
  return from_vector(g, rewards.shape()).to(rewards.dtype());
}

Tensor baseline_features(const Tensor& observations) {
  if (observations.ndim() != 3)
    throw ShapeError(
        fmt::format("baseline_features: observations must be [B, T, obs], got {}", observations.shape().str()));
  const std::int64_t b = observations.shape()[0], t = observations.shape()[1], o = observations.shape()[2];
  const std::int64_t f = 2 * o + 4;
  const std::vector<double> obs = observations.to_vector<double>();
  std::vector<double> out(static_cast<std::size_t>(b * t * f));
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t s = 0; s < t; ++s) {
      double* row = out.data() + (i * t + s) * f;
      for (std::int64_t k = 0; k < o; ++k) {
        const double v = std::clamp(obs[static_cast<std::size_t>((i * t + s) * o + k)], -10.0, 10.0);
        row[k] = v;
        row[o + k] = v * v;
      }
      const double al = static_cast<double>(s) / 100.0;
      row[2 * o] = al;
      row[2 * o + 1] = al * al;
      row[2 * o + 2] = al * al * al;
      row[2 * o + 3] = 1.0;
    }
  return from_vector(out, Shape{b, t, f}).to(observations.dtype());
}

std::vector<double> fit_baseline(const Tensor& features, const Tensor& returns, const Tensor& mask, double reg) {
  check_steps("fit_baseline", returns);
  same_shape("fit_baseline", "returns", returns, "mask", mask);
  if (features.ndim() != 3 || features.shape()[0] != returns.shape()[0] || features.shape()[1] != returns.shape()[1])
    throw ShapeError(fmt::format("fit_baseline: features must be [B, T, F] for returns {}, got {}",
                                 returns.shape().str(), features.shape().str()));
  const auto f = static_cast<std::size_t>(features.shape()[2]);
  const std::vector<double> phi = features.to_vector<double>(), g = returns.to_vector<double>(),
                            m = mask.to_vector<double>();
  std::vector<double> ata(f * f, 0.0), atb(f, 0.0);  // Φᵀ Φ and Φᵀ G over the masked steps
  for (std::size_t s = 0; s < g.size(); ++s) {
    if (m[s] == 0.0) continue;
    const double* row = phi.data() + s * f;
    for (std::size_t i = 0; i < f; ++i) {
      atb[i] += row[i] * g[s];
      for (std::size_t j = 0; j < f; ++j) ata[i * f + j] += row[i] * row[j];
    }
  }
  std::vector<double> w;
  double lambda = reg;
  for (int attempt = 0; attempt < 5; ++attempt, lambda *= 10.0)
    if (solve_ridge(ata, atb, lambda, w)) return w;
  throw ValueError(fmt::format("fit_baseline: no finite solution up to ridge {} (features or returns not finite?)",
                               lambda / 10.0));
}

Tensor baseline_values(const Tensor& features, const std::vector<double>& weights, const Tensor& mask) {
  if (features.ndim() != 3 || features.shape()[2] != static_cast<std::int64_t>(weights.size()))
    throw ShapeError(fmt::format("baseline_values: features must be [B, T, {}], got {}", weights.size(),
                                 features.shape().str()));
  const Shape steps{features.shape()[0], features.shape()[1]};
  if (mask.shape() != steps)
    throw ShapeError(fmt::format("baseline_values: mask must be {}, got {}", steps.str(), mask.shape().str()));
  const std::vector<double> phi = features.to_vector<double>(), m = mask.to_vector<double>();
  std::vector<double> out(m.size(), 0.0);
  for (std::size_t s = 0; s < m.size(); ++s) {
    if (m[s] == 0.0) continue;
    for (std::size_t k = 0; k < weights.size(); ++k) out[s] += weights[k] * phi[s * weights.size() + k];
  }
  return from_vector(out, steps).to(features.dtype());
}

Tensor advantages(const Tensor& returns, const Tensor& baseline, const Tensor& mask, bool normalise) {
  check_steps("advantages", returns);
  same_shape("advantages", "returns", returns, "baseline", baseline);
  same_shape("advantages", "returns", returns, "mask", mask);
  const std::vector<double> g = returns.to_vector<double>(), b = baseline.to_vector<double>(),
                            m = mask.to_vector<double>();
  const double n = count_steps("advantages", m);
  std::vector<double> a(g.size(), 0.0);
  double mean = 0.0;
  for (std::size_t s = 0; s < g.size(); ++s)
    if (m[s] != 0.0) {
      a[s] = g[s] - b[s];
      mean += a[s] / n;
    }
  if (normalise) {
    double var = 0.0;
    for (std::size_t s = 0; s < g.size(); ++s)
      if (m[s] != 0.0) var += (a[s] - mean) * (a[s] - mean) / n;
    const double scale = 1.0 / (std::sqrt(var) + 1e-8);
    for (std::size_t s = 0; s < g.size(); ++s) a[s] = m[s] != 0.0 ? (a[s] - mean) * scale : 0.0;
  }
  return from_vector(a, returns.shape()).to(returns.dtype());
}

Tensor reinforce_loss(const Tensor& log_prob, const Tensor& advantage, const Tensor& mask) {
  check_steps("reinforce_loss", log_prob);
  same_shape("reinforce_loss", "log_prob", log_prob, "advantage", advantage);
  same_shape("reinforce_loss", "log_prob", log_prob, "mask", mask);
  const double n = count_steps("reinforce_loss", mask.to_vector<double>());
  const Tensor weight = (advantage * mask).detach();
  return mul_scalar(sum(log_prob * weight), -1.0 / n);
}

}  // namespace mg::meta
