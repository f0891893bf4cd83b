#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/tape.h"
#include "meta/anil.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace anil_test {

AnilOptions small_options(int steps, bool first_order = false, int threads = 1, int stacks = 2) {
  AnilOptions o;
  o.inner_lr = 0.3;
  o.outer_lr = 0.01;
  o.inner_steps = steps;
  o.first_order = first_order;
  o.meta_batch = 2;
  o.threads = threads;
  o.task_stacks = stacks;
  return o;
}

// J(θ) = mean_i L_q(θ_body, θ'_head,i), the head adapted by plain detached SGD steps.
double objective_value(nn::Sequential& model, const BodyHead& split, const std::vector<data::Task>& tasks, int steps) {
  double total = 0;
  for (const data::Task& t : tasks) {
    TapeScope scope;
    const Objective objective = regression();  // the group keeps a reference
    const TaskGroup group(model, objective, std::span(&t, 1), false);
    const std::vector<Tensor> theta_i =
        anil_adapt(group, split, thread_aliases(model.parameters()), 0.3, steps, AdaptMode::Detached);
    NoGradGuard off;
    total += group.query_loss(group.predict_query(theta_i)).item();
  }
  return total / static_cast<double>(tasks.size());
}

}  // namespace anil_test

TEST_SUITE("anil") {
  TEST_CASE("the body is the model minus its last layer with parameters") {
    nn::Sequential model = test::tiny_mlp(20);  // Linear(1, 4), Tanh, Linear(4, 1)
    const BodyHead split = split_body_head(model, "anil");
    CHECK(split.head_layer == 2);
    CHECK(split.body_params == 2);
    nn::Sequential empty;
    CHECK_THROWS_WITH_AS(split_body_head(empty, "anil"),
                         doctest::Contains("anil: the model has no layer with parameters to be its head"), ValueError);
    const Tensor x = test::sine_tasks(1)[0].support_x;
    const Tensor h = embed(model, split, x, model.parameters());
    CHECK(h.shape() == Shape({x.size(0), 4}));
    const std::vector<Tensor> theta = model.parameters();
    CHECK_THROWS_WITH_AS(embed(model, split, x, std::span(theta).first(1)),
                         doctest::Contains("embed: 1 tensors for a body of 2 parameters"), ValueError);
  }

  TEST_CASE("the inner loop leaves the body's tensors as they are and moves the head") {
    nn::Sequential model = test::tiny_mlp(21);
    const BodyHead split = split_body_head(model, "anil");
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    for (const AdaptMode mode : {AdaptMode::SecondOrder, AdaptMode::FirstOrder, AdaptMode::Detached}) {
      TapeScope scope;
      const Objective objective = regression();
      const TaskGroup group(model, objective, tasks, true);
      const std::vector<Tensor> theta = group.start(thread_aliases(model.parameters()));
      const std::vector<Tensor> theta_i = anil_adapt(group, split, theta, 0.3, 2, mode);
      REQUIRE(theta_i.size() == theta.size());
      for (std::size_t j = 0; j < split.body_params; ++j) CHECK(theta_i[j].raw_data() == theta[j].raw_data());
      for (std::size_t j = split.body_params; j < theta.size(); ++j)
        CHECK_FALSE(test::bit_identical({theta_i[j]}, {theta[j]}));
    }
  }

  TEST_CASE("second-order meta-gradient (body through the head's steps) matches finite differences, k = 1, 2") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    for (int k = 1; k <= 2; ++k) {
      CAPTURE(k);
      nn::Sequential model = test::tiny_mlp(22);
      const Anil anil(model, regression(), anil_test::small_options(k));
      const std::vector<Tensor> g = anil.meta_gradient(tasks);
      const test::FdComparison fd = test::compare_with_central_differences(
          model.parameters(), g, [&] { return anil_test::objective_value(model, anil.split(), tasks, k); });
      CHECK(fd.worst < 1e-5);
      CHECK(fd.largest[0] > 1e-3);  // the body's part is not vacuous
    }
  }

  TEST_CASE("first order: the body gets the direct gradient of the query loss at the adapted head only") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    nn::Sequential model = test::tiny_mlp(23);
    const Anil fo(model, regression(), anil_test::small_options(1, true));
    const Anil so(model, regression(), anil_test::small_options(1, false));
    const std::vector<Tensor> g_fo = fo.meta_gradient(tasks), g_so = so.meta_gradient(tasks);
    // ∂_body L_q(θ_body, θ'_head) with θ'_head a constant.
    TapeScope scope;
    const Objective objective = regression();
    const TaskGroup group(model, objective, std::span(tasks), false);
    std::vector<Tensor> theta_i =
        anil_adapt(group, fo.split(), thread_aliases(model.parameters()), 0.3, 1, AdaptMode::Detached);
    const std::vector<Tensor> direct = grad({group.query_loss(group.predict_query(theta_i))}, theta_i);
    double diff_so = 0;
    for (std::size_t j = 0; j < model.parameters().size(); ++j)
      for (std::int64_t e = 0; e < direct[j].numel(); ++e) {
        CHECK(g_fo[j].data<double>()[e] == doctest::Approx(direct[j].data<double>()[e]).epsilon(1e-12));
        if (j < fo.split().body_params)
          diff_so = std::max(diff_so, std::abs(g_fo[j].data<double>()[e] - g_so[j].data<double>()[e]));
      }
    CHECK(diff_so > 1e-6);  // second order adds the term through the head's step
  }

  TEST_CASE("results are bit-identical for 1 and 2 worker threads, with and without task stacks") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const int stacks : {0, 2}) {
      CAPTURE(stacks);
      nn::Sequential one = test::tiny_mlp(24), two = test::tiny_mlp(24);
      AnilOptions o1 = anil_test::small_options(2, false, 1, stacks),
                  o2 = anil_test::small_options(2, false, 2, stacks);
      o1.meta_batch = o2.meta_batch = 4;
      Anil a1(one, regression(), o1), a2(two, regression(), o2);
      for (int it = 0; it < 3; ++it) {
        a1.step(tasks, it);
        a2.step(tasks, it);
      }
      CHECK(test::bit_identical(one.parameters(), two.parameters()));
      CHECK(a1.name() == "anil");
      CHECK(a1.optimizer() != nullptr);
    }
  }

  TEST_CASE("at test time only the head adapts") {
    nn::Sequential model = test::tiny_mlp(25);
    const Anil anil(model, regression(), anil_test::small_options(1));
    const data::Task task = test::sine_tasks(1)[0];
    Adaptation adapted(model.parameters(), anil.test_inner_lr());
    adapted.run(
        [&](std::span<const Tensor> t) { return regression().loss(model.forward(task.support_x, t), task.support_y); },
        3);
    const std::vector<Tensor> theta = model.parameters();
    CHECK(test::bit_identical({adapted.weights()[0], adapted.weights()[1]}, {theta[0], theta[1]}));
    CHECK_FALSE(test::bit_identical({adapted.weights()[2]}, {theta[2]}));
    const data::SinusoidTasks sines{data::SinusoidConfig{}};
    const EvalResult r = anil.test(test::F64Tasks(sines), {.num_tasks = 4, .inner_steps = 2});
    CHECK(r.metric.size() == 2);
  }

  TEST_CASE("bad settings are refused") {
    nn::Sequential model = test::tiny_mlp(26);
    CHECK_THROWS_WITH_AS(Anil(model, regression(), anil_test::small_options(-1)),
                         doctest::Contains("anil: inner_steps must be >= 0, got -1"), ValueError);
    CHECK_THROWS_WITH_AS(Anil(model, regression(), anil_test::small_options(1, false, 1, -1)),
                         doctest::Contains("anil: task_stacks must be >= 0, got -1"), ValueError);
    AnilOptions o = anil_test::small_options(1);
    o.inner_lr = -1;
    CHECK_THROWS_WITH_AS(Anil(model, regression(), o),
                         doctest::Contains("anil: inner_lr must be finite and >= 0, got -1"), ValueError);
    nn::Sequential empty;
    CHECK_THROWS_WITH_AS(Anil(empty, regression(), anil_test::small_options(1)),
                         doctest::Contains("anil: the model has no layer with parameters to be its head"), ValueError);
  }
}
