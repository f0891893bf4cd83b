#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "autograd/errors.h"
#include "meta/evaluate.h"
#include "meta/maml.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

TEST_SUITE("evaluate") {
  TEST_CASE("summarize: mean and 95% confidence half-width 1.96 s / sqrt(n)") {
    const Summary s = summarize({1.0, 2.0, 3.0, 4.0});
    CHECK(s.n == 4);
    CHECK(s.mean == 2.5);
    CHECK(s.ci95 == doctest::Approx(1.96 * std::sqrt(5.0 / 3.0) / 2.0));
    CHECK(summarize({7.0}).ci95 == 0.0);
    CHECK(summarize({}).n == 0);
  }

  TEST_CASE("scores after each reported step count; adaptation lowers the query error") {
    nn::Sequential model = test::tiny_mlp(2);
    const data::SinusoidTasks sines(data::SinusoidConfig{.k_shot = 10, .q_query = 10, .seed = 11});
    const test::F64Tasks tasks(sines);
    EvalOptions o;
    o.num_tasks = 40;
    o.inner_steps = 10;
    o.report_steps = {10, 0, 1};
    const EvalResult r = evaluate(model, model.parameters(), regression(), {0.01, {}}, tasks, o);
    CHECK(r.metric_name == "mse");
    CHECK(r.steps == std::vector<int>{0, 1, 10});
    REQUIRE(r.metric.size() == 3);
    CHECK(r.metric[0].n == 40);
    CHECK(r.metric[2].mean < r.metric[0].mean);
    // The same tasks in parallel give the same numbers.
    o.threads = 2;
    const EvalResult r2 = evaluate(model, model.parameters(), regression(), {0.01, {}}, tasks, o);
    CHECK(r2.metric[2].mean == r.metric[2].mean);
    // MetaLearner::test runs the same protocol from the learner's parameters.
    const Maml maml(model, regression(), 0.01, 1e-3, 1);
    CHECK(maml.test(tasks, o).metric[2].mean == r.metric[2].mean);
    // Stacks of 7 tasks (the last one shorter) and tasks one by one agree to rounding.
    for (const int per_stack : {1, 7}) {
      o.tasks_per_stack = per_stack;
      const EvalResult r3 = evaluate(model, model.parameters(), regression(), {0.01, {}}, tasks, o);
      for (std::size_t s = 0; s < 3; ++s) {
        CHECK(r3.metric[s].mean == doctest::Approx(r.metric[s].mean).epsilon(1e-12));
        CHECK(r3.metric[s].ci95 == doctest::Approx(r.metric[s].ci95).epsilon(1e-10));
      }
    }
  }

  TEST_CASE("stacked evaluation of a classifier with int64 labels scores as task by task") {
    nn::Sequential model = test::tiny_classifier(4);
    const test::BlobTasks tasks(3, 1, 5, 21);
    EvalOptions o;
    o.num_tasks = 30;
    o.inner_steps = 5;
    o.tasks_per_stack = 1;
    const InnerLrSetting lr{0.5, {}};
    const EvalResult one = evaluate(model, model.parameters(), classification(), lr, tasks, o);
    REQUIRE(one.metric_name == "accuracy");
    CHECK(one.metric[1].mean > one.metric[0].mean);  // adaptation helps: the scores are not constant
    for (const int per_stack : {7, 50}) {
      CAPTURE(per_stack);
      o.tasks_per_stack = per_stack;
      const EvalResult stacked = evaluate(model, model.parameters(), classification(), lr, tasks, o);
      REQUIRE(stacked.metric.size() == one.metric.size());
      for (std::size_t s = 0; s < one.metric.size(); ++s) {
        CHECK(stacked.metric[s].mean == doctest::Approx(one.metric[s].mean).epsilon(1e-12));
        CHECK(stacked.metric[s].ci95 == doctest::Approx(one.metric[s].ci95).epsilon(1e-10));
      }
    }
  }

  TEST_CASE("bad options are refused") {
    nn::Sequential model = test::tiny_mlp(3);
    const data::SinusoidTasks sines;
    const test::F64Tasks tasks(sines);
    auto run = [&](EvalOptions o) { return evaluate(model, model.parameters(), regression(), {}, tasks, o); };
    CHECK_THROWS_WITH_AS(run({.num_tasks = 0}), doctest::Contains("evaluate: num_tasks must be >= 1, got 0"),
                         ValueError);
    CHECK_THROWS_WITH_AS(run({.inner_steps = -2}), doctest::Contains("evaluate: inner_steps must be >= 0, got -2"),
                         ValueError);
    CHECK_THROWS_WITH_AS(run({.inner_steps = 3, .report_steps = {5}}),
                         doctest::Contains("evaluate: report step 5 is outside [0, 3]"), ValueError);
    CHECK_THROWS_WITH_AS(run({.tasks_per_stack = 0}), doctest::Contains("evaluate: tasks_per_stack must be >= 1, got 0"),
                         ValueError);
  }

  TEST_CASE("requests larger than the machine's memory are refused up front, naming the quantity") {
    nn::Sequential model = test::tiny_mlp(3);
    const data::SinusoidTasks sines;
    const test::F64Tasks tasks(sines);
    // Huge task counts: one score per task and report step. Before, the score table was
    // allocated first (std::bad_alloc, or the OOM killer while it was filled).
    std::vector<int> every_step(1000);
    for (int i = 0; i < 1000; ++i) every_step[static_cast<std::size_t>(i)] = i;
    for (const int num_tasks : {INT32_MAX, 1 << 30}) {
      CAPTURE(num_tasks);
      const EvalOptions o{.num_tasks = num_tasks, .inner_steps = 999, .report_steps = every_step};
      const std::string message = "evaluate: " + std::to_string(num_tasks) + " tasks (" + std::to_string(num_tasks) +
                                  " scored after 1000 step counts, 50 in memory at once) would need ~";
      CHECK_THROWS_WITH_AS(evaluate(model, model.parameters(), regression(), {}, tasks, o),
                           doctest::Contains(message.c_str()), MemoryError);
    }
    // Huge tasks: the stacks in flight.
    struct HugeTasks : data::TaskSource {
      data::Task sample(std::uint64_t) const override { throw std::logic_error("must not be sampled"); }
      std::uint64_t task_bytes() const override { return std::uint64_t{1} << 40; }
    } huge;
    CHECK_THROWS_WITH_AS(evaluate(model, model.parameters(), regression(), {}, huge, {.num_tasks = 600, .threads = 2}),
                         doctest::Contains("evaluate: 600 tasks (600 scored after 2 step counts, 100 in memory at once) "
                                           "would need ~200.0 TiB"),
                         MemoryError);
  }
}
