#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/sinusoid.h"
#include "meta/maml.h"
#include "meta/maml_pp.h"
#include "nn/activations.h"
#include "nn/batchnorm.h"
#include "nn/linear.h"
#include "tests/meta/meta_fixtures.h"
#include "tests/meta/rank_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace maml_pp_test {

// 1 -> 4 -> BN -> tanh -> 1 in float64: θ = {0.weight, 0.bias, 1.weight (γ), 1.bias (β), 3.weight, 3.bias}.
nn::Sequential bn_mlp(std::uint64_t seed) {
  Generator gen(seed);
  nn::Sequential net;
  net.emplace<nn::Linear>(1, 4, gen, true, DType::F64)
      .emplace<nn::BatchNorm2d>(4, nn::BatchNormOptions{}, DType::F64)
      .emplace<nn::Tanh>()
      .emplace<nn::Linear>(4, 1, gen, true, DType::F64);
  return net;
}

MamlPlusPlusOptions small_options(int steps, int threads = 1, int stacks = 2) {
  MamlPlusPlusOptions o;
  o.inner_lr = 0.1;
  o.outer_lr = 0.01;
  o.inner_steps = steps;
  o.msl_iterations = 10;
  o.first_order_until = 0;
  o.iterations = 20;
  o.meta_batch = 2;
  o.threads = threads;
  o.task_stacks = stacks;
  return o;
}

// Fills every element of `tensors` with distinct draws from [lo, hi], so that a mixed-up
// step or tensor index shows in the numbers.
void scramble(const std::vector<Tensor>& tensors, double lo, double hi, std::uint64_t seed) {
  Generator gen(seed);
  for (Tensor t : tensors) {
    const Tensor r = uniform(t.shape(), lo, hi, gen, DType::F64);
    std::copy_n(r.data<double>(), r.numel(), t.mutable_data<double>());
  }
}

std::vector<Tensor> extras(const MamlPlusPlus& learner, const std::string& prefix) {
  std::vector<Tensor> out;
  for (const nn::NamedTensor& t : learner.extra_parameters())
    if (t.name.rfind(prefix, 0) == 0) out.push_back(t.tensor);
  return out;
}

// The paper's objective mean_i Σ_k v_k L_q(θ'_{k+1}; γ_k, β_k), written out without the
// learner: per-step BN tensors put in slots {2, 3} of θ, per-step rates α[k][a] on the other
// four tensors; detached inner steps (a value, differentiated by finite differences).
double objective_value(nn::Module& model, const std::vector<Tensor>& alpha, const std::vector<Tensor>& bn,
                       const std::vector<data::Task>& tasks, int steps, const std::vector<double>& v) {
  const std::vector<std::size_t> adapted = {0, 1, 4, 5};
  double total = 0;
  for (const data::Task& t : tasks) {
    std::vector<Tensor> w = thread_aliases(model.parameters());
    for (int k = 0; k < steps; ++k) {
      TapeScope scope;
      auto with_bn = [&](std::vector<Tensor> p) {
        p[2] = bn[static_cast<std::size_t>(2 * k)];
        p[3] = bn[static_cast<std::size_t>(2 * k + 1)];
        return p;
      };
      std::vector<Tensor> wrt;
      for (std::size_t j : adapted) wrt.push_back(w[j]);
      const std::vector<Tensor> g = grad({regression().loss(model.forward(t.support_x, with_bn(w)), t.support_y)}, wrt);
      NoGradGuard off;
      for (std::size_t a = 0; a < adapted.size(); ++a)
        w[adapted[a]] = (wrt[a] - g[a] * alpha[static_cast<std::size_t>(k) * 4 + a]).detach().requires_grad_();
      total += v[static_cast<std::size_t>(k)] *
               regression().loss(model.forward(t.query_x, with_bn(w)), t.query_y).item();
    }
  }
  return total / static_cast<double>(tasks.size());
}

}  // namespace maml_pp_test

