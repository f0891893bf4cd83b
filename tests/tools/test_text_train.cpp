// `metalearn train` on text (tools/text_config.h, tools/text_experiment.h): a tiny
// CSV written here through every algorithm and model, resume, eval and the
// floor; each bad input with its message and nothing written; CLINC150 from
// ../shared/data (found like Omniglot: with $CI set, a missing data set fails).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "autograd/errors.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "tests/datasets/fixtures.h"
#include "tests/tools/fixtures.h"
#include "tools/paths.h"
#include "tools/experiment.h"
#include "nn/checkpoint.h"
#include "tools/text_config.h"
#include "tools/text_experiment.h"
#include "tools/train.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

namespace text_train_test {

// 16 labels of 6 texts each (or `short_label` with 2); each class has its own verb and noun.
std::string tiny_csv(const std::string& short_label = "") {
  const std::vector<std::string> verbs = {"book", "cancel", "play", "order", "check", "find", "send", "call",
                                          "show", "set", "pay", "move", "open", "close", "read", "stop"};
  std::string out = "id,text,label\n";
  for (std::size_t c = 0; c < verbs.size(); ++c) {
    const std::string label = fmt::format("intent_{}", verbs[c]);
    const int n = label == short_label ? 2 : 6;
    for (int i = 0; i < n; ++i)
      out += fmt::format("{},\"please {} the thing{}, number {}\",{}\n", c * 10 + i, verbs[c], c, i, label);
  }
  return out;
}

std::vector<std::string> tiny_labels() {
  std::vector<std::string> labels;
  for (const char* v : {"book", "cancel", "play", "order", "check", "find", "send", "call", "show", "set", "pay",
                        "move", "open", "close", "read", "stop"})
    labels.push_back(std::string("intent_") + v);
  return labels;
}

// A 2-way 1-shot run on `csv` writing into `out`: a few iterations, a few test tasks.
TrainConfig tiny_run(const fs::path& csv, const fs::path& out, const std::string& algo, const std::string& model) {
  TrainConfig c;
  c.dataset = "text-csv";
  c.data = csv.string();
  c.algo = algo;
  if (algo != "nearest-mean") c.model = model;
  c.ways = 2;
  c.queries = 2;
  // Reptile's test-time default is 50 Adam steps over the whole model (its 2.2M-value
  // embedding table included): 3 show the same path in a fraction of the time.
  if (algo == "reptile") c.train_shots = 1, c.inner_batch = 0, c.eval_inner_steps = 3;
  c.iterations = 4;
  c.meta_batch = 2;
  c.eval_tasks = 6;
  c.checkpoint_every = 2;
  c.threads = 1;
  c.out = out.string();
  return c;
}

fs::path write_csv(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path p = dir / name;
  data::testing::write_text(p, text);
  return p;
}

// The names of a text sampler's pool classes, in pool order.
std::vector<std::string> pool_names(const data::TaskSource& s) {
  const auto& pool = dynamic_cast<const data::TextEpisodeSampler&>(s).pool();
  std::vector<std::string> out;
  for (std::int64_t i = 0; i < pool.num_classes(); ++i) out.push_back(pool.class_name(i));
  return out;
}

// The experiment of a tiny run on the tiny CSV in scratch folder `name`, prepared and built.
Experiment tiny_experiment(const std::string& name, const std::string& algo, const std::string& model) {
  const fs::path dir = test::scratch("text", name);
  TrainConfig c = tiny_run(write_csv(dir, "tiny.csv", tiny_csv()), dir / "out", algo, model);
  prepare(c);
  return build_experiment(c);
}

}  // namespace text_train_test

