#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/evaluate.h"
#include "meta/pretrain.h"
#include "meta/reptile.h"
#include "meta/task_group.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace {
ReptileOptions small_options(InnerOptimizer inner, double lr, int steps, int meta_batch) {
  ReptileOptions o;
  o.inner_optimizer = inner;
  o.inner_lr = lr;
  o.inner_steps = steps;
  o.meta_batch = meta_batch;
  return o;
}
}  // namespace

TEST_SUITE("reptile") {
  TEST_CASE("with k = 1 SGD step, Reptile is theta <- theta - epsilon alpha grad L(theta)") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    nn::Sequential model = test::tiny_mlp(3);
    ReptileOptions o = small_options(InnerOptimizer::Sgd, 0.05, 1, 1);
    o.epsilon = 0.5;
    Reptile reptile(model, regression(), o);
    std::vector<Tensor> expected;
    {
      TapeScope scope;
      const std::vector<Tensor> theta = model.parameters();
      const std::vector<Tensor> g =
          grad({regression().loss(model.forward(tasks[0].support_x), tasks[0].support_y)}, theta);
      NoGradGuard off;
      for (std::size_t j = 0; j < theta.size(); ++j) expected.push_back((theta[j] - g[j] * (0.5 * 0.05)).detach());
    }
    reptile.step(tasks, 0);
    const std::vector<Tensor> after = model.parameters();
    for (std::size_t j = 0; j < after.size(); ++j)
      for (std::int64_t e = 0; e < after[j].numel(); ++e)
        CHECK(after[j].data<double>()[e] == doctest::Approx(expected[j].data<double>()[e]).epsilon(1e-12));
  }

  TEST_CASE("epsilon is annealed linearly to zero") {
    nn::Sequential model = test::tiny_mlp(3);
    ReptileOptions o;
    o.epsilon = 1.0;
    o.anneal_iterations = 100;
    const Reptile r(model, regression(), o);
    CHECK(r.epsilon_at(0) == 1.0);
    CHECK(r.epsilon_at(25) == doctest::Approx(0.75));
    CHECK(r.epsilon_at(100) == 0.0);
    CHECK(r.epsilon_at(150) == 0.0);
    o.anneal_iterations = 0;
    CHECK(Reptile(model, regression(), o).epsilon_at(1000) == 1.0);
  }

  TEST_CASE("the inner loop leaves theta alone and moves its copy") {
    const std::vector<data::Task> tasks = test::sine_tasks(1);
    nn::Sequential model = test::tiny_mlp(4);
    const std::vector<Tensor> before = {model.parameters()[0].clone()};
    const Reptile r(model, regression(), ReptileOptions{});
    const std::vector<Tensor> w = r.inner_loop(tasks[0]);
    CHECK(test::bit_identical({model.parameters()[0]}, before));
    CHECK_FALSE(test::bit_identical({w[0]}, before));
    CHECK(r.name() == "reptile");
    CHECK(r.test_inner_lr().value == ReptileOptions{}.inner_lr);
  }

  TEST_CASE("results are bit-identical for 1 and 2 worker threads, with and without task stacks") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const int stacks : {0, 2})
      for (const int batch : {0, 2}) {
        CAPTURE(stacks);
        CAPTURE(batch);
        nn::Sequential one = test::tiny_mlp(5), two = test::tiny_mlp(5);
        ReptileOptions o;  // Adam with its second moment kept across tasks
        o.meta_batch = 4;
        o.task_stacks = stacks;
        o.inner_batch = batch;
        Reptile r1(one, regression(), o);
        o.threads = 2;
        Reptile r2(two, regression(), o);
        for (int it = 0; it < 3; ++it) {
          r1.step(tasks, it);
          r2.step(tasks, it);
        }
        CHECK(test::bit_identical(one.parameters(), two.parameters()));
        CHECK(test::bit_identical(r1.test_inner_lr().adam_v, r2.test_inner_lr().adam_v));
      }
  }

  TEST_CASE("worker threads never bind the shared parameters to their tapes") {
    // Reptile stacked θ for a group straight from the model's parameters, which bound
    // them to the tape of whichever worker got there (a data race found by tools/quickstart.sh
    // tsan); each worker now stacks its own aliases, and the parameters stay unbound.
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const int stacks : {0, 2}) {
      CAPTURE(stacks);
      nn::Sequential model = test::tiny_mlp(5);
      ReptileOptions o = small_options(InnerOptimizer::Adam, 0.01, 2, 4);
      o.task_stacks = stacks;
      o.threads = 2;
      Reptile r(model, regression(), o);
      r.step(tasks, 0);
      for (const Tensor& p : model.parameters()) CHECK(p.impl()->tape == nullptr);
    }
  }

  TEST_CASE("a step is the same with task stacks and one task at a time (SGD and Adam, whole sets and minibatches)") {
    const std::vector<data::Task> tasks = test::sine_tasks(5);
    const std::pair<InnerOptimizer, int> rules[] = {
        {InnerOptimizer::Sgd, 0}, {InnerOptimizer::Adam, 0}, {InnerOptimizer::Adam, 3}};
    for (const auto& rule : rules) {
      // Not a structured binding: clang 14 (the tsan mode) cannot capture one in CAPTURE's lambda.
      const InnerOptimizer inner = rule.first;
      const int batch = rule.second;
      CAPTURE(batch);
      nn::Sequential stacked = test::tiny_mlp(7), one_by_one = test::tiny_mlp(7);
      ReptileOptions o = small_options(inner, 0.03, 3, 5);
      o.inner_batch = batch;
      o.epsilon = 0.7;
      Reptile r_stacked(stacked, regression(), o);
      o.task_stacks = 0;
      Reptile r_single(one_by_one, regression(), o);
      const StepStats s1 = r_stacked.step(tasks, 0), s2 = r_single.step(tasks, 0);
      CHECK(s1.loss == doctest::Approx(s2.loss).epsilon(1e-12));
      CHECK(s1.metric == doctest::Approx(s2.metric).epsilon(1e-12));
      const std::vector<Tensor> a = stacked.parameters(), b = one_by_one.parameters();
      for (std::size_t j = 0; j < a.size(); ++j)
        for (std::int64_t e = 0; e < a[j].numel(); ++e)
          CHECK(a[j].data<double>()[e] == doctest::Approx(b[j].data<double>()[e]).epsilon(1e-12));
    }
  }

  TEST_CASE("the kept Adam state: each task starts from it, the batch mean of the final ones replaces it") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(8);
    ReptileOptions o = small_options(InnerOptimizer::Adam, 0.01, 3, 2);
    o.task_stacks = 0;
    Reptile r(model, regression(), o);
    const std::vector<nn::NamedTensor> kept = r.extra_parameters();
    REQUIRE(kept.size() == model.parameters().size() + 1);
    CHECK(kept[0].name == "reptile.adam_v.0");
    CHECK(kept.back().name == "reptile.adam_step");
    for (int it = 0; it < 2; ++it) {
      CAPTURE(it);
      // What the two tasks' inner loops end with, run by hand from the kept state.
      const InnerLrSetting rule = r.test_inner_lr();
      CHECK(rule.adam_step == 3 * it);
      std::vector<std::vector<Tensor>> v;
      const Objective objective = regression();
      for (const data::Task& t : tasks) {
        const TaskGroup one(model, objective, std::span(&t, 1), false);
        Adaptation a(model.parameters(), rule);
        a.run([&](std::span<const Tensor> w) { return one.support_loss(w); }, 3);
        v.push_back(a.second_moments());
      }
      r.step(tasks, it);
      CHECK(r.test_inner_lr().adam_step == 3 * (it + 1));
      CHECK(kept.back().tensor.item() == 3.0 * (it + 1));
      for (std::size_t j = 0; j < v[0].size(); ++j) {
        const auto mean = ((v[0][j] + v[1][j]) * 0.5).to_vector<double>();
        const auto got = kept[j].tensor.to_vector<double>();
        for (std::size_t e = 0; e < got.size(); ++e) CHECK(got[e] == doctest::Approx(mean[e]).epsilon(1e-12));
      }
    }
    o.keep_adam_state = false;
    const Reptile fresh(model, regression(), o);
    CHECK(fresh.extra_parameters().empty());
    CHECK(fresh.test_inner_lr().adam_v.empty());
    o.keep_adam_state = true;
    o.inner_optimizer = InnerOptimizer::Sgd;
    CHECK(Reptile(model, regression(), o).extra_parameters().empty());
  }

  TEST_CASE("minibatches of the whole support set give the whole-set step; smaller ones differ") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    auto after_step = [&](int batch) {
      nn::Sequential model = test::tiny_mlp(9);
      ReptileOptions o = small_options(InnerOptimizer::Sgd, 0.05, 3, 2);
      o.inner_batch = batch;
      Reptile r(model, regression(), o);
      r.step(tasks, 0);
      return model.parameters()[0].to_vector<double>();
    };
    const std::vector<double> whole = after_step(0), shuffled = after_step(5), small = after_step(2);
    for (std::size_t e = 0; e < whole.size(); ++e) CHECK(shuffled[e] == doctest::Approx(whole[e]).epsilon(1e-12));
    CHECK(small != whole);
  }

  TEST_CASE("minibatch rows: successive shuffles read a batch at a time, fixed by the seed") {
    const auto rows = minibatch_rows(5, 2, 5, 42);
    REQUIRE(rows.size() == 5);
    std::vector<std::int64_t> stream;
    for (const auto& r : rows) {
      CHECK(r.size() == 2);
      stream.insert(stream.end(), r.begin(), r.end());
    }
    for (int epoch = 0; epoch < 2; ++epoch) {  // the 10 rows are two permutations of 0..4
      std::vector<std::int64_t> perm(stream.begin() + 5 * epoch, stream.begin() + 5 * (epoch + 1));
      std::sort(perm.begin(), perm.end());
      CHECK(perm == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    }
    CHECK(minibatch_rows(5, 2, 5, 42) == rows);
    CHECK(minibatch_rows(5, 2, 5, 43) != rows);
    CHECK(minibatch_rows(3, 7, 1, 0)[0].size() == 7);  // a batch larger than the set spans shuffles
    CHECK(minibatch_rows(3, 2, 0, 0).empty());
    CHECK_THROWS_WITH_AS(minibatch_rows(0, 2, 1, 0),
                         doctest::Contains("minibatch rows: need n >= 1, batch >= 1, k >= 0; got n 0, batch 2, k 1"),
                         ValueError);
    CHECK_THROWS_AS(minibatch_rows(3, 0, 1, 0), ValueError);
    CHECK_THROWS_AS(minibatch_rows(3, 2, -1, 0), ValueError);
  }

  TEST_CASE("bad settings are refused") {
    nn::Sequential model = test::tiny_mlp(6);
    ReptileOptions o;
    o.inner_steps = 0;
    CHECK_THROWS_WITH_AS(Reptile(model, regression(), o), doctest::Contains("reptile: inner_steps must be >= 1, got 0"),
                         ValueError);
    o = {};
    for (const double bad : {0.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
      o.inner_lr = bad;
      CHECK_THROWS_WITH_AS(Reptile(model, regression(), o),
                           doctest::Contains(fmt::format("reptile: inner_lr must be finite and > 0, got {}", bad).c_str()),
                           ValueError);
    }
    o = {};
    for (const double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN()}) {
      o.epsilon = bad;
      CHECK_THROWS_WITH_AS(Reptile(model, regression(), o),
                           doctest::Contains(fmt::format("reptile: epsilon must be finite and > 0, got {}", bad).c_str()),
                           ValueError);
    }
    o = {};
    o.task_stacks = -1;
    CHECK_THROWS_WITH_AS(Reptile(model, regression(), o), doctest::Contains("reptile: task_stacks must be >= 0, got -1"),
                         ValueError);
    o = {};
    o.anneal_iterations = -1;
    CHECK_THROWS_WITH_AS(Reptile(model, regression(), o),
                         doctest::Contains("reptile: anneal_iterations must be >= 0, got -1"), ValueError);
    o = {};
    o.inner_batch = -1;
    CHECK_THROWS_WITH_AS(Reptile(model, regression(), o), doctest::Contains("reptile: inner_batch must be >= 0, got -1"),
                         ValueError);
    Reptile r(model, regression(), ReptileOptions{});
    CHECK_THROWS_WITH_AS(r.step({}, 0), doctest::Contains("reptile: a meta-batch needs at least one task"),
                         ValueError);
  }
}

