// Task groups (meta/task_group.h): a stack of tasks computes the same losses and
// predictions as the tasks one by one, and MAML gives the same meta-gradient
// either way.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/adapt.h"
#include "meta/maml.h"
#include "meta/task_group.h"
#include "nn/linear.h"
#include "nn/models.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace {

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  double worst = 0;
  for (std::size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
  return worst;
}

// MAML with `o` gives the same meta-gradient and statistics with 2 task stacks as one task
// at a time; returns the largest entry of the meta-gradient (to show it is not zero).
double check_stacked_maml(nn::Module& model, const Objective& objective, const std::vector<data::Task>& tasks,
                          MamlOptions o) {
  o.task_stacks = 0;
  const Maml one_by_one(model, objective, o);
  o.task_stacks = 2;
  const Maml stacked(model, objective, o);
  StepStats s1, s2;
  const std::vector<Tensor> g1 = one_by_one.meta_gradient(tasks, &s1);
  const std::vector<Tensor> g2 = stacked.meta_gradient(tasks, &s2);
  REQUIRE(g1.size() == g2.size());
  double largest = 0;
  for (std::size_t j = 0; j < g1.size(); ++j) {
    CHECK(max_abs_diff(g1[j], g2[j]) < 1e-12);
    for (const double v : g1[j].to_vector<double>()) largest = std::max(largest, std::abs(v));
  }
  CHECK(s1.loss == doctest::Approx(s2.loss).epsilon(1e-12));
  CHECK(s1.metric == doctest::Approx(s2.metric).epsilon(1e-12));
  return largest;
}

}  // namespace

