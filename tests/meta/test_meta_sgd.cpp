#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/meta_sgd.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace meta_sgd_test {

MetaSgdOptions small_options(int steps, int threads = 1, int stacks = 2) {
  MetaSgdOptions o;
  o.inner_lr = 0.1;
  o.outer_lr = 0.01;
  o.inner_steps = steps;
  o.meta_batch = 2;
  o.threads = threads;
  o.task_stacks = stacks;
  return o;
}

// J(θ, α) = mean_i L_q(θ'_i), θ'_i = k steps θ ← θ − α ∘ ∇L_s(θ), without the tape's help.
double objective_value(nn::Module& model, const std::vector<Tensor>& theta, const std::vector<Tensor>& alpha,
                       const std::vector<data::Task>& tasks, int steps) {
  double total = 0;
  for (const data::Task& t : tasks) {
    TapeScope scope;
    const std::vector<Tensor> theta_i = adapt(model, regression().loss, thread_aliases(theta), t.support_x, t.support_y,
                                              {0.0, alpha}, steps, AdaptMode::Detached);
    NoGradGuard off;
    total += regression().loss(model.forward(t.query_x, theta_i), t.query_y).item();
  }
  return total / static_cast<double>(tasks.size());
}

std::vector<Tensor> alphas(const MetaSgd& learner) {
  std::vector<Tensor> out;
  for (const nn::NamedTensor& a : learner.extra_parameters()) out.push_back(a.tensor);
  return out;
}

}  // namespace meta_sgd_test

TEST_SUITE("meta_sgd") {
  TEST_CASE("the meta-gradient in θ and in every element of α matches central finite differences, k = 1, 2") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    for (int k = 1; k <= 2; ++k) {
      CAPTURE(k);
      nn::Sequential model = test::tiny_mlp(11);
      const MetaSgd learner(model, regression(), meta_sgd_test::small_options(k));
      // Distinct rates per element, so that a rate shared by a tensor would give other numbers.
      Generator gen(5);
      std::vector<Tensor> alpha = meta_sgd_test::alphas(learner);
      for (Tensor& a : alpha) {
        const Tensor r = uniform(a.shape(), 0.05, 0.2, gen, DType::F64);
        std::copy_n(r.data<double>(), r.numel(), a.mutable_data<double>());
      }
      const std::vector<Tensor> g = learner.meta_gradient(tasks);
      std::vector<Tensor> all = model.parameters();
      all.insert(all.end(), alpha.begin(), alpha.end());
      REQUIRE(g.size() == all.size());
      const test::FdComparison fd = test::compare_with_central_differences(
          all, g, [&] { return meta_sgd_test::objective_value(model, model.parameters(), alpha, tasks, k); });
      CHECK(fd.worst < 1e-5);
      CHECK(*std::max_element(fd.largest.begin() + 4, fd.largest.end()) > 1e-3);  // the α part is not vacuous
    }
  }

  TEST_CASE("α is one rate per element: after a few steps the elements of a tensor differ") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(12);
    MetaSgd learner(model, regression(), meta_sgd_test::small_options(1));
    CHECK(learner.outer_parameters().size() == 2 * model.parameters().size());
    const std::vector<nn::NamedTensor> alpha = learner.extra_parameters();
    CHECK(alpha[0].name == "alpha.0.weight");
    CHECK(alpha[3].name == "alpha.2.bias");
    for (std::size_t j = 0; j < alpha.size(); ++j) CHECK(alpha[j].tensor.shape() == model.parameters()[j].shape());
    for (int it = 0; it < 3; ++it) learner.step(tasks, it);
    const Tensor& a0 = alpha[0].tensor;  // 0.weight, [4, 1]
    const auto [lo, hi] = std::minmax_element(a0.data<double>(), a0.data<double>() + a0.numel());
    CHECK(*hi - *lo > 1e-4);
    CHECK(*lo != 0.1);
    // The test-time rule is SGD with these very tensors.
    const InnerLrSetting rule = learner.test_inner_lr();
    REQUIRE(rule.per_tensor.size() == alpha.size());
    CHECK(rule.per_tensor[0].raw_data() == a0.raw_data());
    CHECK(rule.optimizer == InnerOptimizer::Sgd);
    CHECK(learner.name() == "metasgd");
    CHECK(learner.options().inner_steps == 1);
    CHECK(learner.optimizer() != nullptr);
  }

  TEST_CASE("the learned α is what adapts at test time") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    nn::Sequential model = test::tiny_mlp(13);
    const MetaSgd learner(model, regression(), meta_sgd_test::small_options(1));
    Tensor a = learner.extra_parameters()[2].tensor;  // 2.weight
    std::fill_n(a.mutable_data<double>(), a.numel(), 0.0);
    Adaptation adapted(model.parameters(), learner.test_inner_lr());
    adapted.run(
        [&](std::span<const Tensor> t) {
          return regression().loss(model.forward(tasks[0].support_x, t), tasks[0].support_y);
        },
        1);
    CHECK(test::bit_identical({adapted.weights()[2]}, {model.parameters()[2]}));  // α = 0 there
    CHECK_FALSE(test::bit_identical({adapted.weights()[0]}, {model.parameters()[0]}));
  }

  TEST_CASE("results are bit-identical for 1 and 2 worker threads, with and without task stacks") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const int stacks : {0, 2}) {
      CAPTURE(stacks);
      nn::Sequential one = test::tiny_mlp(14), two = test::tiny_mlp(14);
      MetaSgdOptions o1 = meta_sgd_test::small_options(2, 1, stacks), o2 = meta_sgd_test::small_options(2, 2, stacks);
      o1.meta_batch = o2.meta_batch = 4;
      MetaSgd m1(one, regression(), o1), m2(two, regression(), o2);
      for (int it = 0; it < 3; ++it) {
        m1.step(tasks, it);
        m2.step(tasks, it);
      }
      CHECK(test::bit_identical(m1.outer_parameters(), m2.outer_parameters()));
    }
  }

  TEST_CASE("bad settings are refused") {
    nn::Sequential model = test::tiny_mlp(15);
    MetaSgdOptions o = meta_sgd_test::small_options(-1);
    CHECK_THROWS_WITH_AS(MetaSgd(model, regression(), o),
                         doctest::Contains("metasgd: inner_steps must be >= 0, got -1"), ValueError);
    o = meta_sgd_test::small_options(1, 1, -1);
    CHECK_THROWS_WITH_AS(MetaSgd(model, regression(), o),
                         doctest::Contains("metasgd: task_stacks must be >= 0, got -1"), ValueError);
    o = meta_sgd_test::small_options(1);
    o.inner_lr = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(MetaSgd(model, regression(), o),
                         doctest::Contains("metasgd: inner_lr must be finite, got nan"), ValueError);
  }
}
