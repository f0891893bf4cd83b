#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/random.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/maml.h"
#include "nn/adam.h"
#include "nn/models.h"
#include "nn/sgd.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace {

MamlOptions options_for(int steps, bool first_order, int threads = 1) {
  MamlOptions o;
  o.inner_lr = 0.1;
  o.inner_steps = steps;
  o.first_order = first_order;
  o.meta_batch = 2;
  o.threads = threads;
  return o;
}

// The MAML objective J(θ) = mean_i L_q(θ'_i(θ)), evaluated without the tape's help for the gradient.
double maml_objective(nn::Module& model, const std::vector<Tensor>& theta, const std::vector<data::Task>& tasks,
                      double alpha, int steps) {
  double total = 0;
  for (const data::Task& t : tasks) {
    TapeScope scope;
    const std::vector<Tensor> theta_i =
        adapt(model, regression().loss, thread_aliases(theta), t.support_x, t.support_y, {alpha, {}}, steps,
              AdaptMode::Detached);
    NoGradGuard off;
    total += regression().loss(model.forward(t.query_x, theta_i), t.query_y).item();
  }
  return total / static_cast<double>(tasks.size());
}

}  // namespace

TEST_SUITE("maml") {
  TEST_CASE("second-order meta-gradient matches finite differences of the MAML objective, k = 1, 2, 3") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    for (int k = 1; k <= 3; ++k) {
      CAPTURE(k);
      nn::Sequential model = test::tiny_mlp(1);
      const Maml maml(model, regression(), options_for(k, false));
      const std::vector<Tensor> g = maml.meta_gradient(tasks);
      const std::vector<Tensor> theta = model.parameters();
      const double h = 1e-6;
      double worst = 0;
      for (std::size_t j = 0; j < theta.size(); ++j)
        for (std::int64_t e = 0; e < theta[j].numel(); ++e) {
          Tensor param = theta[j];
          double* p = param.mutable_data<double>() + e;
          const double p0 = *p;
          *p = p0 + h;
          const double up = maml_objective(model, theta, tasks, 0.1, k);
          *p = p0 - h;
          const double down = maml_objective(model, theta, tasks, 0.1, k);
          *p = p0;
          const double fd = (up - down) / (2 * h);
          worst = std::max(worst, std::abs(fd - g[j].data<double>()[e]) / (1e-4 + std::abs(fd)));
        }
      CHECK(worst < 1e-5);
    }
  }

  TEST_CASE("first-order MAML drops the curvature term: closed form on linear regression") {
    // Linear model f(x) = x wᵀ; MSE L(w) = (1/n)‖X wᵀ − y‖², ∇L = (2/n)(X wᵀ − y)ᵀ X.
    Generator gen(4);
    nn::Sequential model;
    model.emplace<nn::Linear>(3, 1, gen, false);
    model.to(DType::F64);
    data::Task task{randn({6, 3}, gen, DType::F64), randn({6, 1}, gen, DType::F64), randn({5, 3}, gen, DType::F64),
                    randn({5, 1}, gen, DType::F64)};
    const double alpha = 0.05;
    const std::vector<data::Task> tasks{task};
    auto grad_l = [](const Tensor& x, const Tensor& y, const Tensor& w) {
      return matmul(matmul(x, w, false, true) - y, x, true, false) * (2.0 / static_cast<double>(x.size(0)));
    };
    NoGradGuard off;
    const Tensor w = model.parameters()[0];
    const Tensor w_i = w - grad_l(task.support_x, task.support_y, w) * alpha;
    const Tensor expected_fo = grad_l(task.query_x, task.query_y, w_i);
    EnableGradGuard on;
    MamlOptions fo = options_for(1, true);
    fo.inner_lr = alpha;
    MamlOptions so = fo;
    so.first_order = false;
    const Tensor g_fo = Maml(model, regression(), fo).meta_gradient(tasks)[0];
    const Tensor g_so = Maml(model, regression(), so).meta_gradient(tasks)[0];
    for (std::int64_t e = 0; e < 3; ++e) CHECK(g_fo.at({0, e}) == doctest::Approx(expected_fo.at({0, e})).epsilon(1e-12));
    double diff = 0;
    for (std::int64_t e = 0; e < 3; ++e) diff = std::max(diff, std::abs(g_fo.at({0, e}) - g_so.at({0, e})));
    CHECK(diff > 1e-4);
  }

  TEST_CASE("a step applies the outer optimizer to the meta-gradient") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential a = test::tiny_mlp(2), b = test::tiny_mlp(2);
    Maml maml(a, regression(), 0.1, 0.05, 1);
    const std::vector<Tensor> g = Maml(b, regression(), 0.1, 0.05, 1).meta_gradient(tasks);
    nn::Adam reference(b.parameters(), nn::AdamOptions{.lr = 0.05});
    reference.step(g);
    const StepStats stats = maml.step(tasks, 0);
    CHECK(stats.loss > 0);
    CHECK(test::bit_identical(a.parameters(), b.parameters()));
    CHECK(maml.name() == "maml");
    CHECK(Maml(b, regression(), options_for(1, true)).name() == "fomaml");
  }

  TEST_CASE("results are bit-identical for 1 and 2 worker threads, with and without task stacks") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const int stacks : {0, 2, 3}) {
      CAPTURE(stacks);
      nn::Sequential one = test::tiny_mlp(5), two = test::tiny_mlp(5);
      MamlOptions o1 = options_for(2, false, 1), o2 = options_for(2, false, 2);
      o1.meta_batch = o2.meta_batch = 4;
      o1.task_stacks = o2.task_stacks = stacks;
      Maml m1(one, regression(), o1), m2(two, regression(), o2);
      for (int it = 0; it < 3; ++it) {
        m1.step(tasks, it);
        m2.step(tasks, it);
      }
      CHECK(test::bit_identical(one.parameters(), two.parameters()));
    }
  }

  TEST_CASE("conv4 MAML: bit-identical with tasks over 2 threads and with each op split over 2 or 3 threads") {
    // Note [Two ways to use two cores] (autograd/kernels/worker_pool.h): the split
    // convolutions, batch norms and poolings give one thread's bits, and so do the tasks.
    std::vector<data::Task> tasks;
    Generator data_gen(17);
    std::vector<std::int64_t> support_labels, query_labels;
    for (std::int64_t c = 0; c < 5; ++c) {
      support_labels.push_back(c);
      for (int q = 0; q < 3; ++q) query_labels.push_back(c);
    }
    for (int t = 0; t < 4; ++t)
      tasks.push_back({randn({5, 1, 28, 28}, data_gen), from_vector(support_labels, {5}),
                       randn({15, 1, 28, 28}, data_gen), from_vector(query_labels, {15})});
    auto train = [&](int task_threads, int op_threads) {
      const kernels::OpThreads ops(op_threads);
      Generator gen(9);
      nn::Sequential model = nn::omniglot_conv4(5, gen);
      MamlOptions o = options_for(1, false, task_threads);
      o.inner_lr = 0.4;
      o.meta_batch = 4;
      Maml maml(model, classification(), o);
      for (int it = 0; it < 2; ++it) maml.step(tasks, it);
      std::vector<Tensor> theta;
      for (const Tensor& p : model.parameters()) theta.push_back(p.detach());
      return theta;
    };
    const std::vector<Tensor> one = train(1, 1);
    CHECK(test::bit_identical(one, train(2, 1)));
    CHECK(test::bit_identical(one, train(1, 2)));
    CHECK(test::bit_identical(one, train(1, 3)));
  }

  TEST_CASE("learned per-tensor inner learning rates are meta-learned too") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(6);
    MamlOptions o = options_for(1, false);
    o.learn_inner_lr = true;
    Maml maml(model, regression(), o);
    CHECK(maml.outer_parameters().size() == model.parameters().size() * 2);
    CHECK(maml.extra_parameters()[0].name == "inner_lr.0");
    const double before = maml.extra_parameters()[0].tensor.item();
    CHECK(before == doctest::Approx(0.1));
    const std::vector<Tensor> g = maml.meta_gradient(tasks);
    CHECK(g.size() == maml.outer_parameters().size());
    CHECK(std::abs(g.back().item()) > 0);
    maml.step(tasks, 0);
    CHECK(maml.extra_parameters()[0].tensor.item() != before);
    CHECK(maml.test_inner_lr().per_tensor.size() == model.parameters().size());
  }

  TEST_CASE("bad settings are refused") {
    nn::Sequential model = test::tiny_mlp(7);
    MamlOptions o = options_for(-1, false);
    CHECK_THROWS_WITH_AS(Maml(model, regression(), o), doctest::Contains("maml: inner_steps must be >= 0, got -1"),
                         ValueError);
    o = options_for(1, false);
    for (const double bad : {-0.1, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
      o.inner_lr = bad;
      CHECK_THROWS_WITH_AS(Maml(model, regression(), o),
                           doctest::Contains(fmt::format("maml: inner_lr must be finite and >= 0, got {}", bad).c_str()),
                           ValueError);
    }
    o = options_for(1, false);
    o.outer_lr = std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(Maml(model, regression(), o),
                         doctest::Contains("adam: learning rate must be finite and non-negative, got inf"), ValueError);
    o = options_for(1, false);
    o.task_stacks = -1;
    CHECK_THROWS_WITH_AS(Maml(model, regression(), o), doctest::Contains("maml: task_stacks must be >= 0, got -1"),
                         ValueError);
    o = options_for(1, false);
    o.meta_batch = 0;
    CHECK_THROWS_WITH_AS(Maml(model, regression(), o), doctest::Contains("meta-learner: meta_batch must be >= 1"),
                         ValueError);
    o = options_for(1, false);
    o.threads = 0;
    CHECK_THROWS_WITH_AS(Maml(model, regression(), o), doctest::Contains("meta-learner: threads must be >= 1"),
                         ValueError);
    o = options_for(1, false);
    CHECK_THROWS_WITH_AS(
        Maml(model, regression(), o, std::make_unique<nn::Sgd>(std::vector<Tensor>{model.parameters()[0]},
                                                               nn::SgdOptions{})),
        doctest::Contains("maml: the outer optimizer has 1 parameters, MAML meta-learns 4"), ValueError);
    const Maml maml(model, regression(), o);
    CHECK_THROWS_WITH_AS(maml.meta_gradient({}), doctest::Contains("maml: a meta-batch needs at least one task"),
                         ValueError);
  }

  TEST_CASE("adapt checks its arguments") {
    nn::Sequential model = test::tiny_mlp(8);
    const data::Task t = test::sine_tasks(1)[0];
    const std::vector<Tensor> theta = model.parameters();
    CHECK_THROWS_WITH_AS(adapt(model, regression().loss, theta, t.support_x, t.support_y, {0.1, {}}, -1,
                               AdaptMode::Detached),
                         doctest::Contains("adapt: the number of inner steps must be >= 0, got -1"), ValueError);
    const std::vector<Tensor> one_lr{full({}, 0.1, DType::F64)};
    CHECK_THROWS_WITH_AS(adapt(model, regression().loss, theta, t.support_x, t.support_y, {0.1, one_lr}, 1,
                               AdaptMode::Detached),
                         doctest::Contains("adapt: 1 learned inner learning rates for 4 parameter tensors"),
                         ValueError);
  }

  TEST_CASE("adapt: one detached step is plain SGD; second order keeps the graph to theta") {
    nn::Sequential model = test::tiny_mlp(9);
    const data::Task t = test::sine_tasks(1)[0];
    const std::vector<Tensor> theta = model.parameters();
    TapeScope scope;
    const std::vector<Tensor> g = grad({regression().loss(model.forward(t.support_x), t.support_y)}, theta);
    const std::vector<Tensor> once =
        adapt(model, regression().loss, theta, t.support_x, t.support_y, {0.1, {}}, 1, AdaptMode::Detached);
    for (std::size_t j = 0; j < theta.size(); ++j)
      for (std::int64_t e = 0; e < theta[j].numel(); ++e)
        CHECK(once[j].data<double>()[e] ==
              doctest::Approx(theta[j].data<double>()[e] - 0.1 * g[j].data<double>()[e]).epsilon(1e-12));
    CHECK(once[0].is_leaf());
    const std::vector<Tensor> so =
        adapt(model, regression().loss, theta, t.support_x, t.support_y, {0.1, {}}, 1, AdaptMode::SecondOrder);
    CHECK_FALSE(so[0].is_leaf());
    CHECK(grad({sum(so[0])}, {theta[0]})[0].defined());
  }
}

