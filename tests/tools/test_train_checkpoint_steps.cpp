// metalearn train --checkpoint-steps (issue 16, item 4): where it applies, and that a run
// with it writes the same checkpoint and metrics, byte for byte, as a run without.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>

#include "autograd/errors.h"
#include "meta/maml.h"
#include "meta/meta_sgd.h"
#include "tests/tools/fixtures.h"
#include "tools/experiment.h"
#include "tools/train.h"
#include "tools/train_config.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

namespace train_ckpt_test {

void refused_with(const std::string& dataset, const std::string& algo, const std::string& message) {
  TrainConfig c;
  c.dataset = dataset;
  c.algo = algo;
  c.checkpoint_steps = true;
  CAPTURE(algo);
  CHECK_THROWS_WITH_AS(prepare(c), message.c_str(), ValueError);
}

}  // namespace train_ckpt_test

TEST_SUITE("tools") {
  TEST_CASE("--checkpoint-steps: maml and metasgd only, not nav2d") {
    for (const char* algo : {"fomaml", "reptile", "pretrain", "anil", "maml++"})
      train_ckpt_test::refused_with(
          "sinusoid", algo,
          fmt::format("train: --checkpoint-steps is for --algo maml or metasgd (second-order inner steps), not {}",
                      algo));
    train_ckpt_test::refused_with(
        "omniglot", "protonet",
        "train: --checkpoint-steps is for --algo maml or metasgd (second-order inner steps), not protonet");
    train_ckpt_test::refused_with("nav2d", "maml",
                                  "train: --checkpoint-steps is for supervised datasets, not nav2d (its "
                                  "policy-gradient inner steps are not checkpointed)");
    for (const bool checkpoint : {false, true}) {  // the flag reaches the learners' options
      TrainConfig c;
      c.checkpoint_steps = checkpoint;
      TrainConfig s = c;
      s.algo = "metasgd";
      prepare(c);
      prepare(s);
      const Experiment maml = build_experiment(c);
      CHECK(dynamic_cast<const meta::Maml&>(*maml.learner).options().checkpoint_steps == checkpoint);
      const Experiment metasgd = build_experiment(s);
      CHECK(dynamic_cast<const meta::MetaSgd&>(*metasgd.learner).options().checkpoint_steps == checkpoint);
    }
  }

  TEST_CASE("--checkpoint-steps: a maml run writes the same checkpoint and metrics, byte for byte") {
    test::NullOut null;
    std::string checkpoints[2], metrics[2];
    for (const bool checkpoint : {false, true}) {
      const fs::path out = test::scratch("tools", fmt::format("ckpt-steps-{}", checkpoint));
      TrainConfig c = test::small_run(out, "maml", 4, 3, 4);
      c.inner_steps = 3;
      c.checkpoint_steps = checkpoint;
      REQUIRE(run_train(c, {null.f, false, -1}).finished);
      checkpoints[checkpoint] = test::slurp(out / "checkpoint.mgc");
      metrics[checkpoint] = test::slurp(out / "metrics.csv");
      fs::remove_all(out);
    }
    CHECK(checkpoints[0].size() > 1000);
    CHECK(checkpoints[0] == checkpoints[1]);
    CHECK(metrics[0] == metrics[1]);
  }
}
