#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "autograd/anomaly.h"
#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "tests/tools/fixtures.h"
#include "tools/figures.h"
#include "tools/metrics_log.h"
#include "tools/progress.h"
#include "tools/train.h"
#include "tools/train_config.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) { return test::scratch("tools", name); }

using test::slurp;

TrainConfig small_run(const fs::path& out, const std::string& algo) { return test::small_run(out, algo, 12, 3, 8); }
using test::NullOut;

// Learning rates inside the flags' ranges that make a small sinusoid run overflow
// after a few finite steps.
constexpr double kDivergingInnerLr = 0.05;
constexpr double kDivergingMetaLr = 30.0;

}  // namespace

TEST_SUITE("tools") {
  TEST_CASE("an interrupted and resumed run ends bit-identical to an uninterrupted one") {
    NullOut null;
    for (const std::string run : {"maml", "reptile", "reptile-adam", "metasgd", "anil-fo", "maml++"}) {
      CAPTURE(run);
      const std::string algo = run.substr(0, run.find('-'));
      // reptile-adam: Adam's kept second moment and minibatches (checkpointed state, seeded order).
      auto configure = [&](const fs::path& out) {
        TrainConfig c = small_run(out, algo);
        c.learn_inner_lr = algo == "maml";
        c.first_order = run == "anil-fo";
        // maml++: the resumed part crosses DA's switch (5) and the end of MSL's annealing (8).
        if (algo == "maml++") c.inner_steps = 2, c.mamlpp.first_order_until = 5, c.mamlpp.msl_iterations = 8;
        if (run == "reptile-adam") c.inner_optimizer = "adam", c.inner_batch = 3, c.inner_lr = 0.01;
        return c;
      };
      const fs::path whole = scratch("whole-" + run), parts = scratch("parts-" + run);
      TrainConfig a = configure(whole);
      const TrainResult uninterrupted = run_train(a, {null.f, false, -1});
      CHECK(uninterrupted.finished);

      TrainConfig b = configure(parts);
      const TrainResult stopped = run_train(b, {null.f, false, 6});  // "crash" after 6 (last checkpoint at 4)
      CHECK_FALSE(stopped.finished);
      CHECK(stopped.iterations_done == 6);
      b.resume = true;
      const TrainResult resumed = run_train(b, {null.f, false, -1});
      CHECK(resumed.finished);

      const nn::Checkpoint x = nn::read_checkpoint((whole / "checkpoint.mgc").string());
      const nn::Checkpoint y = nn::read_checkpoint((parts / "checkpoint.mgc").string());
      CHECK(x.step == 12);
      CHECK(y.step == 12);
      REQUIRE(x.tensors.size() == y.tensors.size());
      for (std::size_t i = 0; i < x.tensors.size(); ++i) {
        CAPTURE(x.tensors[i].name);
        CHECK(x.tensors[i].name == y.tensors[i].name);
        CHECK(std::memcmp(x.tensors[i].tensor.raw_data(), y.tensors[i].tensor.raw_data(), x.tensors[i].tensor.nbytes()) ==
              0);
      }
      CHECK(slurp(whole / "metrics.csv") == slurp(parts / "metrics.csv"));
      REQUIRE_FALSE(resumed.eval.metric.empty());
      CHECK(resumed.eval.metric.back().mean == uninterrupted.eval.metric.back().mean);
      fs::remove_all(whole);
      fs::remove_all(parts);
    }
  }

  TEST_CASE("a finished run writes its files and evaluates; eval reproduces the numbers") {
    NullOut null;
    const fs::path out = scratch("files");
    TrainConfig c = small_run(out, "maml");
    c.baseline = true;
    const TrainResult r = run_train(c, {null.f, false, -1});
    REQUIRE(r.baseline.has_value());
    CHECK(r.eval.steps == std::vector<int>{0, 1, 10});
    for (const char* f : {"checkpoint.mgc", "metrics.csv", "results.txt", "learning_curve.svg", "sinusoid_fit.svg"})
      CHECK(fs::exists(out / f));
    CHECK(slurp(out / "sinusoid_fit.svg").find("10 grad steps") != std::string::npos);
    CHECK(slurp(out / "results.txt").find("pretrained") != std::string::npos);
    const meta::EvalResult again =
        run_eval({.checkpoint = (out / "checkpoint.mgc").string(), .eval_tasks = 8}, null.f);
    CHECK(again.metric.back().mean == r.eval.metric.back().mean);
    fs::remove_all(out);
  }

  TEST_CASE("after meta-training, one MAML step fits a new sinusoid far better than the pretrained baseline") {
    // The MAML paper's Figure 2 claim, on a short run (the README's main job runs the paper's 70,000 iterations of batch 25).
    NullOut null;
    const fs::path out = scratch("figure2");
    TrainConfig c = small_run(out, "maml");
    c.iterations = 1000;
    c.meta_batch = 10;
    c.eval_tasks = 200;
    c.checkpoint_every = 1000;
    c.baseline = true;
    const TrainResult r = run_train(c, {null.f, false, -1});
    REQUIRE(r.baseline.has_value());
    REQUIRE(r.eval.steps == std::vector<int>{0, 1, 10});
    const meta::Summary maml = r.eval.metric[1], pretrained = r.baseline->metric[1];
    CAPTURE(maml.mean);
    CAPTURE(pretrained.mean);
    // The 95% intervals do not overlap, and adaptation helps MAML more than the baseline.
    CHECK(maml.mean + maml.ci95 < pretrained.mean - pretrained.ci95);
    CHECK(r.eval.metric[0].mean - maml.mean > r.baseline->metric[0].mean - pretrained.mean);
    fs::remove_all(out);
  }

  TEST_CASE("resume refuses a checkpoint of another experiment, or none") {
    NullOut null;
    const fs::path out = scratch("mismatch");
    TrainConfig c = small_run(out, "maml");
    c.resume = true;
    CHECK_THROWS_WITH_AS(
        run_train(c, {null.f, false, -1}),
        doctest::Contains(
            fmt::format("train: --resume: checkpoint {}: does not exist", (out / "checkpoint.mgc").string()).c_str()),
        DataError);
    c.resume = false;
    run_train(c, {null.f, false, 4});
    c.resume = true;
    c.inner_lr = 0.5;
    CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                         doctest::Contains("has config.inner_lr = 0.01, this run has 0.5"), DataError);
    fs::remove_all(out);
  }

  TEST_CASE("defaults follow the papers and validation names the flag") {
    TrainConfig s;
    resolve_defaults(s);
    CHECK(s.shots == 10);
    CHECK(s.meta_batch == 25);
    CHECK(s.iterations == 70000);
    CHECK(s.threads == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    CHECK(s.inner_lr == 0.01);
    TrainConfig o;
    o.dataset = "omniglot";
    resolve_defaults(o);
    CHECK(o.ways == 5);
    CHECK(o.inner_lr == 0.4);
    CHECK(o.meta_batch == 32);
    CHECK(o.inner_optimizer == "adam");  // Reptile's Omniglot inner loop; sinusoid: sgd
    CHECK(s.inner_optimizer == "sgd");
    CHECK(o.train_shots == o.shots);
    CHECK(o.inner_batch == 0);
    TrainConfig r;
    r.dataset = "omniglot", r.algo = "reptile", r.shots = 5;
    resolve_defaults(r);
    CHECK(r.train_shots == 10);  // Reptile §5: 10 training shots, inner minibatches of 10
    CHECK(r.inner_batch == 10);
    CHECK(r.queries == 5);
    auto invalid = [](auto edit, const char* message) {
      TrainConfig c;
      edit(c);
      CHECK_THROWS_WITH_AS(prepare(c), doctest::Contains(message), ValueError);
    };
    invalid([](TrainConfig& c) { c.dataset = "mnist"; },
            "train: --dataset must be sinusoid, omniglot, nav2d, clinc150 or text-csv, got 'mnist'");
    invalid([](TrainConfig& c) { c.algo = "sgd"; },
            "train: --algo must be maml, fomaml, reptile, pretrain, metasgd, maml++, anil, protonet or nearest-mean, got 'sgd'");
    invalid([](TrainConfig& c) { c.algo = "reptile", c.inner_optimizer = "rmsprop"; },
            "train: --inner-optimizer must be sgd or adam, got 'rmsprop'");
    invalid([](TrainConfig& c) { c.dataset = "omniglot", c.ways = 0; },
            "train: --ways must be an integer in [2, 1000], got '0'");
    invalid([](TrainConfig& c) { c.shots = 0; }, "train: --shots must be an integer in [1, 10000], got '0'");
    invalid([](TrainConfig& c) { c.queries = 0; }, "train: --queries must be an integer in [1, 10000], got '0'");
    invalid([](TrainConfig& c) { c.dataset = "omniglot", c.shots = 10, c.queries = 15; },
            "train: --shots 10 + --queries 15 exceed the 20 drawings of an Omniglot class");
    invalid([](TrainConfig& c) { c.train_shots = 0; },
            "train: --train-shots must be an integer in [1, 10000], got '0'");
    invalid([](TrainConfig& c) { c.dataset = "omniglot", c.train_shots = 10, c.queries = 15; },
            "train: --train-shots 10 + --queries 15 exceed the 20 drawings of an Omniglot class");
    invalid([](TrainConfig& c) { c.inner_batch = 4; }, "train: --inner-batch is for --algo reptile, not maml");
    invalid([](TrainConfig& c) { c.algo = "reptile", c.inner_optimizer = "sgd", c.reset_inner_adam = true; },
            "train: --reset-inner-adam is for --algo reptile with --inner-optimizer adam");
    invalid([](TrainConfig& c) { c.inner_steps = 0; },
            "train: --inner-steps must be an integer in [1, 10000], got '0'");
    invalid([](TrainConfig& c) { c.eval_inner_steps = 0; },
            "train: --eval-inner-steps must be an integer in [1, 10000], got '0'");
    invalid([](TrainConfig& c) { c.meta_batch = 0; }, "train: --meta-batch must be an integer in [1, 10000], got '0'");
    invalid([](TrainConfig& c) { c.inner_lr = 0; }, "train: --inner-lr must be a finite number in (0, 1000], got '0'");
    invalid([](TrainConfig& c) { c.meta_lr = 0; }, "train: --meta-lr must be a finite number in (0, 1000], got '0'");
    invalid([](TrainConfig& c) { c.iterations = 0; },
            "train: --iterations must be an integer in [1, 1000000000], got '0'");
    invalid([](TrainConfig& c) { c.threads = 0; },
            "train: --threads must be an integer in [1, 1024], got '0' (this machine has");
    invalid([](TrainConfig& c) { c.eval_tasks = 0; },
            "train: --eval-tasks must be an integer in [1, 1000000], got '0'");
    invalid([](TrainConfig& c) { c.checkpoint_every = 0; },
            "train: --checkpoint-every must be an integer in [1, 1000000000], got '0'");
    invalid([](TrainConfig& c) { c.log_every = 0; },
            "train: --log-every must be an integer in [1, 1000000000], got '0'");
    invalid([](TrainConfig& c) { c.out = ""; }, "train: --out must name a folder");
    // (Edited after resolving: GCC 12 warns wrongly about assigning to an empty optional<string> here.)
    TrainConfig split;
    split.dataset = "omniglot";
    resolve_defaults(split);
    *split.split = "x";
    CHECK_THROWS_WITH_AS(validate(split), doctest::Contains("train: --split must be vinyals or official, got 'x'"),
                         ValueError);
  }

  TEST_CASE("the config survives a round trip through checkpoint metadata") {
    TrainConfig c;
    c.dataset = "omniglot";
    c.seed = 0xFFFFFFFFFFFFFFF1ull;
    c.inner_lr = 0.123456789012345;
    c.strided = true;
    c.reset_inner_adam = true;
    resolve_defaults(c);
    const TrainConfig back = from_metadata(to_metadata(c));
    CHECK(to_metadata(back) == to_metadata(c));
    CHECK(back.seed == c.seed);
    auto md = to_metadata(c);
    md.erase(md.begin());
    CHECK_THROWS_WITH_AS(from_metadata(md), doctest::Contains("checkpoint: metadata has no 'config.dataset'"), DataError);
    // A checkpoint written before --inner-optimizer existed still loads; the default fills it.
    md = to_metadata(c);
    std::erase_if(md, [](const auto& kv) { return kv.first == "config.inner_optimizer"; });
    TrainConfig old = from_metadata(md);
    CHECK_FALSE(old.inner_optimizer.has_value());
    resolve_defaults(old);
    CHECK(old.inner_optimizer == "adam");
    // Likewise before --train-shots and --inner-batch: the training tasks had --shots, whole-set inner steps.
    CHECK(back.train_shots == c.train_shots);
    CHECK(back.inner_batch == c.inner_batch);
    CHECK(back.reset_inner_adam);
    md = to_metadata(c);
    std::erase_if(md, [](const auto& kv) {
      return kv.first == "config.train_shots" || kv.first == "config.inner_batch" || kv.first == "config.reset_inner_adam";
    });
    old = from_metadata(md);
    resolve_defaults(old);
    CHECK(old.train_shots == old.shots);
    CHECK(old.inner_batch == 0);
    CHECK_FALSE(old.reset_inner_adam);
    md = to_metadata(c);
    for (auto& [k, v] : md)
      if (k == "config.ways") v = "five";
    CHECK_THROWS_WITH_AS(from_metadata(md), doctest::Contains("config.ways: expected a number, got 'five'"), DataError);
    md = to_metadata(c);
    for (auto& [k, v] : md)
      if (k == "config.strided") v = "yes";
    CHECK_THROWS_WITH_AS(from_metadata(md), doctest::Contains("config.strided: expected true or false, got 'yes'"),
                         DataError);
  }

  TEST_CASE("omniglot_root: flag, then environment, then beside the checkout") {
    CHECK(omniglot_root("/data/omni") == "/data/omni");
    ::setenv("METAGRAD_OMNIGLOT", "/env/omni", 1);
    CHECK(omniglot_root(std::nullopt) == "/env/omni");
    CHECK(omniglot_root_source(std::nullopt) == "$METAGRAD_OMNIGLOT");
    ::unsetenv("METAGRAD_OMNIGLOT");
    CHECK(omniglot_root(std::nullopt) == "../shared/data/omniglot");
    CHECK(omniglot_root_source("/data/omni") == "--data");
  }

  TEST_CASE("a diverging run stops naming the iteration and tensor, keeps the last finite checkpoint, and resumes") {
    NullOut null;
    for (const std::string algo : {"maml", "reptile"}) {
      CAPTURE(algo);
      const fs::path out = scratch("diverge-" + algo);
      TrainConfig c = small_run(out, algo);  // 12 iterations, a checkpoint every 4
      // Learning rates that are huge but finite: the run overflows within a few steps.
      c.inner_lr = kDivergingInnerLr;
      c.meta_lr = kDivergingMetaLr;
      std::int64_t failed = -1;
      std::string message;
      try {
        (void)run_train(c, {null.f, false, -1});
      } catch (const DivergenceError& e) {
        failed = e.iteration;
        message = e.what();
      }
      REQUIRE(failed >= 1);  // a few finite steps first, so the kept state is not the initial one
      CHECK(failed < 12);
      CHECK(message.find(fmt::format("{}: iteration {}: the ", algo, failed)) == 0);
      CHECK(message.find("; the update was not applied") != std::string::npos);
      // The checkpoint is the state after the last finite iteration, and metrics.csv
      // holds exactly its rows.
      const nn::Checkpoint kept = nn::read_checkpoint((out / "checkpoint.mgc").string());
      CHECK(kept.step == failed);
      for (const nn::NamedTensor& t : kept.tensors) CHECK(all_finite(t.tensor));
      for (const nn::NamedTensor& t : kept.optimizer.tensors) CHECK(all_finite(t.tensor));
      const std::string csv = slurp(out / "metrics.csv");
      CHECK(std::count(csv.begin(), csv.end(), '\n') == failed + 1);  // the header, then one row per iteration
      CHECK(csv.find("nan") == std::string::npos);
      // --resume accepts the two, and the same settings diverge at the same iteration.
      c.resume = true;
      CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                           doctest::Contains(fmt::format("{}: iteration {}: ", algo, failed).c_str()), DivergenceError);
      CHECK(nn::read_checkpoint((out / "checkpoint.mgc").string()).step == failed);
      fs::remove_all(out);
    }
  }

  TEST_CASE("--detect-anomaly names the op that made the first non-finite value; the checkpoint stays finite") {
    NullOut null;
    const fs::path out = scratch("anomaly");
    TrainConfig c = small_run(out, "maml");
    c.inner_lr = kDivergingInnerLr;
    c.meta_lr = kDivergingMetaLr;
    RunOptions run{null.f, false, -1};
    run.detect_anomaly = true;
    std::string message;
    try {
      (void)run_train(c, run);
    } catch (const AnomalyError& e) {
      message = e.what();
    }
    CHECK(message.find("anomaly: ") == 0);
    CHECK(message.find(" at tape position %") != std::string::npos);
    CHECK_FALSE(anomaly_enabled());  // the run's mode ended with it
    // An optimizer state that overflowed (Adam's g² in float32, while the loss and the
    // meta-gradient are finite) is caught at the next checkpoint, which is not written.
    const fs::path adam = scratch("adam-overflow");
    TrainConfig d = small_run(adam, "maml");
    d.inner_lr = kDivergingInnerLr;
    d.meta_lr = 3.0;
    d.checkpoint_every = 1;
    CHECK_THROWS_WITH_AS(run_train(d, {null.f, false, -1}),
                         doctest::Contains("optimizer state v.0 holds inf; not written"), DivergenceError);
    const nn::Checkpoint last = nn::read_checkpoint((adam / "checkpoint.mgc").string());
    const std::string rows = slurp(adam / "metrics.csv");
    CHECK(std::count(rows.begin(), rows.end(), '\n') == last.step + 1);
    fs::remove_all(adam);
    const nn::Checkpoint kept = nn::read_checkpoint((out / "checkpoint.mgc").string());
    for (const nn::NamedTensor& t : kept.tensors) CHECK(all_finite(t.tensor));
    const std::string csv = slurp(out / "metrics.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == kept.step + 1);
    fs::remove_all(out);
  }

  TEST_CASE("metrics.csv keeps the rows before the resume point") {
    const fs::path dir = scratch("csv");
    const std::string path = (dir / "metrics.csv").string();
    {
      MetricsLog log(path, "mse");
      for (int i = 0; i < 5; ++i) log.append({i, 1.0 / (i + 1), 0.5});
      CHECK_FALSE(fs::exists(path));  // nothing is written before save()
      log.save();
    }
    CHECK(slurp(path).rfind("iteration,loss,mse\n0,1,0.5\n", 0) == 0);
    const MetricsLog again = MetricsLog::resume(path, "mse", 3);
    CHECK(again.rows().size() == 3);
    CHECK(again.rows().back().iteration == 2);
    CHECK(MetricsLog::resume(path, "mse", 5).rows().size() == 5);
    CHECK(MetricsLog::resume((dir / "none.csv").string(), "mse", 0).rows().empty());  // a fresh start needs no file
    const MetricsLog nowhere((dir / "no" / "such" / "m.csv").string(), "mse");
    CHECK_THROWS_WITH_AS(nowhere.save(), doctest::Contains("write_text_file: cannot write"), DataError);
    fs::remove_all(dir);
  }

  TEST_CASE("progress lines and durations") {
    CHECK(Progress::format_duration(62) == "1:02");
    CHECK(Progress::format_duration(3723) == "1:02:03");
    char buffer[512] = {};
    std::FILE* f = fmemopen(buffer, sizeof buffer - 1, "w");
    Progress p(0, 4, "mse", 2, f, false);
    for (int i = 0; i < 4; ++i) p.update(i, 0.5, 0.25);
    p.finish();
    std::fclose(f);
    const std::string text(buffer);
    CHECK(text.find("iteration       2/4") != std::string::npos);
    CHECK(text.find("iteration       4/4") != std::string::npos);
    CHECK(text.find("loss 0.5000  mse 0.2500") != std::string::npos);
    CHECK(text.find("1/4") == std::string::npos);
  }

  TEST_CASE("smoothing is a bias-corrected moving average") {
    const std::vector<double> s = smooth({1.0, 1.0, 1.0}, 10);
    for (double v : s) CHECK(v == doctest::Approx(1.0));
    const std::vector<double> t = smooth({0.0, 10.0}, 1);
    CHECK(t[1] == 10.0);
  }
}