namespace pretrain_test {

// Task i of a fixed list.
class Listed : public data::TaskSource {
 public:
  explicit Listed(std::vector<data::Task> tasks) : tasks_(std::move(tasks)) {}
  data::Task sample(std::uint64_t i) const override { return tasks_.at(i); }

 private:
  std::vector<data::Task> tasks_;
};

}  // namespace pretrain_test

TEST_SUITE("pretrain") {
  TEST_CASE("joint training lowers the loss on the tasks it sees") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    nn::Sequential model = test::tiny_mlp(7);
    PretrainOptions o;
    o.lr = 0.02;
    o.meta_batch = 4;
    Pretrain pretrain(model, regression(), o);
    double joint = 0;  // the loss over all examples of the batch, as one set
    for (const data::Task& t : tasks) {
      NoGradGuard off;
      joint += regression().loss(model.forward(t.support_x), t.support_y).item() * 5.0 / 44.0;
      joint += regression().loss(model.forward(t.query_x), t.query_y).item() * 6.0 / 44.0;
    }
    const double first = pretrain.step(tasks, 0).loss;
    CHECK(first == doctest::Approx(joint).epsilon(1e-12));
    double last = first;
    for (int it = 1; it < 60; ++it) last = pretrain.step(tasks, it).loss;
    CHECK(last < first);
    CHECK(pretrain.name() == "pretrain");
    CHECK(pretrain.optimizer() != nullptr);
    CHECK(pretrain.test_inner_lr().value == o.eval_inner_lr);
  }

  TEST_CASE("is for regression, or classification with a test model, and needs tasks") {
    nn::Sequential model = test::tiny_mlp(8);
    CHECK_THROWS_WITH_AS(Pretrain(model, classification(), PretrainOptions{}),
                         "pretrain: the joint-training baseline is for regression task families only, or for "
                         "classification with global labels and a test model (Note [Pretraining a classifier])",
                         ValueError);
    Pretrain p(model, regression(), PretrainOptions{});
    CHECK_THROWS_WITH_AS(p.step({}, 0), doctest::Contains("pretrain: a meta-batch needs at least one task"), ValueError);
  }

  TEST_CASE("a classifier: joint training on global labels, then the test model with a zero head") {
    // 2-D points of 6 global classes (class c around (c, c mod 2)); the tasks' x is [n, 2], y global.
    Generator gen(5);
    auto classifier = [](std::int64_t outputs, Generator& g) {
      nn::Sequential net;
      net.emplace<nn::Linear>(2, 8, g).emplace<nn::Tanh>().emplace<nn::Linear>(8, outputs, g);
      net.to(DType::F64);
      return net;
    };
    auto points = [](const std::vector<std::int64_t>& labels) {
      std::vector<double> x;
      for (std::int64_t c : labels) x.insert(x.end(), {0.5 * static_cast<double>(c), static_cast<double>(c % 2)});
      return from_vector(x, Shape({static_cast<std::int64_t>(labels.size()), 2}));
    };
    auto task = [&](const std::vector<std::int64_t>& s, const std::vector<std::int64_t>& q) {
      data::Task t;
      t.support_x = points(s), t.query_x = points(q);
      t.support_y = from_vector(s, Shape({static_cast<std::int64_t>(s.size())}));
      t.query_y = from_vector(q, Shape({static_cast<std::int64_t>(q.size())}));
      return t;
    };
    const std::vector<data::Task> global = {task({0, 1, 2}, {0, 1, 2}), task({3, 4, 5}, {5, 4, 3})};
    nn::Sequential model = classifier(6, gen);
    PretrainOptions o;
    o.lr = 0.05;
    o.meta_batch = 2;
    o.test_model = std::make_shared<nn::Sequential>(classifier(3, gen));
    Pretrain pretrain(model, classification(), o);
    const StepStats first = pretrain.step(global, 0);
    CHECK(first.metric >= 0.0);
    CHECK(first.metric <= 1.0);
    StepStats last = first;
    for (int it = 1; it < 200; ++it) last = pretrain.step(global, it);
    CHECK(last.loss < first.loss);
    CHECK(last.metric == 1.0);  // the accuracy over all six classes at once, not the loss
    // The body is the trained one, the head (shapes [3, 8] and [3]) starts at zero.
    const std::vector<Tensor> theta = pretrain.head_for_test(), trained = model.parameters();
    REQUIRE(theta.size() == 4);
    for (int j : {0, 1}) CHECK(theta[j].to_vector<double>() == trained[j].to_vector<double>());
    CHECK(theta[2].shape() == Shape{3, 8});
    CHECK(theta[3].shape() == Shape{3});
    for (int j : {2, 3})
      for (double v : theta[j].to_vector<double>()) CHECK(v == 0.0);
    // test() is evaluate() on the test model from there: 3-way tasks with labels 0 … 2.
    const std::vector<data::Task> local = {task({0, 1, 2}, {2, 1, 0})};
    const pretrain_test::Listed source(local);
    const EvalOptions eval{.num_tasks = 1, .inner_steps = 2, .tasks_per_stack = 1};  // int64 labels do not stack
    const EvalResult r = pretrain.test(source, eval);
    const EvalResult direct = evaluate(*o.test_model, theta, classification(), pretrain.test_inner_lr(), source, eval);
    CHECK(r.metric.back().mean == direct.metric.back().mean);
    CHECK(r.metric.front().mean == doctest::Approx(1.0 / 3.0));  // a zero head: every class equally likely
  }

  TEST_CASE("the test model's errors") {
    Generator gen(1);
    nn::Sequential model = test::tiny_mlp(8);
    Pretrain regression_only(model, regression(), PretrainOptions{});
    CHECK_THROWS_WITH_AS(regression_only.head_for_test(), "pretrain: no test model (Note [Pretraining a classifier])",
                         ValueError);
    PretrainOptions o;
    o.test_model = std::make_shared<nn::Linear>(1, 1, gen);
    Pretrain mismatched(model, regression(), o);
    CHECK_THROWS_WITH_AS(mismatched.head_for_test(), "pretrain: the test model has 2 parameters, the model 4",
                         ValueError);
  }
}