TEST_SUITE("maml_pp") {
  TEST_CASE("MSL weights: uniform at iteration 0, annealed linearly, then the last step alone; they sum to 1") {
    CHECK(msl_weights(4, 0, 100) == std::vector<double>{0.25, 0.25, 0.25, 0.25});
    // Halfway: v_k = 1/4 − 0.5/4 = 0.125 for k < 3, v_3 = 1/4 + 0.5·3/4 = 0.625.
    const std::vector<double> half = msl_weights(4, 50, 100);
    for (int k = 0; k < 3; ++k) CHECK(half[static_cast<std::size_t>(k)] == doctest::Approx(0.125));
    CHECK(half[3] == doctest::Approx(0.625));
    // Near the end the non-final weights stop at 0.03 / S and the last at 1 − (S − 1)·0.03 / S.
    const std::vector<double> late = msl_weights(4, 99, 100);
    CHECK(late[0] == doctest::Approx(0.0075));
    CHECK(late[3] == doctest::Approx(1.0 - 3 * 0.0075));
    for (const std::int64_t e : {0, 13, 50, 97, 99}) {
      const std::vector<double> v = msl_weights(4, e, 100);
      CHECK(std::accumulate(v.begin(), v.end(), 0.0) == doctest::Approx(1.0));
    }
    CHECK(msl_weights(4, 100, 100) == std::vector<double>{0, 0, 0, 1});
    CHECK(msl_weights(1, 0, 100) == std::vector<double>{1});
    CHECK_THROWS_WITH_AS(msl_weights(0, 0, 1), "msl_weights: steps must be >= 1, got 0", ValueError);
    CHECK_THROWS_WITH_AS(msl_weights(2, -1, 1), "msl_weights: iteration must be >= 0, got -1", ValueError);
    CHECK_THROWS_WITH_AS(msl_weights(2, 0, 0), "msl_weights: anneal_iterations must be >= 1, got 0", ValueError);
  }

  TEST_CASE("batch_norm_slots finds the weight and bias of each BatchNorm2d") {
    nn::Sequential bn = maml_pp_test::bn_mlp(1);
    CHECK(batch_norm_slots(bn) == std::vector<std::size_t>{2, 3});
    nn::Sequential plain = test::tiny_mlp(1);
    CHECK(batch_norm_slots(plain).empty());
    nn::BatchNorm2d alone(3);
    CHECK(batch_norm_slots(alone) == std::vector<std::size_t>{0, 1});
  }

  TEST_CASE("the meta-gradient with MSL, LSLR and per-step BN matches central finite differences, S = 1, 2") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    for (int steps = 1; steps <= 2; ++steps) {
      CAPTURE(steps);
      nn::Sequential model = maml_pp_test::bn_mlp(21);
      const MamlPlusPlus learner(model, regression(), maml_pp_test::small_options(steps));
      const std::vector<Tensor> alpha = maml_pp_test::extras(learner, "lslr.");
      const std::vector<Tensor> bn = maml_pp_test::extras(learner, "bn.");
      REQUIRE(alpha.size() == static_cast<std::size_t>(4 * steps));
      REQUIRE(bn.size() == static_cast<std::size_t>(2 * steps));
      maml_pp_test::scramble(alpha, 0.05, 0.3, 7);
      maml_pp_test::scramble(bn, 0.5, 1.5, 8);
      const std::vector<Tensor> g = learner.meta_gradient(tasks);
      const std::vector<Tensor> all = learner.outer_parameters();
      REQUIRE(g.size() == all.size());
      const std::vector<double> v = msl_weights(steps, 0, 10);  // meta_gradient is iteration 0's
      const test::FdComparison fd = test::compare_with_central_differences(all, g, [&] {
        return maml_pp_test::objective_value(model, alpha, bn, tasks, steps, v);
      });
      CHECK(fd.worst < 1e-5);
      // Not vacuous: α and the per-step γ, β have gradients; the model's own γ, β are unused.
      // (The first layer's rate α_0 barely matters: BN right after it undoes a rescaled 1-input weight.)
      CHECK(*std::max_element(fd.largest.begin() + 6, fd.largest.begin() + 6 + 4 * steps) > 1e-3);
      CHECK(fd.largest.back() > 1e-3);
      CHECK(fd.largest[2] == 0.0);
      CHECK(test::bit_identical({g[2]}, {zeros_like(g[2])}));
    }
  }

  TEST_CASE("the switches: MSL off is the annealed end, DA gives fomaml's then maml's meta-gradient") {
    const std::vector<data::Task> tasks = test::sine_tasks(3);
    // All of MAML++ off but DA: the meta-gradient of MAML (second order) or FOMAML (first order).
    for (const bool first_order : {true, false}) {
      CAPTURE(first_order);
      nn::Sequential a = test::tiny_mlp(31), b = test::tiny_mlp(31);
      MamlPlusPlusOptions o = maml_pp_test::small_options(2);
      o.multi_step_loss = o.learn_inner_lr = o.per_step_bn = o.cosine_lr = false;
      o.first_order_until = first_order ? 1 : 0;  // iteration 0 is before or at the switch
      const MamlPlusPlus pp(a, regression(), o);
      MamlOptions m;
      m.inner_lr = 0.1;
      m.inner_steps = 2;
      m.first_order = first_order;
      m.meta_batch = 3;
      const Maml maml(b, regression(), m);
      const std::vector<Tensor> gp = pp.meta_gradient(tasks), gm = maml.meta_gradient(tasks);
      CHECK(test::bit_identical(gp, gm));
      CHECK(pp.second_order_at(0) == !first_order);
    }
    nn::Sequential model = test::tiny_mlp(32);
    MamlPlusPlusOptions o = maml_pp_test::small_options(2);
    o.first_order_until = 7;
    const MamlPlusPlus learner(model, regression(), o);
    CHECK_FALSE(learner.second_order_at(6));
    CHECK(learner.second_order_at(7));
    // The first-order and second-order meta-gradients differ on this model (not a vacuous switch).
    nn::Sequential m0 = test::tiny_mlp(32), m1 = test::tiny_mlp(32);
    o.first_order_until = 0;
    const MamlPlusPlus so(m0, regression(), o);
    o.first_order_until = 1;
    const MamlPlusPlus fo(m1, regression(), o);
    CHECK_FALSE(test::bit_identical(fo.meta_gradient(tasks), so.meta_gradient(tasks)));

    // MSL: a step at an iteration past the annealing equals a step of a learner without MSL;
    // a step at iteration 1 (weights near uniform) does not.
    for (const std::int64_t iteration : {1, 10}) {
      CAPTURE(iteration);
      nn::Sequential x = test::tiny_mlp(33), y = test::tiny_mlp(33);
      MamlPlusPlusOptions with = maml_pp_test::small_options(2), without = with;
      with.cosine_lr = without.cosine_lr = false;
      without.multi_step_loss = false;
      MamlPlusPlus p(x, regression(), with), q(y, regression(), without);
      p.step(tasks, iteration);
      q.step(tasks, iteration);
      CHECK(test::bit_identical(p.outer_parameters(), q.outer_parameters()) == (iteration >= with.msl_iterations));
    }
  }

  TEST_CASE("LSLR and per-step BN: named per step, learned, and absent when switched off") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = maml_pp_test::bn_mlp(41);
    MamlPlusPlus learner(model, regression(), maml_pp_test::small_options(2));
    const std::vector<nn::NamedTensor> extra = learner.extra_parameters();
    REQUIRE(extra.size() == 8 + 4);
    CHECK(extra[0].name == "lslr.0.0.weight");
    CHECK(extra[2].name == "lslr.0.3.weight");
    CHECK(extra[4].name == "lslr.1.0.weight");
    CHECK(extra[8].name == "bn.0.1.weight");
    CHECK(extra[11].name == "bn.1.1.bias");
    CHECK(learner.name() == "maml++");
    CHECK(learner.optimizer() != nullptr);
    CHECK(learner.options().inner_steps == 2);
    for (int it = 0; it < 3; ++it) learner.step(tasks, it);
    // Each step's rates and BN tensors moved, and differently.
    CHECK(extra[0].tensor.item() != 0.1);
    CHECK(extra[0].tensor.item() != extra[4].tensor.item());
    CHECK_FALSE(test::bit_identical({extra[8].tensor}, {extra[10].tensor}));
    // The test-time description: step 0's rates, the BN slots at α.
    const InnerLrSetting rule = learner.test_inner_lr();
    REQUIRE(rule.per_tensor.size() == 6);
    CHECK(rule.per_tensor[0].raw_data() == extra[0].tensor.raw_data());
    CHECK(rule.per_tensor[2].item() == 0.1);

    nn::Sequential off_model = maml_pp_test::bn_mlp(41);
    MamlPlusPlusOptions o = maml_pp_test::small_options(2);
    o.learn_inner_lr = o.per_step_bn = false;
    MamlPlusPlus off(off_model, regression(), o);
    CHECK(off.extra_parameters().empty());
    CHECK(off.outer_parameters().size() == 6);
    CHECK(off.test_inner_lr().per_tensor.empty());
    // Without per-step BN the model's γ, β are adapted and meta-learned as in MAML.
    CHECK_FALSE(test::bit_identical({off.meta_gradient(tasks)[2]}, {zeros_like(model.parameters()[2])}));
  }

  TEST_CASE("cosine annealing of β: from outer_lr to min_outer_lr over the run, set before each update") {
    nn::Sequential model = test::tiny_mlp(51);
    MamlPlusPlusOptions o = maml_pp_test::small_options(1);
    o.min_outer_lr = 0.001;
    MamlPlusPlus learner(model, regression(), o);
    CHECK(learner.outer_lr_at(0) == doctest::Approx(0.01));
    CHECK(learner.outer_lr_at(10) == doctest::Approx(0.0055));
    CHECK(learner.outer_lr_at(20) == doctest::Approx(0.001));
    CHECK(learner.outer_lr_at(30) == doctest::Approx(0.001));
    learner.step(test::sine_tasks(2), 10);
    CHECK(learner.optimizer()->lr() == learner.outer_lr_at(10));
    o.cosine_lr = false;
    nn::Sequential flat_model = test::tiny_mlp(51);
    const MamlPlusPlus flat(flat_model, regression(), o);
    CHECK(flat.outer_lr_at(10) == 0.01);
  }

  TEST_CASE("results are bit-identical for 1 and 2 worker threads, with and without task stacks") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const bool bn : {false, true})
      for (const int stacks : {0, 2}) {
        CAPTURE(bn);
        CAPTURE(stacks);
        nn::Sequential one = bn ? maml_pp_test::bn_mlp(61) : test::tiny_mlp(61);
        nn::Sequential two = bn ? maml_pp_test::bn_mlp(61) : test::tiny_mlp(61);
        MamlPlusPlusOptions o1 = maml_pp_test::small_options(2, 1, stacks);
        MamlPlusPlusOptions o2 = maml_pp_test::small_options(2, 2, stacks);
        o1.meta_batch = o2.meta_batch = 4;
        o1.first_order_until = o2.first_order_until = 1;
        MamlPlusPlus m1(one, regression(), o1), m2(two, regression(), o2);
        for (int it = 0; it < 3; ++it) {
          m1.step(tasks, it);
          m2.step(tasks, it);
        }
        CHECK(test::bit_identical(m1.outer_parameters(), m2.outer_parameters()));
      }
  }

  TEST_CASE("test() over ranks: each rank adapts its share of the tasks, every rank gets one process's result") {
    const data::SinusoidTasks sines(data::SinusoidConfig{.k_shot = 5, .q_query = 6, .seed = 75});
    const test::F64Tasks tasks(sines);
    nn::Sequential model = maml_pp_test::bn_mlp(76);
    MamlPlusPlus learner(model, regression(), maml_pp_test::small_options(2));
    const EvalOptions o{.num_tasks = 5, .inner_steps = 2};
    const EvalResult one = learner.test(tasks, o);
    test::as_ranks(2, [&](int, test::Scripted& comm) {
      learner.set_communicator(std::shared_ptr<Communicator>(&comm, [](auto*) {}));  // non-owning
      const EvalResult r = learner.test(tasks, o);
      learner.set_communicator(nullptr);
      REQUIRE(r.metric.size() == one.metric.size());
      for (std::size_t i = 0; i < r.metric.size(); ++i) {
        CHECK(r.metric[i].mean == one.metric[i].mean);
        CHECK(r.metric[i].n == 5);
      }
    });
  }

  TEST_CASE("test() adapts with each step's rates and BN tensors, with and without task stacks") {
    const data::SinusoidTasks sines(data::SinusoidConfig{.k_shot = 5, .q_query = 6, .seed = 71});
    const test::F64Tasks tasks(sines);
    nn::Sequential model = maml_pp_test::bn_mlp(72);
    const MamlPlusPlus learner(model, regression(), maml_pp_test::small_options(2));
    const std::vector<Tensor> alpha = maml_pp_test::extras(learner, "lslr.");
    const std::vector<Tensor> bn = maml_pp_test::extras(learner, "bn.");
    maml_pp_test::scramble(alpha, 0.05, 0.3, 73);
    maml_pp_test::scramble(bn, 0.5, 1.5, 74);
    std::vector<data::Task> sampled;
    for (std::uint64_t i = 0; i < 5; ++i) sampled.push_back(tasks.sample(i));
    // The query MSE after 2 steps is the oracle's value with v = (0, 1).
    const double expected = maml_pp_test::objective_value(model, alpha, bn, sampled, 2, {0.0, 1.0});
    for (const int per_stack : {1, 3}) {
      CAPTURE(per_stack);
      const EvalResult r = learner.test(tasks, {.num_tasks = 5, .inner_steps = 2, .tasks_per_stack = per_stack});
      REQUIRE(r.steps == std::vector<int>{0, 2});
      CHECK(r.metric[1].mean == doctest::Approx(expected).epsilon(1e-12));
      CHECK(r.metric[0].mean != doctest::Approx(expected));
    }
    // Steps past S reuse step S − 1's tensors: scoring after 3 steps runs.
    const EvalResult more = learner.test(tasks, {.num_tasks = 2, .inner_steps = 3});
    CHECK(more.steps == std::vector<int>{0, 3});
    CHECK(std::isfinite(more.metric[1].mean));
  }

  TEST_CASE("bad settings are refused") {
    nn::Sequential model = test::tiny_mlp(81);
    auto refused = [&](void (*edit)(MamlPlusPlusOptions&), const char* message) {
      MamlPlusPlusOptions o = maml_pp_test::small_options(1);
      edit(o);
      CAPTURE(message);
      CHECK_THROWS_WITH_AS(MamlPlusPlus(model, regression(), o), message, ValueError);
    };
    refused([](MamlPlusPlusOptions& o) { o.inner_steps = 0; },
            "maml++: inner_steps must be >= 1, got 0");
    refused([](MamlPlusPlusOptions& o) { o.task_stacks = -1; }, "maml++: task_stacks must be >= 0, got -1");
    refused([](MamlPlusPlusOptions& o) { o.inner_lr = std::numeric_limits<double>::infinity(); },
            "maml++: inner_lr must be finite and >= 0, got inf");
    refused([](MamlPlusPlusOptions& o) { o.msl_iterations = 0; }, "maml++: msl_iterations must be >= 1, got 0");
    refused([](MamlPlusPlusOptions& o) { o.first_order_until = -2; },
            "maml++: first_order_until must be >= 0, got -2");
    refused([](MamlPlusPlusOptions& o) { o.iterations = 0; }, "maml++: iterations must be >= 1, got 0");
    refused([](MamlPlusPlusOptions& o) { o.min_outer_lr = 0.5; },
            "maml++: min_outer_lr must be in [0, outer_lr = 0.01], got 0.5");
  }
}
