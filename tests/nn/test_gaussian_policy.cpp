// GaussianPolicy and the gaussian_* functions (nn/gaussian_policy.h): the distribution
// tensor, log-probabilities and KL against closed forms, sampling statistics, first and
// second derivatives, and every error.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "nn/gaussian_policy.h"

using namespace mg;
using namespace mg::nn;

namespace {

std::vector<std::string> parameter_names(const Module& m) {
  std::vector<std::string> out;
  for (const NamedTensor& t : m.named_parameters()) out.push_back(t.name);
  return out;
}

// A [B, 2, act] distribution from means and log stds given row by row.
Tensor dist_of(const std::vector<double>& mean, const std::vector<double>& log_std, std::int64_t b, std::int64_t act) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < b; ++i) {
    for (std::int64_t j = 0; j < act; ++j) v.push_back(mean[static_cast<std::size_t>(i * act + j)]);
    for (std::int64_t j = 0; j < act; ++j) v.push_back(log_std[static_cast<std::size_t>(i * act + j)]);
  }
  return from_vector(v, Shape{b, 2, act});
}

}  // namespace

TEST_SUITE("nn_gaussian_policy") {
  TEST_CASE("the policy gives [B, 2, act]: the MLP's mean, then the shared log std") {
    Generator gen(1);
    GaussianPolicy policy = nav_policy(gen);
    CHECK(policy.obs_dim() == 2);
    CHECK(policy.action_dim() == 2);
    CHECK(parameter_names(policy) == std::vector<std::string>{"log_std", "mean.0.weight", "mean.0.bias",
                                                              "mean.2.weight", "mean.2.bias", "mean.4.weight",
                                                              "mean.4.bias"});
    CHECK(policy.num_parameters() == 2 + (2 * 100 + 100) + (100 * 100 + 100) + (100 * 2 + 2));
    const Tensor s = randn({5, 2}, gen);
    const Tensor d = policy.forward(s);
    REQUIRE(d.shape() == Shape{5, 2, 2});
    const std::vector<double> v = d.to_vector<double>();
    for (int b = 0; b < 5; ++b) CHECK(v[static_cast<std::size_t>(b * 4 + 2)] == 0.0);  // log σ = 0
    // The functional forward: log_std + 0.5 everywhere moves row 1 by 0.5.
    std::vector<Tensor> shifted = policy.parameters();
    shifted[0] = shifted[0].detach() + 0.5;
    const std::vector<double> w = policy.forward(s, shifted).to_vector<double>();
    CHECK(w[3] == doctest::Approx(0.5));
    CHECK(w[0] == v[0]);
  }

  TEST_CASE("log-probability and KL match their closed forms") {
    const Tensor p = dist_of({0.1, -0.2, 0.3, 0.0}, {0.0, -0.5, 0.2, 0.1}, 2, 2).to(DType::F64);
    const Tensor a = from_vector(std::vector<double>{0.4, 0.1, -0.3, 0.2}, Shape{2, 2});
    const std::vector<double> lp = gaussian_log_prob(p, a).to_vector<double>();
    const auto normal = [](double x, double mu, double ls) {
      const double z = (x - mu) / std::exp(ls);
      return -0.5 * z * z - ls - 0.5 * std::log(2.0 * std::numbers::pi);
    };
    REQUIRE(lp.size() == 2);
    CHECK(lp[0] == doctest::Approx(normal(0.4, 0.1, 0.0) + normal(0.1, -0.2, -0.5)).epsilon(1e-12));
    CHECK(lp[1] == doctest::Approx(normal(-0.3, 0.3, 0.2) + normal(0.2, 0.0, 0.1)).epsilon(1e-12));

    const Tensor q = dist_of({0.0, 0.0, 0.3, 0.5}, {0.3, 0.0, 0.2, -0.4}, 2, 2).to(DType::F64);
    const auto kl1 = [](double mp, double lsp, double mq, double lsq) {
      const double sp = std::exp(lsp), sq = std::exp(lsq);
      return std::log(sq / sp) + (sp * sp + (mp - mq) * (mp - mq)) / (2 * sq * sq) - 0.5;
    };
    const std::vector<double> kl = gaussian_kl(p, q).to_vector<double>();
    CHECK(kl[0] == doctest::Approx(kl1(0.1, 0.0, 0.0, 0.3) + kl1(-0.2, -0.5, 0.0, 0.0)).epsilon(1e-12));
    CHECK(kl[1] == doctest::Approx(kl1(0.3, 0.2, 0.3, 0.2) + kl1(0.0, 0.1, 0.5, -0.4)).epsilon(1e-12));
    for (double k : gaussian_kl(p, p).to_vector<double>()) CHECK(std::fabs(k) < 1e-15);
  }

  TEST_CASE("samples have the distribution's mean and spread, and no gradient") {
    Generator gen(2);
    const std::int64_t n = 20000;
    std::vector<double> mean, ls;
    for (std::int64_t i = 0; i < n; ++i) {
      mean.insert(mean.end(), {1.0, -2.0});
      ls.insert(ls.end(), {0.0, std::log(0.5)});
    }
    const Tensor d = dist_of(mean, ls, n, 2).requires_grad_();
    const Tensor a = gaussian_sample(d, gen);
    CHECK_FALSE(a.requires_grad());
    REQUIRE(a.shape() == Shape{n, 2});
    const std::vector<double> v = a.to_vector<double>();
    double m0 = 0, m1 = 0, s0 = 0, s1 = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      m0 += v[static_cast<std::size_t>(2 * i)] / n;
      m1 += v[static_cast<std::size_t>(2 * i + 1)] / n;
    }
    for (std::int64_t i = 0; i < n; ++i) {
      s0 += std::pow(v[static_cast<std::size_t>(2 * i)] - m0, 2) / n;
      s1 += std::pow(v[static_cast<std::size_t>(2 * i + 1)] - m1, 2) / n;
    }
    CHECK(m0 == doctest::Approx(1.0).epsilon(0.02));
    CHECK(m1 == doctest::Approx(-2.0).epsilon(0.01));
    CHECK(std::sqrt(s0) == doctest::Approx(1.0).epsilon(0.03));
    CHECK(std::sqrt(s1) == doctest::Approx(0.5).epsilon(0.03));
    Generator again(2);
    CHECK(gaussian_sample(d, again).to_vector<double>() == v);
  }

  TEST_CASE("gradcheck and gradgradcheck of the log-probability and the KL, and through the policy") {
    Generator gen(3);
    const Tensor p = (randn({3, 2, 2}, gen, DType::F64) * 0.5).requires_grad_();
    const Tensor q = (randn({3, 2, 2}, gen, DType::F64) * 0.5).requires_grad_();
    const Tensor a = randn({3, 2}, gen, DType::F64);
    const auto logp = [&](const std::vector<Tensor>& in) { return gaussian_log_prob(in[0], a); };
    const auto kl = [&](const std::vector<Tensor>& in) { return gaussian_kl(in[0], in[1]); };
    for (const auto& [f, inputs] : {std::pair{CheckedFunction(logp), std::vector<Tensor>{p}},
                                    std::pair{CheckedFunction(kl), std::vector<Tensor>{p, q}}}) {
      const CheckResult r1 = gradcheck(f, inputs);
      CHECK_MESSAGE(r1.ok, r1.message);
      const CheckResult r2 = gradgradcheck(f, inputs);
      CHECK_MESSAGE(r2.ok, r2.message);
    }
    // Through a small policy, with respect to its parameters (the meta-gradient's path).
    GaussianPolicy policy(2, 2, {4}, gen, -0.3);
    policy.to(DType::F64);
    const Tensor s = randn({3, 2}, gen, DType::F64);
    const auto through = [&](const std::vector<Tensor>& params) { return gaussian_log_prob(policy.forward(s, params), a); };
    const CheckResult r3 = gradgradcheck(through, policy.parameters());
    CHECK_MESSAGE(r3.ok, r3.message);
  }

  TEST_CASE("bad sizes and shapes are refused with a reason") {
    Generator gen(4);
    CHECK_THROWS_WITH_AS(GaussianPolicy(0, 2, {}, gen),
                         "GaussianPolicy: observation and action sizes must be >= 1, got 0 and 2", ValueError);
    CHECK_THROWS_WITH_AS(GaussianPolicy(2, 2, {3, 0}, gen), "GaussianPolicy: hidden widths must be >= 1, got 0",
                         ValueError);
    GaussianPolicy policy(2, 1, {}, gen);
    CHECK(policy.forward(zeros({4, 2})).shape() == Shape{4, 2, 1});
    CHECK_THROWS_WITH_AS(policy.forward(zeros({4, 3})), "GaussianPolicy: states must be [B, 2], got [4, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(gaussian_log_prob(zeros({4, 3, 1}), zeros({4, 1})),
                         "gaussian_log_prob: a distribution must be [..., 2, act] (mean, log std), got [4, 3, 1]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(gaussian_sample(zeros({2}), gen),
                         "gaussian_sample: a distribution must be [..., 2, act] (mean, log std), got [2]", ShapeError);
    CHECK_THROWS_WITH_AS(gaussian_log_prob(zeros({4, 2, 1}), zeros({4, 2})),
                         "gaussian_log_prob: actions must be [4, 1] for a distribution [4, 2, 1], got [4, 2]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(gaussian_kl(zeros({4, 2, 1}), zeros({3, 2, 1})),
                         "gaussian_kl: the distributions differ in shape: [4, 2, 1] and [3, 2, 1]", ShapeError);
  }
}