TEST_SUITE("task_group") {
  TEST_CASE("a stack's losses and predictions are the tasks' own, summed") {
    const std::vector<data::Task> tasks = test::sine_tasks(3);
    nn::Sequential model = test::tiny_mlp(4);
    const Objective objective = regression();
    REQUIRE(TaskGroup::can_stack(model, tasks));
    const TaskGroup group(model, objective, tasks, true);
    CHECK(group.stacked());
    CHECK(group.size() == 3);
    const std::vector<Tensor> theta = model.parameters();
    const std::vector<Tensor> start = group.start(theta);
    REQUIRE(start.size() == theta.size());
    CHECK(start[0].shape() == Shape{3, 4, 1});

    double support_sum = 0, query_sum = 0, metric_sum = 0;
    const Tensor prediction = group.predict_query(start);
    REQUIRE(prediction.shape() == Shape{3, 6, 1});
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      const TaskGroup one(model, objective, std::span(tasks).subspan(t, 1), false);
      CHECK_FALSE(one.stacked());
      CHECK(one.start(theta)[0].shape() == theta[0].shape());
      support_sum += one.support_loss(one.start(theta)).item();
      const Tensor p = one.predict_query(theta);
      query_sum += one.query_loss(p).item();
      const std::vector<double> m = one.query_metrics(p);
      REQUIRE(m.size() == 1);
      CHECK(group.query_metrics(prediction)[t] == doctest::Approx(m[0]).epsilon(1e-12));
      metric_sum += m[0];
      const auto i = static_cast<std::int64_t>(t);
      CHECK(max_abs_diff(reshape(slice(prediction, 0, i, i + 1), {6, 1}), p) < 1e-14);
    }
    CHECK(group.support_loss(start).item() == doctest::Approx(support_sum).epsilon(1e-12));
    CHECK(group.query_loss(prediction).item() == doctest::Approx(query_sum).epsilon(1e-12));
    CHECK(group.query_metrics(prediction).size() == 3);
    CHECK(metric_sum > 0);
  }

  TEST_CASE("the gradient through a stack holds each task's own inner gradient") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(6);
    const Objective objective = regression();
    const TaskGroup group(model, objective, tasks, true);
    TapeScope scope;
    const std::vector<Tensor> theta = thread_aliases(model.parameters());
    std::vector<Tensor> stacked;
    for (const Tensor& t : group.start(theta)) stacked.push_back(t.detach().requires_grad_());
    const std::vector<Tensor> g = grad({group.support_loss(stacked)}, stacked);
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      const TaskGroup one(model, objective, std::span(tasks).subspan(t, 1), false);
      const std::vector<Tensor> own = grad({one.support_loss(theta)}, theta);
      const auto i = static_cast<std::int64_t>(t);
      for (std::size_t j = 0; j < own.size(); ++j)
        CHECK(max_abs_diff(reshape(slice(g[j], 0, i, i + 1), own[j].shape()), own[j]) < 1e-14);
    }
  }

  TEST_CASE("MAML's meta-gradient is the same with stacks and one task at a time") {
    const std::vector<data::Task> tasks = test::sine_tasks(5);
    for (const bool first_order : {false, true})
      for (const bool learn_lr : {false, true}) {
        CAPTURE(first_order);
        CAPTURE(learn_lr);
        nn::Sequential model = test::tiny_mlp(8);
        MamlOptions o;
        o.inner_lr = 0.1;
        o.inner_steps = 2;
        o.first_order = first_order;
        o.learn_inner_lr = learn_lr;
        o.meta_batch = 5;
        CHECK(check_stacked_maml(model, regression(), tasks, o) > 0);
      }
  }

  // Classification stacks int64 labels beside float inputs (mg::stack of int64 data).
  TEST_CASE("a stack of classification tasks with int64 labels gives each task's own loss and accuracy") {
    const std::vector<data::Task> tasks = data::sample_tasks(test::BlobTasks(3, 2, 4, 5), 0, 4);
    REQUIRE(tasks[0].support_y.dtype() == DType::I64);
    nn::Sequential model = test::tiny_classifier(2);
    const Objective objective = classification();
    REQUIRE(TaskGroup::can_stack(model, tasks));
    const TaskGroup group(model, objective, tasks, true);
    const std::vector<Tensor> start = group.start(model.parameters());
    const Tensor prediction = group.predict_query(start);
    REQUIRE(prediction.shape() == Shape{4, 12, 3});
    const std::vector<double> metrics = group.query_metrics(prediction);
    REQUIRE(metrics.size() == 4);
    double support_sum = 0, query_sum = 0;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      const TaskGroup one(model, objective, std::span(tasks).subspan(t, 1), false);
      support_sum += one.support_loss(model.parameters()).item();
      const Tensor p = one.predict_query(model.parameters());
      query_sum += one.query_loss(p).item();
      CHECK(metrics[t] == one.query_metrics(p)[0]);
    }
    CHECK(group.support_loss(start).item() == doctest::Approx(support_sum).epsilon(1e-12));
    CHECK(group.query_loss(prediction).item() == doctest::Approx(query_sum).epsilon(1e-12));
    // A minibatch of rows cuts the int64 labels of each task in the stack, too.
    const std::vector<std::vector<std::int64_t>> rows{{0, 5}, {1, 4}, {2, 3}, {5, 0}};
    double cut_sum = 0;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      const TaskGroup one(model, objective, std::span(tasks).subspan(t, 1), false);
      cut_sum += one.support_loss(model.parameters(), {rows[t]}).item();
    }
    CHECK(group.support_loss(start, rows).item() == doctest::Approx(cut_sum).epsilon(1e-12));
  }

  TEST_CASE("MAML's meta-gradient on int64-labelled tasks is the same with stacks and one task at a time") {
    const std::vector<data::Task> tasks = data::sample_tasks(test::BlobTasks(3, 1, 3, 9), 0, 4);
    for (const bool first_order : {false, true}) {
      CAPTURE(first_order);
      nn::Sequential model = test::tiny_classifier(3);
      MamlOptions o;
      o.inner_lr = 0.3;
      o.inner_steps = 1;
      o.first_order = first_order;
      o.meta_batch = 4;
      CHECK(check_stacked_maml(model, classification(), tasks, o) > 1e-3);  // a meta-gradient that is not zero
    }
  }

  TEST_CASE("a minibatch loss is the loss of a task cut down to those rows, one row list per task") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(4);
    const Objective objective = regression();
    const std::vector<Tensor> theta = model.parameters();
    const std::vector<std::vector<std::int64_t>> rows{{4, 0, 0}, {2, 3, 1}};
    const TaskGroup stack(model, objective, tasks, true);
    CHECK(stack.support_size() == 5);
    double by_hand = 0;
    for (std::size_t t = 0; t < tasks.size(); ++t) {
      data::Task cut = tasks[t];
      const Tensor index = from_vector(rows[t], Shape({3}));
      cut.support_x = index_select(cut.support_x, 0, index);
      cut.support_y = index_select(cut.support_y, 0, index);
      const TaskGroup whole(model, objective, std::span(&cut, 1), false);
      const TaskGroup one(model, objective, std::span(tasks).subspan(t, 1), false);
      const double expected = whole.support_loss(theta).item();
      CHECK(one.support_loss(theta, {rows[t]}).item() == doctest::Approx(expected).epsilon(1e-14));
      by_hand += expected;
    }
    CHECK(stack.support_loss(stack.start(theta), rows).item() == doctest::Approx(by_hand).epsilon(1e-13));
  }

  TEST_CASE("a minibatch of class labels picks the labels of its rows") {
    Generator gen(9);
    nn::Sequential model;
    model.emplace<nn::Linear>(2, 3, gen);
    model.to(DType::F64);
    data::Task t;
    t.support_x = from_vector(std::vector<double>{1, 0, 0, 1, -1, 0, 0, -1}, Shape({4, 2}));
    t.support_y = from_vector(std::vector<std::int64_t>{0, 1, 2, 1}, Shape({4}));
    t.query_x = t.support_x;
    t.query_y = t.support_y;
    data::Task cut = t;
    cut.support_x = from_vector(std::vector<double>{-1, 0, 1, 0}, Shape({2, 2}));
    cut.support_y = from_vector(std::vector<std::int64_t>{2, 0}, Shape({2}));
    const Objective objective = classification();
    const std::vector<Tensor> theta = model.parameters();
    const double expected = TaskGroup(model, objective, std::span(&cut, 1), false).support_loss(theta).item();
    const TaskGroup group(model, objective, std::span(&t, 1), false);
    CHECK(group.support_loss(theta, {{2, 0}}).item() == doctest::Approx(expected).epsilon(1e-14));
  }

  TEST_CASE("bad row lists are refused") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(4);
    const Objective objective = regression();
    const TaskGroup stack(model, objective, tasks, true);
    const std::vector<Tensor> start = stack.start(model.parameters());
    CHECK_THROWS_WITH_AS(stack.support_loss(start, {{0}}), doctest::Contains("task group: 1 row lists for 2 tasks"),
                         ValueError);
    CHECK_THROWS_WITH_AS(stack.support_loss(start, {{0}, {0, 1}}),
                         doctest::Contains("task group: the row lists must be non-empty and of one length"), ValueError);
    CHECK_THROWS_WITH_AS(stack.support_loss(start, {{}, {}}),
                         doctest::Contains("task group: the row lists must be non-empty and of one length"), ValueError);
    CHECK_THROWS_WITH_AS(stack.support_loss(start, {{0}, {5}}),
                         doctest::Contains("task group: support row 5 is out of range for 5 examples"), ValueError);
    CHECK_THROWS_WITH_AS(stack.support_loss(start, {{-1}, {0}}),
                         doctest::Contains("task group: support row -1 is out of range for 5 examples"), ValueError);
  }

  TEST_CASE("what can be stacked") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential mlp = test::tiny_mlp(1);
    CHECK_FALSE(TaskGroup::can_stack(mlp, {}));
    std::vector<data::Task> uneven = tasks;
    uneven.push_back(test::sine_tasks(1, 4, 6)[0]);
    CHECK_FALSE(TaskGroup::can_stack(mlp, uneven));
    Generator gen(1);
    nn::Sequential conv = nn::omniglot_conv4(5, gen);
    CHECK_FALSE(TaskGroup::can_stack(conv, tasks));
  }

  TEST_CASE("bad groups are refused") {
    const std::vector<data::Task> tasks = test::sine_tasks(2);
    nn::Sequential model = test::tiny_mlp(1);
    const Objective objective = regression();
    CHECK_THROWS_WITH_AS(TaskGroup(model, objective, {}, true), doctest::Contains("task group: needs at least one task"),
                         ValueError);
    CHECK_THROWS_WITH_AS(TaskGroup(model, objective, tasks, false),
                         doctest::Contains("task group: 2 tasks can only be grouped as a stack"), ValueError);
    std::vector<data::Task> uneven = tasks;
    uneven.push_back(test::sine_tasks(1, 4, 6)[0]);
    CHECK_THROWS_WITH_AS(TaskGroup(model, objective, uneven, true),
                         doctest::Contains("task group: stacked tasks must have equal shapes, got support [5, 1] and [4, 1]"),
                         ShapeError);
  }

  TEST_CASE("task_ranges splits a batch by count, not by thread") {
    using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;
    CHECK(task_ranges(25, 2) == Ranges{{0, 12}, {12, 25}});
    CHECK(task_ranges(3, 0) == Ranges{{0, 1}, {1, 2}, {2, 3}});
    CHECK(task_ranges(1, 4) == Ranges{{0, 1}});
    CHECK(task_ranges(0, 2).empty());
    CHECK_THROWS_WITH_AS(task_ranges(4, -1), doctest::Contains("task ranges: stacks must be >= 0, got -1"), ValueError);
  }

  TEST_CASE("plan_groups stacks when it can and hands out each range's group") {
    using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;
    nn::Sequential model = test::tiny_mlp(4);
    const std::vector<data::Task> tasks = test::sine_tasks(5);
    const GroupPlan two = plan_groups(model, tasks, 2);
    CHECK(two.stacked);
    CHECK(two.ranges == Ranges{{0, 2}, {2, 5}});
    const TaskGroup last = two.group(model, regression(), tasks, 1);
    CHECK(last.stacked());
    CHECK(last.size() == 3);
    const GroupPlan single = plan_groups(model, tasks, 0);
    CHECK_FALSE(single.stacked);
    CHECK(single.ranges.size() == 5);
    CHECK(single.group(model, regression(), tasks, 4).size() == 1);
    // Tasks of different shapes cannot share a stack: one task per group.
    std::vector<data::Task> mixed = tasks;
    mixed[1] = test::sine_tasks(1, 7, 6)[0];
    const GroupPlan fallback = plan_groups(model, mixed, 2);
    CHECK_FALSE(fallback.stacked);
    CHECK(fallback.ranges.size() == 5);
  }
}
