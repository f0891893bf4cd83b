// MAML's inner loop on navigation tasks (meta/policy_adapt.h): the second-order
// meta-gradient through a policy-gradient step against central differences, in float64
// on a tiny policy with the sampled trajectories held fixed; first order against its
// definition.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "datasets/navigation.h"
#include "meta/policy_adapt.h"
#include "nn/gaussian_policy.h"

using namespace mg;
using namespace mg::meta;

namespace {

std::vector<Tensor> detached(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) out.push_back(t.detach());
  return out;
}

// A small fixture: a 2-3-2 float64 policy, one goal, four 6-move trajectories before
// and after one inner step.
struct Fixture {
  Generator gen{21};
  nn::GaussianPolicy policy{2, 2, {3}, gen, -0.5};
  data::NavConfig config{.horizon = 6};
  data::NavGoal goal{0.3, -0.2};
  PolicyGradientOptions options{};
  data::NavRollout pre, post;

  Fixture() {
    policy.to(DType::F64);
    pre = sample(policy.parameters());
    post = sample(detached(policy_adapt(policy, policy.parameters(), pre, options, 0.1, AdaptMode::Detached)));
  }
  data::NavRollout sample(const std::vector<Tensor>& theta) {
    data::NavBatch env(config, goal, 4);
    return data::rollout(
        env, [&](const Tensor& p) { return nn::gaussian_sample(policy.forward(p, theta), gen); }, DType::F64);
  }
  // The meta-objective S(θ) = L_τ'(θ'(θ)) with τ, τ' fixed.
  Tensor meta_objective(const std::vector<Tensor>& theta, AdaptMode mode) {
    const std::vector<Tensor> adapted = policy_adapt(policy, theta, pre, options, 0.1, mode);
    return policy_surrogate(policy, adapted, post, options);
  }
};

}  // namespace

TEST_SUITE("policy_adapt") {
  TEST_CASE("the second-order meta-gradient through a policy-gradient step matches central differences") {
    Fixture f;
    const std::vector<Tensor> theta = f.policy.parameters();
    const std::vector<Tensor> g = grad({f.meta_objective(theta, AdaptMode::SecondOrder)}, theta);
    const double eps = 1e-6;
    double largest = 0.0;
    for (std::size_t j = 0; j < theta.size(); ++j) {
      const std::vector<double> analytic = g[j].to_vector<double>();
      for (std::int64_t i = 0; i < theta[j].numel(); ++i) {
        std::vector<Tensor> plus = detached(theta), minus = detached(theta);
        plus[j] = plus[j].clone();
        minus[j] = minus[j].clone();
        plus[j].mutable_data<double>()[i] += eps;
        minus[j].mutable_data<double>()[i] -= eps;
        const double numeric = (f.meta_objective(plus, AdaptMode::Detached).item() -
                                f.meta_objective(minus, AdaptMode::Detached).item()) /
                               (2 * eps);
        INFO("parameter ", j, " element ", i);
        CHECK(analytic[static_cast<std::size_t>(i)] == doctest::Approx(numeric).epsilon(1e-5).scale(1e-3));
        largest = std::max(largest, std::fabs(numeric));
      }
    }
    CHECK(largest > 1e-3);  // the check compared gradients that are not all 0
  }

  TEST_CASE("first order drops the step's curvature: the gradient of L_τ' at θ'") {
    Fixture f;
    const std::vector<Tensor> theta = f.policy.parameters();
    const std::vector<Tensor> first = grad({f.meta_objective(theta, AdaptMode::FirstOrder)}, theta);
    std::vector<Tensor> at = detached(policy_adapt(f.policy, theta, f.pre, f.options, 0.1, AdaptMode::Detached));
    for (Tensor& t : at) t.requires_grad_();
    const std::vector<Tensor> direct = grad({policy_surrogate(f.policy, at, f.post, f.options)}, at);
    const std::vector<Tensor> second = grad({f.meta_objective(theta, AdaptMode::SecondOrder)}, theta);
    double differs = 0.0;
    for (std::size_t j = 0; j < theta.size(); ++j) {
      const std::vector<double> a = first[j].to_vector<double>(), b = direct[j].to_vector<double>(),
                                c = second[j].to_vector<double>();
      for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-12));
        differs = std::max(differs, std::fabs(a[i] - c[i]));
      }
    }
    CHECK(differs > 1e-6);  // the curvature term is there in the second-order gradient
  }
}
