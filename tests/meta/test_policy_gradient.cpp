// The policy-gradient pieces (meta/policy_gradient.h) against hand computations: returns,
// the baseline's features and fit, advantages, the REINFORCE surrogate's gradient, and
// every error.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "datasets/navigation.h"
#include "meta/policy_gradient.h"
#include "nn/gaussian_policy.h"

using namespace mg;
using namespace mg::meta;

namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return from_vector(v, s); }

}  // namespace

TEST_SUITE("policy_gradient") {
  TEST_CASE("discounted returns run backwards within each trajectory and stop at its end") {
    const Tensor r = f64({1, 2, 3, 1, 1, 9}, {2, 3});
    const Tensor m = f64({1, 1, 1, 1, 1, 0}, {2, 3});
    CHECK(discounted_returns(r, m, 0.5).to_vector<double>() == std::vector<double>{2.75, 3.5, 3, 1.5, 1, 0});
    CHECK(discounted_returns(r, m, 0.0).to_vector<double>() == std::vector<double>{1, 2, 3, 1, 1, 0});
    CHECK(discounted_returns(r.to(DType::F32), m.to(DType::F32), 1.0).dtype() == DType::F32);
  }

  TEST_CASE("features: the clipped observation, its square, powers of t/100 and 1") {
    const Tensor obs = f64({0.5, -20.0, 0.1, 0.2}, {1, 2, 2});
    const std::vector<double> phi = baseline_features(obs).to_vector<double>();
    REQUIRE(phi.size() == 16);
    const std::vector<double> first{0.5, -10.0, 0.25, 100.0, 0.0, 0.0, 0.0, 1.0};
    CHECK(std::vector<double>(phi.begin(), phi.begin() + 8) == first);
    CHECK(phi[8 + 4] == doctest::Approx(0.01));
    CHECK(phi[8 + 6] == doctest::Approx(1e-6));
  }

  TEST_CASE("the baseline fit recovers a linear target and ignores masked-out steps") {
    // Returns exactly w · φ on the masked steps, garbage elsewhere.
    const std::int64_t b = 3, t = 7;
    std::vector<double> obs;
    for (std::int64_t i = 0; i < b * t; ++i) obs.insert(obs.end(), {0.1 * static_cast<double>(i % 5) - 0.2, 0.03 * static_cast<double>(i)});
    const Tensor phi = baseline_features(f64(obs, {b, t, 2}));
    const std::vector<double> w_true{0.5, -1.0, 2.0, 0.3, -4.0, 1.5, 0.7, -0.25};
    std::vector<double> m(static_cast<std::size_t>(b * t), 1.0);
    m[20] = m[19] = 0.0;
    const Tensor mask = f64(m, {b, t});
    const Tensor exact = baseline_values(phi, w_true, mask);
    std::vector<double> g = exact.to_vector<double>();
    g[20] = 1e6;
    g[19] = -3e5;
    const std::vector<double> w = fit_baseline(phi, f64(g, {b, t}), mask, 1e-12);
    const std::vector<double> refit = baseline_values(phi, w, mask).to_vector<double>();
    const std::vector<double> want = exact.to_vector<double>();
    for (std::size_t s = 0; s < want.size(); ++s) CHECK(refit[s] == doctest::Approx(want[s]).epsilon(1e-6));
    CHECK(refit[20] == 0.0);  // masked out: no value
  }

  TEST_CASE("advantages: returns minus the baseline, centred and scaled over the steps that happened") {
    const Tensor g = f64({3, 1, 2, 7}, {2, 2}), base = f64({1, 1, 0, 5}, {2, 2}), m = f64({1, 1, 1, 0}, {2, 2});
    CHECK(advantages(g, base, m, false).to_vector<double>() == std::vector<double>{2, 0, 2, 0});
    const std::vector<double> a = advantages(g, base, m).to_vector<double>();
    // Raw 2, 0, 2: mean 4/3, standard deviation sqrt(8/9).
    CHECK(a[0] == doctest::Approx((2 - 4.0 / 3) / std::sqrt(8.0 / 9)));
    CHECK(a[1] == doctest::Approx((0 - 4.0 / 3) / std::sqrt(8.0 / 9)));
    CHECK(a[3] == 0.0);
  }

  TEST_CASE("the REINFORCE surrogate's gradient is minus the mean of mask · advantage · ∇log π") {
    const Tensor lp = f64({-1.0, -2.0, 0.5, -0.3}, {2, 2}).requires_grad_();
    const Tensor a = f64({2.0, -1.0, 0.5, 4.0}, {2, 2}), m = f64({1, 1, 1, 0}, {2, 2});
    const Tensor loss = reinforce_loss(lp, a, m);
    CHECK(loss.item() == doctest::Approx(-(-2.0 + 2.0 + 0.25) / 3.0));
    const Tensor g = grad({loss}, {lp})[0];
    const std::vector<double> want{-2.0 / 3, 1.0 / 3, -0.5 / 3, 0.0};
    const std::vector<double> got = g.to_vector<double>();
    for (std::size_t i = 0; i < 4; ++i) CHECK(got[i] == doctest::Approx(want[i]));
  }

  TEST_CASE("one policy-gradient step with the fitted baseline raises the return on navigation tasks") {
    // The inner step of MAML-RL (issue 18): 20 trajectories per task, rate 0.1, from a
    // fresh nav_policy; the return of new trajectories after the step is higher.
    Generator gen(5);
    nn::GaussianPolicy policy = nn::nav_policy(gen);
    const data::NavTasks tasks({.seed = 9});
    double before = 0.0, after = 0.0;
    for (std::uint64_t task = 0; task < 4; ++task) {
      const auto run = [&](const std::vector<Tensor>& theta) {
        data::NavBatch env(tasks.config(), tasks.goal(task), 20);
        return data::rollout(env, [&](const Tensor& p) { return nn::gaussian_sample(policy.forward(p, theta), gen); });
      };
      const std::vector<Tensor> theta = policy.parameters();
      const data::NavRollout r = run(theta);
      const std::int64_t b = r.rewards.shape()[0], t = r.rewards.shape()[1];
      const Tensor returns = discounted_returns(r.rewards, r.mask, 0.99);
      const Tensor phi = baseline_features(r.observations);
      const Tensor adv = advantages(returns, baseline_values(phi, fit_baseline(phi, returns, r.mask), r.mask), r.mask);
      const Tensor dist = reshape(policy.forward(reshape(r.observations, {b * t, 2}), theta), {b, t, 2, 2});
      const Tensor loss = reinforce_loss(nn::gaussian_log_prob(dist, r.actions), adv, r.mask);
      const std::vector<Tensor> g = grad({loss}, theta);
      std::vector<Tensor> adapted;
      for (std::size_t j = 0; j < theta.size(); ++j) adapted.push_back((theta[j] - g[j] * 0.1).detach());
      before += sum(r.rewards).item() / static_cast<double>(b);
      const data::NavRollout r2 = run(adapted);
      after += sum(r2.rewards).item() / static_cast<double>(b);
    }
    MESSAGE("mean return per task: before ", before / 4, ", after one step ", after / 4);
    CHECK(after > before);
  }

  TEST_CASE("bad shapes, discounts and empty masks are refused with a reason") {
    const Tensor x = zeros({2, 3}, DType::F64), ones_mask = ones({2, 3}, DType::F64);
    CHECK_THROWS_WITH_AS(discounted_returns(x, ones({2, 2}, DType::F64), 0.9),
                         "discounted_returns: rewards and mask must have one shape, got [2, 3] and [2, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(discounted_returns(zeros({6}), zeros({6}), 0.9),
                         "discounted_returns: expected [B, T] per-step values, got [6]", ShapeError);
    CHECK_THROWS_WITH_AS(discounted_returns(x, ones_mask, 1.5),
                         "discounted_returns: the discount must be in [0, 1], got 1.5", ValueError);
    CHECK_THROWS_WITH_AS(baseline_features(x), "baseline_features: observations must be [B, T, obs], got [2, 3]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(fit_baseline(zeros({2, 4, 8}), x, ones_mask),
                         "fit_baseline: features must be [B, T, F] for returns [2, 3], got [2, 4, 8]", ShapeError);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(fit_baseline(full({2, 3, 1}, nan, DType::F64), x, ones_mask),
                         "fit_baseline: no finite solution up to ridge 0.1 (features or returns not finite?)",
                         ValueError);
    CHECK_THROWS_WITH_AS(baseline_values(zeros({2, 3, 4}), {1.0, 2.0}, ones_mask),
                         "baseline_values: features must be [B, T, 2], got [2, 3, 4]", ShapeError);
    CHECK_THROWS_WITH_AS(baseline_values(zeros({2, 3, 2}), {1.0, 2.0}, zeros({3, 2})),
                         "baseline_values: mask must be [2, 3], got [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(advantages(x, x, zeros({2, 3}, DType::F64)), "advantages: no step is masked in", ValueError);
    CHECK_THROWS_WITH_AS(advantages(x, zeros({3, 2}), ones_mask),
                         "advantages: returns and baseline must have one shape, got [2, 3] and [3, 2]", ShapeError);
    CHECK_THROWS_WITH_AS(reinforce_loss(x, x, zeros({2, 3}, DType::F64)), "reinforce_loss: no step is masked in",
                         ValueError);
    CHECK_THROWS_WITH_AS(reinforce_loss(x, zeros({2, 2}), ones_mask),
                         "reinforce_loss: log_prob and advantage must have one shape, got [2, 3] and [2, 2]",
                         ShapeError);
  }
}
