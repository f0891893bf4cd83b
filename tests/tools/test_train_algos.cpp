// metalearn train --algo metasgd | anil | protonet: their flags and a run each.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "tests/tools/fixtures.h"
#include "tools/algorithms.h"
#include "tools/train.h"
#include "tools/train_config.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

namespace train_algos_test {

void refused(const std::string& dataset, const std::string& algo, void (*edit)(TrainConfig&), const char* message) {
  TrainConfig c;
  c.dataset = dataset;
  c.algo = algo;
  edit(c);
  CAPTURE(message);
  CHECK_THROWS_WITH_AS(prepare(c), doctest::Contains(message), ValueError);
}

}  // namespace train_algos_test

TEST_SUITE("tools") {
  TEST_CASE("the flags of metasgd, anil and protonet: what applies where") {
    CHECK(is_added_algo("metasgd"));
    CHECK(is_added_algo("anil"));
    CHECK(is_added_algo("protonet"));
    CHECK_FALSE(is_added_algo("maml"));
    using train_algos_test::refused;
    refused(
        "sinusoid", "maml", [](TrainConfig& c) { c.first_order = true; },
        "train: --first-order is for --algo anil, not maml (first-order MAML is --algo fomaml)");
    refused(
        "sinusoid", "metasgd", [](TrainConfig& c) { c.first_order = true; },
        "train: --first-order is for --algo anil, not metasgd");
    refused(
        "omniglot", "protonet", [](TrainConfig& c) { c.inner_steps = 2; },
        "train: --inner-steps does nothing with --algo protonet (it has no inner loop)");
    refused(
        "omniglot", "protonet", [](TrainConfig& c) { c.eval_inner_steps = 2; },
        "train: --eval-inner-steps does nothing with --algo protonet (it has no inner loop)");
    refused(
        "omniglot", "protonet", [](TrainConfig& c) { c.inner_lr = 0.1; },
        "train: --inner-lr does nothing with --algo protonet (it has no inner loop)");
    refused(
        "sinusoid", "protonet", [](TrainConfig&) {},
        "train: --algo protonet is for --dataset omniglot, clinc150 or text-csv, not sinusoid (prototypes classify)");
    refused(
        "sinusoid", "metasgd", [](TrainConfig& c) { c.learn_inner_lr = true; },
        "train: --learn-inner-lr is for --algo maml or fomaml, not metasgd");
    // The settings that do apply pass, and round-trip through a checkpoint's metadata.
    for (const char* algo : {"metasgd", "anil"}) {
      TrainConfig c;
      c.algo = algo;
      c.first_order = c.algo == "anil";
      prepare(c);
      const TrainConfig back = from_metadata(to_metadata(c));
      CHECK(back.algo == algo);
      CHECK(back.first_order == c.first_order);
    }
    TrainConfig m;
    m.algo = "metasgd";
    m.inner_steps = 2;
    prepare(m);
    CHECK(m.eval_inner_steps == 2);  // tested as trained
    m = TrainConfig{};
    m.algo = "metasgd";
    m.eval_inner_steps = 5;
    prepare(m);
    CHECK(m.eval_inner_steps == 5);
    TrainConfig p;
    p.dataset = "omniglot";
    p.algo = "protonet";
    prepare(p);
    CHECK(p.meta_lr == 1e-3);
    CHECK(p.ways == 5);
  }

  TEST_CASE("metasgd: the learned α is in the checkpoint, and eval from the checkpoint reproduces the run's score") {
    test::NullOut null;
    const fs::path out = test::scratch("tools", "metasgd-run");
    TrainConfig c = test::small_run(out, "metasgd", 6, 3, 8);
    const TrainResult r = run_train(c, {null.f, false, -1});
    REQUIRE(r.finished);
    const nn::Checkpoint ck = nn::read_checkpoint((out / "checkpoint.mgc").string());
    const auto alpha = std::find_if(ck.tensors.begin(), ck.tensors.end(),
                                    [](const nn::NamedTensor& t) { return t.name == "alpha.0.weight"; });
    REQUIRE(alpha != ck.tensors.end());
    CHECK(alpha->tensor.shape() == Shape({40, 1}));
    const meta::EvalResult again = run_eval({.checkpoint = (out / "checkpoint.mgc").string(), .eval_tasks = 8}, null.f);
    CHECK(again.metric.back().mean == r.eval.metric.back().mean);
    // An ANIL run on the sinusoid finishes and evaluates with head-only adaptation.
    TrainConfig a = test::small_run(test::scratch("tools", "anil-run"), "anil", 4, 3, 8);
    const TrainResult ra = run_train(a, {null.f, false, -1});
    CHECK(ra.finished);
    CHECK(ra.eval.metric.size() == 3);
    fs::remove_all(out);
    fs::remove_all(a.out);
  }
}
