// metalearn train --algo metasgd | maml++ | anil | protonet: their flags and a run each.
#include <CLI/CLI.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "tests/datasets/fixtures.h"
#include "tests/tools/fixtures.h"
#include "tools/algorithms.h"
#include "tools/experiment.h"
#include "tools/mamlpp_flags.h"
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

  TEST_CASE("--train-ways: protonet trains on other ways than it tests; the others refuse; old checkpoints read --ways") {
    using train_algos_test::refused;
    refused("omniglot", "maml", [](TrainConfig& c) { c.train_ways = 20; },
            "train: --train-ways 20 differs from --ways 5: only --algo protonet (no output layer) trains on other ways "
            "than it tests, not maml");
    refused("clinc150", "pretrain", [](TrainConfig& c) { c.train_ways = 3; },
            "train: --train-ways 3 differs from --ways 5: only --algo protonet (no output layer) trains on other ways "
            "than it tests, not pretrain");
    refused("omniglot", "protonet", [](TrainConfig& c) { c.train_ways = 0; }, "train: --train-ways must be");
    TrainConfig d;
    d.dataset = "omniglot";
    d.algo = "maml";
    d.ways = 20;
    prepare(d);
    CHECK(d.train_ways == 20);  // the default follows --ways

    data::testing::TempDir data_dir;
    data::testing::write_small_omniglot(data_dir.path(), 4);  // background: 3 characters (12 classes with rotations)
    test::NullOut null;
    TrainConfig c =
        test::small_omniglot_run(test::scratch("tools", "protonet-train-ways"), "protonet", data_dir.path(), 2);
    c.train_ways = 4;
    TrainConfig resolved = c;
    prepare(resolved);
    const Experiment e = build_experiment(resolved);
    const data::Task train = e.train_tasks->sample(0), test = e.test_tasks->sample(0);
    CHECK(train.support_y.numel() == 4);  // 4 ways, 1 shot
    CHECK(train.query_y.numel() == 8);
    CHECK(test.support_y.numel() == 2);
    CHECK(test.query_y.numel() == 4);
    const TrainResult r = run_train(c, {null.f, false, -1});
    REQUIRE(r.finished);
    const nn::Checkpoint ck = nn::read_checkpoint((fs::path(c.out) / "checkpoint.mgc").string());
    const TrainConfig back = from_metadata(ck.metadata);
    CHECK(back.train_ways == 4);
    CHECK(back.ways == 2);
    // A checkpoint written before the flag existed has no config.train_ways: it trained on --ways.
    auto old = ck.metadata;
    std::erase_if(old, [](const auto& kv) { return kv.first == "config.train_ways"; });
    CHECK(from_metadata(old).train_ways == 2);
    const meta::EvalResult again = run_eval({.checkpoint = (fs::path(c.out) / "checkpoint.mgc").string(),
                                             .eval_tasks = 6, .data = c.data}, null.f);
    CHECK(again.metric.back().mean == r.eval.metric.back().mean);
    fs::remove_all(c.out);
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

namespace train_mamlpp_test {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace train_mamlpp_test

TEST_SUITE("tools") {
  TEST_CASE("maml++: its flags apply to it alone, default from --iterations, and round-trip through metadata") {
    using train_algos_test::refused;
    refused("sinusoid", "maml", [](TrainConfig& c) { c.mamlpp.msl = false; },
            "train: --no-msl is for --algo maml++, not maml");
    refused("sinusoid", "fomaml", [](TrainConfig& c) { c.mamlpp.msl = true; },
            "train: --msl is for --algo maml++, not fomaml");
    refused("sinusoid", "maml", [](TrainConfig& c) { c.mamlpp.per_step_bn = false; },
            "train: --no-per-step-bn is for --algo maml++, not maml");
    refused("sinusoid", "metasgd", [](TrainConfig& c) { c.mamlpp.lslr = false; },
            "train: --no-lslr is for --algo maml++, not metasgd");
    refused("sinusoid", "maml", [](TrainConfig& c) { c.mamlpp.cosine_lr = true; },
            "train: --cosine-lr is for --algo maml++, not maml");
    refused("sinusoid", "reptile", [](TrainConfig& c) { c.mamlpp.msl_iterations = 5; },
            "train: --msl-iterations is for --algo maml++, not reptile");
    refused("sinusoid", "maml", [](TrainConfig& c) { c.mamlpp.first_order_until = 5; },
            "train: --first-order-until is for --algo maml++, not maml");
    refused("sinusoid", "anil", [](TrainConfig& c) { c.mamlpp.min_meta_lr = 0.0; },
            "train: --min-meta-lr is for --algo maml++, not anil");
    refused("sinusoid", "maml++", [](TrainConfig& c) { c.mamlpp.min_meta_lr = 0.1; },
            "train: --min-meta-lr 0.1 is above --meta-lr 0.001: the cosine anneals downwards");
    refused("sinusoid", "maml++", [](TrainConfig& c) { c.mamlpp.msl_iterations = 0; },
            "train: --msl-iterations must be an integer in [1, 1000000000], got '0'");
    refused("sinusoid", "maml++", [](TrainConfig& c) { c.mamlpp.first_order_until = -1; },
            "train: --first-order-until must be an integer in [0, 1000000000], got '-1'");
    refused("sinusoid", "maml++", [](TrainConfig& c) { c.mamlpp.min_meta_lr = -1.0; },
            "train: --min-meta-lr must be a finite number in [0, 1000], got '-1'");
    refused("sinusoid", "maml++", [](TrainConfig& c) { c.learn_inner_lr = true; },
            "train: --learn-inner-lr is for --algo maml or fomaml, not maml++");
    CHECK(is_added_algo("maml++"));

    TrainConfig c;
    c.dataset = "omniglot";
    c.algo = "maml++";
    c.iterations = 3000;
    c.mamlpp.lslr = false;
    prepare(c);
    CHECK(c.inner_steps == 5);
    CHECK(c.eval_inner_steps == 5);
    CHECK(c.inner_lr == 0.1);
    CHECK(c.mamlpp.msl == true);
    CHECK(c.mamlpp.lslr == false);
    CHECK(c.mamlpp.msl_iterations == 300);
    CHECK(c.mamlpp.first_order_until == 1000);
    CHECK(c.mamlpp.min_meta_lr == 1e-5);
    const TrainConfig back = from_metadata(to_metadata(c));
    CHECK(back.algo == "maml++");
    CHECK(back.mamlpp.lslr == false);
    CHECK(back.mamlpp.per_step_bn == true);
    CHECK(back.mamlpp.msl_iterations == 300);
    CHECK(back.mamlpp.first_order_until == 1000);
    CHECK(back.mamlpp.min_meta_lr == 1e-5);
    // Other algorithms write no maml++ entries.
    TrainConfig m;
    prepare(m);
    for (const auto& [key, value] : to_metadata(m)) CHECK_FALSE(train_mamlpp_test::contains(key, "mamlpp"));
    CHECK_FALSE(from_metadata(to_metadata(m)).mamlpp.msl.has_value());
    // A maml++ checkpoint whose entries are missing or malformed.
    auto edited = [&](const std::string& key, const std::string* value) {
      std::vector<std::pair<std::string, std::string>> md;
      for (const auto& [k, v] : to_metadata(c))
        if (k != key) md.emplace_back(k, v);
        else if (value) md.emplace_back(k, *value);
      return md;
    };
    const std::string maybe = "maybe", many = "12x";
    CHECK_THROWS_WITH_AS(from_metadata(edited("config.mamlpp_msl", nullptr)),
                         "checkpoint: metadata has no 'config.mamlpp_msl'", DataError);
    CHECK_THROWS_WITH_AS(from_metadata(edited("config.mamlpp_lslr", &maybe)),
                         "config.mamlpp_lslr: expected true or false, got 'maybe'", DataError);
    CHECK_THROWS_WITH_AS(from_metadata(edited("config.mamlpp_msl_iterations", &many)),
                         "config.mamlpp_msl_iterations: expected a number, got '12x'", DataError);
  }

  TEST_CASE("maml++: the command line's flags and their --help text") {
    CLI::App app;
    TrainConfig c;
    add_mamlpp_flags(app, c);
    const std::string help = app.help();
    for (const char* part : {"--msl", "--no-msl", "--per-step-bn", "--no-per-step-bn", "--lslr", "--no-lslr",
                             "--cosine-lr", "--no-cosine-lr", "--msl-iterations", "--first-order-until",
                             "--min-meta-lr", "(MSL; default on)", "(BNWB; default on)", "(LSLR; default on)",
                             "0: second order throughout"}) {
      CAPTURE(part);
      CHECK(train_mamlpp_test::contains(help, part));
    }
    app.parse("--no-msl --lslr --first-order-until 7 --min-meta-lr 0.0001", false);
    CHECK(c.mamlpp.msl == false);
    CHECK(c.mamlpp.lslr == true);
    CHECK_FALSE(c.mamlpp.cosine_lr.has_value());
    CHECK(c.mamlpp.first_order_until == 7);
    CHECK(c.mamlpp.min_meta_lr == 0.0001);
    CHECK_THROWS_AS(app.parse("--first-order-until -3", false), CLI::ValidationError);
  }

  TEST_CASE("maml++: the per-step tensors are in the checkpoint, and eval from it reproduces the run's score") {
    test::NullOut null;
    const fs::path out = test::scratch("tools", "mamlpp-run");
    TrainConfig c = test::small_run(out, "maml++", 6, 3, 8);
    c.inner_steps = 2;
    const TrainResult r = run_train(c, {null.f, false, -1});
    REQUIRE(r.finished);
    const nn::Checkpoint ck = nn::read_checkpoint((out / "checkpoint.mgc").string());
    for (const char* name : {"lslr.0.0.weight", "lslr.1.2.bias"}) {
      CAPTURE(name);
      CHECK(std::any_of(ck.tensors.begin(), ck.tensors.end(),
                        [&](const nn::NamedTensor& t) { return t.name == name; }));
    }
    const meta::EvalResult again = run_eval({.checkpoint = (out / "checkpoint.mgc").string(), .eval_tasks = 8}, null.f);
    CHECK(again.steps.back() == 2);  // evaluated with the S = 2 steps it was trained for
    CHECK(again.metric.back().mean == r.eval.metric.back().mean);
    fs::remove_all(out);
  }
}