TEST_SUITE("text-train") {
  using text_train_test::tiny_run;

  TEST_CASE("the tiny CSV's hash split leaves at least 2 classes in each used split") {
    const data::ClassSplit s = data::hash_class_split(text_train_test::tiny_labels());
    CHECK(s.train.size() >= 2);
    CHECK(s.test.size() >= 2);
  }

  TEST_CASE("text-csv end to end: every algorithm and model trains, checkpoints, evaluates, reports the floor") {
    test::NullOut null;
    const fs::path dir = test::scratch("text", "e2e");
    const fs::path csv = text_train_test::write_csv(dir, "tiny.csv", text_train_test::tiny_csv());
    for (const auto& run : std::vector<std::pair<std::string, std::string>>{
             {"maml", "bag"}, {"fomaml", "bag-counts"}, {"reptile", "bag"}, {"maml", "cnn"}, {"reptile", "cnn"},
             {"protonet", "bag"}, {"protonet", "cnn"}, {"metasgd", "bag-counts"}, {"pretrain", "bag-counts"},
             {"pretrain", "cnn"}, {"anil", "bag"}}) {
      const std::string algo = run.first, model = run.second;  // named: clang 14 captures no structured binding
      CAPTURE(algo);
      CAPTURE(model);
      const fs::path out = dir / (algo + "-" + model);
      const TrainResult r = run_train(tiny_run(csv, out, algo, model), {null.f, false, -1});
      CHECK(r.finished);
      REQUIRE(r.floor.has_value());
      CHECK(r.floor->metric[0].n == 6);
      CHECK(r.eval.metric.back().n == 6);
      for (const char* f : {"checkpoint.mgc", "metrics.csv", "results.txt", "learning_curve.svg"})
        CHECK(fs::exists(out / f));
      const std::string results = test::slurp(out / "results.txt");
      CHECK(results.find("nearest-mean accuracy after  0 steps") != std::string::npos);
      // eval rebuilds the same experiment from the checkpoint (the CSV is passed again).
      const meta::EvalResult again =
          run_eval({.checkpoint = (out / "checkpoint.mgc").string(), .eval_tasks = 6, .data = csv.string()}, null.f);
      CHECK(again.metric.back().mean == doctest::Approx(r.eval.metric.back().mean));
    }
  }

  TEST_CASE("the experiment trains on meta-training classes and tests on meta-test classes only") {
    const Experiment e = text_train_test::tiny_experiment("classes", "maml", "bag");
    const data::ClassSplit split = data::hash_class_split(text_train_test::tiny_labels());
    CHECK(text_train_test::pool_names(*e.train_tasks) == split.train);
    CHECK(text_train_test::pool_names(*e.test_tasks) == split.test);
    CHECK(e.model->forward(e.test_tasks->sample(0).query_x).shape() == Shape{4, 2});
  }

  TEST_CASE("text pretraining: global labels over the meta-training classes, a head per class, a new head to test") {
    const Experiment e = text_train_test::tiny_experiment("pretrain", "pretrain", "bag-counts");
    const data::ClassSplit split = data::hash_class_split(text_train_test::tiny_labels());
    const auto train_classes = static_cast<std::int64_t>(split.train.size());
    REQUIRE(train_classes > 2);
    const auto& global = dynamic_cast<const data::GlobalLabelTasks&>(*e.train_tasks);
    CHECK(global.num_classes() == train_classes);
    std::set<std::int64_t> seen;
    for (std::uint64_t i = 0; i < 20; ++i)
      for (std::int64_t y : global.sample(i).support_y.to_vector<std::int64_t>()) seen.insert(y);
    CHECK(*seen.rbegin() < train_classes);
    CHECK(seen.size() > 2);  // more classes than the 2 ways: labels are global
    const data::Task task = e.test_tasks->sample(0);
    CHECK(e.model->forward(task.query_x).shape() == Shape{4, train_classes});
    REQUIRE(e.test_model != nullptr);
    CHECK(e.test_model->forward(task.query_x).shape() == Shape{4, 2});
  }

  TEST_CASE("reptile on text with inner mini-batches (token rows picked on the host)") {
    test::NullOut null;
    const fs::path dir = test::scratch("text", "reptile-batches");
    const fs::path csv = text_train_test::write_csv(dir, "tiny.csv", text_train_test::tiny_csv());
    TrainConfig c = tiny_run(csv, dir / "out", "reptile", "bag");
    c.train_shots = 2;
    c.inner_batch = 3;
    const TrainResult r = run_train(c, {null.f, false, -1});
    CHECK(r.finished);
    CHECK(r.eval.metric.back().n == 6);
  }

  TEST_CASE("text-csv --split TRAIN,VAL: the hash split with those fractions; 'hash' is the default's old name") {
    const fs::path dir = test::scratch("text", "fractions");
    const fs::path csv = text_train_test::write_csv(dir, "tiny.csv", text_train_test::tiny_csv());
    CHECK(csv_split_fractions("0.5,0.25") == std::pair{0.5, 0.25});
    CHECK(csv_split_fractions("hash") == std::pair{0.6, 0.2});
    CHECK(csv_split_fractions("1,0") == std::pair{1.0, 0.0});
    TrainConfig defaults = tiny_run(csv, dir / "d", "maml", "bag");
    prepare(defaults);
    CHECK(*defaults.split == "0.6,0.2");
    TrainConfig c = tiny_run(csv, dir / "out", "maml", "bag");
    c.split = "0.3,0.3";
    prepare(c);
    const Experiment e = build_experiment(c);
    const data::ClassSplit split = data::hash_class_split(text_train_test::tiny_labels(), 0.3, 0.3);
    REQUIRE(split.train != data::hash_class_split(text_train_test::tiny_labels()).train);
    CHECK(text_train_test::pool_names(*e.train_tasks) == split.train);
  }

  TEST_CASE("eval --eval-split val and --shots: tasks of the meta-validation classes, K as asked") {
    test::NullOut null;
    const fs::path dir = test::scratch("text", "eval-val");
    const fs::path csv = text_train_test::write_csv(dir, "tiny.csv", text_train_test::tiny_csv());
    TrainConfig c = tiny_run(csv, dir / "out", "maml", "bag");
    c.split = "0.3,0.5";
    run_train(c, {null.f, false, -1});
    const data::ClassSplit split = data::hash_class_split(text_train_test::tiny_labels(), 0.3, 0.5);
    REQUIRE(split.validation.size() >= 2);
    prepare(c);
    const auto val = text_validation_tasks(c);
    CHECK(text_train_test::pool_names(*val) == split.validation);
    const std::string checkpoint = (dir / "out" / "checkpoint.mgc").string();
    const EvalRequest on_val{.checkpoint = checkpoint, .eval_tasks = 6, .data = csv.string(), .eval_split = "val"};
    Experiment e = build_experiment(c);
    nn::load_checkpoint(checkpoint, *e.model, nullptr, e.learner->extra_parameters());
    meta::EvalOptions o;
    o.num_tasks = 6;
    o.inner_steps = *c.eval_inner_steps;
    o.report_steps = {0, 1, *c.eval_inner_steps};
    const meta::EvalResult direct = e.learner->test(*val, o);
    const meta::EvalResult r = run_eval(on_val, null.f);
    CHECK(r.metric.back().mean == direct.metric.back().mean);
    CHECK(run_eval({.checkpoint = checkpoint, .eval_tasks = 6, .data = csv.string(), .eval_split = "test"}, null.f)
              .metric.back()
              .mean == run_eval({.checkpoint = checkpoint, .eval_tasks = 6, .data = csv.string()}, null.f)
                           .metric.back()
                           .mean);
    // --shots: the tasks' K; the training tasks keep theirs.
    TrainConfig two = c;
    apply_text_eval_request({.checkpoint = checkpoint, .shots = 2}, two);
    CHECK(*two.shots == 2);
    CHECK(*two.train_shots == 1);
    CHECK(build_experiment(two).test_tasks->sample(0).support_x.shape()[0] == 4);
    CHECK(run_eval({.checkpoint = checkpoint, .eval_tasks = 6, .data = csv.string(), .shots = 2}, null.f)
              .metric.back()
              .n == 6);
    TrainConfig sine;
    CHECK_THROWS_WITH_AS(apply_text_eval_request({.checkpoint = "s.mgc", .eval_split = "val"}, sine),
                         "eval: --eval-split is for text checkpoints (clinc150, text-csv); s.mgc was trained on "
                         "sinusoid",
                         ValueError);
    CHECK_THROWS_WITH_AS(apply_text_eval_request({.checkpoint = "s.mgc", .shots = 2}, sine),
                         "eval: --shots is for text checkpoints (clinc150, text-csv); s.mgc was trained on sinusoid",
                         ValueError);
    CHECK_THROWS_WITH_AS(apply_text_eval_request({.checkpoint = checkpoint, .eval_split = "train"}, two),
                         "eval: --eval-split must be test or val, got 'train'", ValueError);
    CHECK_THROWS_WITH_AS(apply_text_eval_request({.checkpoint = checkpoint, .shots = 0}, two),
                         "eval: --shots must be an integer in [1, 10000], got '0'", ValueError);
  }

  TEST_CASE("a text run stopped and resumed ends where an uninterrupted one does") {
    test::NullOut null;
    const fs::path dir = test::scratch("text", "resume");
    const fs::path csv = text_train_test::write_csv(dir, "tiny.csv", text_train_test::tiny_csv());
    const TrainResult whole = run_train(tiny_run(csv, dir / "whole", "maml", "bag-counts"), {null.f, false, -1});
    const TrainResult part = run_train(tiny_run(csv, dir / "parts", "maml", "bag-counts"), {null.f, false, 2});
    CHECK_FALSE(part.finished);
    TrainConfig rest = tiny_run(csv, dir / "parts", "maml", "bag-counts");
    rest.resume = true;
    const TrainResult resumed = run_train(rest, {null.f, false, -1});
    CHECK(resumed.finished);
    CHECK(resumed.eval.metric.back().mean == whole.eval.metric.back().mean);
    CHECK(test::slurp(dir / "parts" / "checkpoint.mgc") == test::slurp(dir / "whole" / "checkpoint.mgc"));
  }

  TEST_CASE("--algo nearest-mean: the floor alone, results.txt only") {
    test::NullOut null;
    const fs::path dir = test::scratch("text", "floor");
    const fs::path csv = text_train_test::write_csv(dir, "tiny.csv", text_train_test::tiny_csv());
    const TrainResult r = run_train(tiny_run(csv, dir / "out", "nearest-mean", ""), {null.f, false, -1});
    CHECK(r.finished);
    CHECK(r.eval.metric_name == "accuracy");
    CHECK(r.eval.metric[0].n == 6);
    // Each class has its own verb and noun: the floor labels these queries right.
    CHECK(r.eval.metric[0].mean == 1.0);
    CHECK(test::slurp(dir / "out" / "results.txt") == format_eval(r.eval, "nearest-mean"));
    CHECK_FALSE(fs::exists(dir / "out" / "checkpoint.mgc"));
  }

  TEST_CASE("bad text input: the file, column, row, class or split is named; nothing is written") {
    test::NullOut null;
    const fs::path dir = test::scratch("text", "bad");
    const fs::path out = dir / "out";
    auto fails = [&](const TrainConfig& c, const std::string& message) {
      CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}), message.c_str(), DataError);
      CHECK_FALSE(fs::exists(out));
    };
    const fs::path missing = dir / "none.csv";
    fails(tiny_run(missing, out, "maml", "bag"), fmt::format("text-csv: --data {}: does not exist", missing.string()));
    const fs::path good = text_train_test::write_csv(dir, "good.csv", text_train_test::tiny_csv());
    TrainConfig column = tiny_run(good, out, "maml", "bag");
    column.label_column = "intent";
    fails(column, fmt::format("text-csv: {} has no column \"intent\" (columns: \"id\", \"text\", \"label\"); choose "
                              "one with --label-column",
                              good.string()));
    const fs::path row = text_train_test::write_csv(dir, "row.csv", "text,label\nhello,a\nhi,there,b\n");
    fails(tiny_run(row, out, "reptile", "cnn"), fmt::format("text-csv: {}:3: 3 fields, but the header has 2",
                                                           row.string()));
    TrainConfig ways = tiny_run(good, out, "maml", "bag");
    ways.ways = 20;
    const data::ClassSplit split = data::hash_class_split(text_train_test::tiny_labels());
    fails(ways, fmt::format("text-csv: {}: meta-training classes: episodes: 20-way tasks need at least 20 classes, "
                            "but the pool has {}",
                            good.string(), split.train.size()));
    // A class of the meta-test split with 2 texts, fewer than 1 shot + 2 queries.
    const std::string short_label = split.test[0];
    const fs::path few = text_train_test::write_csv(dir, "few.csv", text_train_test::tiny_csv(short_label));
    fails(tiny_run(few, out, "maml", "bag"),
          fmt::format("text-csv: {}: meta-test classes: episodes: 1-shot tasks with 2 queries need 3 examples per "
                      "class, but class {} has 2",
                      few.string(), short_label));
    fails(tiny_run(few, out, "nearest-mean", ""),
          fmt::format("text-csv: {}: meta-test classes: episodes: 1-shot tasks with 2 queries need 3 examples per "
                      "class, but class {} has 2",
                      few.string(), short_label));
    TrainConfig clinc;
    clinc.dataset = "clinc150";
    clinc.data = (dir / "no-clinc").string();
    clinc.out = out.string();
    fails(clinc, fmt::format("clinc150: --data {}: does not exist", *clinc.data));
    clinc.data.reset();
    const char* saved = std::getenv("METAGRAD_CLINC150");
    const std::string kept = saved ? saved : "";
    ::setenv("METAGRAD_CLINC150", (dir / "no-env").string().c_str(), 1);
    fails(clinc, fmt::format("clinc150: $METAGRAD_CLINC150 {}: does not exist", (dir / "no-env").string()));
    CHECK(clinc150_root_source(std::nullopt) == "$METAGRAD_CLINC150");
    ::unsetenv("METAGRAD_CLINC150");
    CHECK(clinc150_root_source(std::nullopt) ==
          "the default CLINC150 folder (pass --data PATH or set METAGRAD_CLINC150)");
    CHECK(clinc150_root(std::nullopt) == "../shared/data/clinc150");
    const DataRoot fallback = data_root(std::nullopt, "METAGRAD_CLINC150", "clinc150", "CLINC150");
    CHECK(fallback.path == "../shared/data/clinc150");
    CHECK(data_root(std::string("/d"), "METAGRAD_CLINC150", "x", "X").source == "--data");
    if (saved) ::setenv("METAGRAD_CLINC150", kept.c_str(), 1);
    // eval of a text-csv checkpoint needs the CSV again.
    const fs::path trained = dir / "trained";
    TrainConfig ok = tiny_run(good, trained, "maml", "bag");
    ok.iterations = 1;
    run_train(ok, {null.f, false, -1});
    CHECK_THROWS_WITH_AS(run_eval({.checkpoint = (trained / "checkpoint.mgc").string(), .eval_tasks = 2}, null.f),
                         "text-csv: checkpoints do not record the CSV file; pass --data FILE", DataError);
  }

  TEST_CASE("text flags: each one that does nothing, or a bad value, is named") {
    auto invalid = [](auto edit, const char* message) {
      TrainConfig c;
      edit(c);
      CHECK_THROWS_WITH_AS(prepare(c), message, ValueError);
    };
    invalid([](TrainConfig& c) { c.model = "bag"; },
            "train: --model is for --dataset clinc150 or text-csv, not sinusoid");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.text_column = "t"; },
            "train: --text-column is for --dataset text-csv, not clinc150");
    invalid([](TrainConfig& c) { c.dataset = "omniglot", c.label_column = "l"; },
            "train: --label-column is for --dataset text-csv, not omniglot");
    for (const char* bad : {"domain", "0.6", "0.6,", ",0.2", "a,0.2", "0.6,0.2x", "-0.1,0.2", "0.6,1.5", "0.8,0.3"}) {
      CAPTURE(bad);
      const std::string split = bad;
      invalid([&split](TrainConfig& c) { c.dataset = "text-csv", c.data = "x.csv", c.split = split; },
              fmt::format("train: --split of text-csv must be TRAIN,VAL class fractions in [0, 1] summing to at "
                          "most 1 (default 0.6,0.2; the rest is meta-test), got '{}'",
                          split)
                  .c_str());
    }
    invalid([](TrainConfig& c) { c.dataset = "text-csv"; }, "train: --dataset text-csv needs --data FILE");
    invalid([](TrainConfig& c) { c.dataset = "omniglot", c.algo = "nearest-mean"; },
            "train: --algo nearest-mean is for --dataset clinc150 or text-csv, not omniglot");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.algo = "nearest-mean", c.model = "cnn"; },
            "train: --model does nothing with --algo nearest-mean (it has no model)");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.model = "lstm"; },
            "train: --model must be bag, bag-counts or cnn, got 'lstm'");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.split = "vinyals"; },
            "train: --split must be stratified or domain, got 'vinyals'");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.algo = "protonet", c.model = "bag-counts"; },
            "train: --algo protonet needs --model bag or cnn (bag-counts has no body apart from its head)");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.strided = true; },
            "train: --strided is for --dataset omniglot, not clinc150");
    invalid([](TrainConfig& c) { c.dataset = "clinc150", c.ways = 1; },
            "train: --ways must be an integer in [2, 1000], got '1'");
    // A model from a checkpoint that no run of its dataset can have.
    TrainConfig sine;
    resolve_defaults(sine);
    sine.model = "conv4";
    CHECK_THROWS_WITH_AS(validate(sine), "train: --model must be mlp for --dataset sinusoid, got 'conv4'", ValueError);
  }

  TEST_CASE("text defaults and the dataset and model names") {
    TrainConfig c;
    c.dataset = "clinc150";
    resolve_defaults(c);
    CHECK(*c.model == "bag");
    CHECK(*c.split == "stratified");
    CHECK(*c.ways == 5);
    CHECK(*c.shots == 1);
    CHECK(*c.queries == 15);
    CHECK(*c.meta_batch == 8);
    CHECK(*c.inner_lr == 0.4);
    CHECK(is_text_dataset("text-csv"));
    CHECK_FALSE(is_text_dataset("omniglot"));
    CHECK(model_names("clinc150") == "bag, bag-counts or cnn");
    CHECK(model_names("omniglot") == "conv4");
    CHECK(clinc150_root(std::string("/x")) == "/x");
    // Old checkpoints have no model or columns: the defaults fill them.
    TrainConfig old;
    old.dataset = "omniglot";
    resolve_defaults(old);
    CHECK(*old.model == "conv4");
    CHECK(*old.text_column == "text");
  }

  TEST_CASE("CLINC150: train, floor and the domain split from ../shared/data/clinc150") {
    const auto root = data::testing::real_clinc150_root();
    if (!root) return;
    test::NullOut null;
    const fs::path dir = test::scratch("text", "clinc");
    TrainConfig c;
    c.dataset = "clinc150";
    c.data = root->string();
    c.iterations = 2;
    c.meta_batch = 2;
    c.eval_tasks = 20;
    c.threads = 1;
    c.model = "cnn";
    c.out = (dir / "maml").string();
    const TrainResult r = run_train(c, {null.f, false, -1});
    CHECK(r.finished);
    REQUIRE(r.floor.has_value());
    // 5-way 1-shot on meta-test intents: well above chance (0.2) with no training at all.
    CHECK(r.floor->metric[0].mean > 0.5);
    // Beside a CNN (a word-only tokenizer) the floor still counts words and n-grams: the same
    // number as --algo nearest-mean on the same tasks.
    c.algo = "nearest-mean";
    c.model.reset();
    c.out = (dir / "floor-stratified").string();
    CHECK(run_train(c, {null.f, false, -1}).eval.metric[0].mean == r.floor->metric[0].mean);
    c.split = "domain";
    c.eval_tasks = 50;
    c.out = (dir / "floor").string();
    const TrainResult f = run_train(c, {null.f, false, -1});
    CHECK(f.eval.metric[0].n == 50);
    CHECK(f.eval.metric[0].mean > 0.4);
  }
}
