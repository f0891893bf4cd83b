// metalearn train --dataset omniglot --algo pretrain: a classifier over all the training
// classes (global labels), tested with a new N-way head (Note [Pretraining a classifier]).
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "datasets/global_labels.h"
#include "tests/datasets/fixtures.h"
#include "tests/tools/fixtures.h"
#include "tools/experiment.h"
#include "tools/train.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

TEST_SUITE("tools") {
  TEST_CASE("omniglot pretraining: one output per training class, a new zero head at test time, eval reproduces") {
    data::testing::TempDir data_dir;
    data::testing::write_small_omniglot(data_dir.path(), 4);  // background: 3 characters, evaluation: 2
    test::NullOut null;
    TrainConfig c =
        test::small_omniglot_run(test::scratch("tools", "omniglot-pretrain"), "pretrain", data_dir.path(), 3);
    TrainConfig resolved = c;  // run_train resolves its own copy
    prepare(resolved);

    const Experiment e = build_experiment(resolved);
    const auto* global = dynamic_cast<const data::GlobalLabelTasks*>(e.train_tasks.get());
    REQUIRE(global != nullptr);
    CHECK(global->num_classes() == 12);  // 3 background characters, 4 rotations each
    std::set<std::int64_t> seen;
    for (std::uint64_t i = 0; i < 12; ++i)
      for (std::int64_t y : global->sample(i).query_y.to_vector<std::int64_t>()) seen.insert(y);
    CHECK(seen.size() > 3);  // more classes than the 3 ways: the labels are global
    CHECK(*seen.rbegin() < 12);
    const data::Task task = e.test_tasks->sample(0);
    CHECK(e.model->forward(task.query_x).shape() == Shape{6, 12});
    REQUIRE(e.test_model != nullptr);
    CHECK(e.test_model->forward(task.query_x).shape() == Shape{6, 3});

    const TrainResult r = run_train(c, {null.f, false, -1});
    REQUIRE(r.finished);
    REQUIRE(r.eval.metric.size() == 3);  // 0, 1 and 3 steps
    // Before any step the new head is zero: every query is a tie, scored as the first label.
    CHECK(r.eval.metric[0].mean == doctest::Approx(1.0 / 3.0).epsilon(1e-12));
    CHECK(r.eval.metric[0].ci95 == 0.0);
    const meta::EvalResult again = run_eval({.checkpoint = (fs::path(c.out) / "checkpoint.mgc").string(),
                                             .eval_tasks = 6, .data = c.data}, null.f);
    CHECK(again.metric.back().mean == r.eval.metric.back().mean);
    fs::remove_all(c.out);
  }
}