TEST_SUITE("maml") {
  TEST_CASE("maml_meta_gradient at an explicit θ equals Maml's meta-gradient at that θ, bit for bit") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    for (const bool first_order : {false, true}) {
      for (const int k : {0, 1, 2}) {
        CAPTURE(first_order);
        CAPTURE(k);
        nn::Sequential model = test::tiny_mlp(4);
        MamlOptions o;
        o.inner_lr = 0.1;
        o.inner_steps = k;
        o.first_order = first_order;
        o.meta_batch = 1;
        const Maml maml(model, regression(), o);
        const std::vector<Tensor> expected = maml.meta_gradient(tasks);
        // θ: copies of the parameters, not the parameters themselves.
        std::vector<Tensor> theta;
        for (const Tensor& p : model.parameters()) theta.push_back(p.detach().clone());
        const std::vector<Tensor> g = maml_meta_gradient(
            model, regression(), theta, tasks[0], {.inner_lr = 0.1, .inner_steps = k, .first_order = first_order});
        CHECK(test::bit_identical(g, expected));
        for (const Tensor& gj : g) CHECK(!gj.requires_grad());
      }
    }
  }

  TEST_CASE("maml_meta_gradient reads θ, not the model's parameters") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    nn::Sequential model = test::tiny_mlp(5);
    std::vector<Tensor> theta;
    {
      NoGradGuard no_grad;
      for (const Tensor& p : model.parameters()) theta.push_back(p.detach() * 0.5);
    }
    const std::vector<Tensor> at_half = maml_meta_gradient(model, regression(), theta, tasks[0]);
    const std::vector<Tensor> at_model = maml_meta_gradient(model, regression(), model.parameters(), tasks[0]);
    CHECK(!test::bit_identical(at_half, at_model));
    // The same θ written into the model gives the same meta-gradient.
    {
      NoGradGuard no_grad;
      std::vector<Tensor> params = model.parameters();
      for (std::size_t j = 0; j < params.size(); ++j)
        std::copy_n(theta[j].data<double>(), theta[j].numel(), params[j].mutable_data<double>());
    }
    CHECK(test::bit_identical(maml_meta_gradient(model, regression(), model.parameters(), tasks[0]), at_half));
  }

  TEST_CASE("maml_meta_gradient: every error message") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    nn::Sequential model = test::tiny_mlp(6);
    std::vector<Tensor> theta = model.parameters();
    theta.pop_back();
    CHECK_THROWS_WITH_AS(maml_meta_gradient(model, regression(), theta, tasks[0]),
                         doctest::Contains("maml meta-gradient: theta has 3 tensors, the model has 4 parameters"),
                         ValueError);
    CHECK_THROWS_WITH_AS(maml_meta_gradient(model, regression(), model.parameters(), tasks[0], {.inner_steps = -1}),
                         doctest::Contains("maml meta-gradient: inner_steps must be >= 0, got -1"), ValueError);
  }
}
