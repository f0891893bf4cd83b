// Issue 15, the command line and the files it writes: each class of bad input
// (tests/README.md has the table), several inputs of each class.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "tests/tools/fixtures.h"
#include "tools/atomic_file.h"
#include "tools/metrics_log.h"
#include "tools/numbers.h"
#include "tools/paths.h"
#include "tools/train.h"
#include "tools/train_config.h"

using namespace mg;
using namespace mg::tools;
namespace fs = std::filesystem;

namespace {

fs::path bad_scratch(const std::string& name) { return test::scratch("bad", name); }

using test::slurp;

void put(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// Files in `dir` whose name contains ".tmp": what a write that failed half-way would leave.
int temp_files(const fs::path& dir) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp") != std::string::npos) ++n;
  return n;
}

TrainConfig small_run(const fs::path& out) { return test::small_run(out, "maml", 8, 2, 4); }
using test::NullOut;

// Writes beyond `bytes` fail with EFBIG (as on a full disk) while it lives.
struct FileSizeLimit {
  rlimit saved{};
  void (*old_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &saved);
    rlimit lower = saved;
    lower.rlim_cur = bytes;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
  }
};

}  // namespace

TEST_SUITE("bad-input") {
  TEST_CASE("numbers: the whole text, in the type, finite, in range; the error names flag, value and range") {
    const Bounds<int> ways{2, 1000};
    CHECK(parse_number<int>("--ways", "5", ways) == 5);
    CHECK(parse_number<int>("--ways", "1000", ways) == 1000);
    for (const char* bad : {"", "12abc", "abc", " 5", "5 ", "+5", "5.0", "1e3", "0x10", "-1", "0", "1", "1001",
                            "2147483648", "99999999999999999999", "-99999999999999999999", "nan", "inf", "--5"}) {
      CAPTURE(bad);
      CHECK_THROWS_WITH_AS(
          parse_number<int>("--ways", bad, ways),
          doctest::Contains(fmt::format("--ways must be an integer in [2, 1000], got '{}'", bad).c_str()), ValueError);
    }
    const Bounds<double> lr = limits::kLearningRate;
    CHECK(parse_number<double>("--inner-lr", "1e-3", lr) == 1e-3);
    CHECK(parse_number<double>("--inner-lr", "1000", lr) == 1000.0);
    for (const char* bad : {"", "nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e999", "-1e999", "1e-400", "0", "-0",
                            "-0.01", "0.01x", "1000.5", "1,5", "0x1p-3"}) {
      CAPTURE(bad);
      CHECK_THROWS_WITH_AS(
          parse_number<double>("--inner-lr", bad, lr),
          doctest::Contains(fmt::format("--inner-lr must be a finite number in (0, 1000], got '{}'", bad).c_str()),
          ValueError);
    }
    // 64-bit flags: no wrap-around of "-1" to 2^64 - 1, no saturation at the top.
    CHECK(parse_number<std::uint64_t>("--seed", "18446744073709551615", limits::kSeed) == 18446744073709551615ull);
    for (const char* bad : {"-1", "18446744073709551616", "1e5", ""})
      CHECK_THROWS_WITH_AS(
          parse_number<std::uint64_t>("--seed", bad, limits::kSeed),
          doctest::Contains(
              fmt::format("--seed must be an integer in [0, 18446744073709551615], got '{}'", bad).c_str()),
          ValueError);
    for (const char* bad : {"0", "-5", "1000000001", "9223372036854775808", "70k"})
      CHECK_THROWS_WITH_AS(
          parse_number<std::int64_t>("--iterations", bad, limits::kIterations),
          doctest::Contains(fmt::format("--iterations must be an integer in [1, 1000000000], got '{}'", bad).c_str()),
          ValueError);
    // An absurd thread count names the limit and the machine.
    for (const char* bad : {"1025", "5000", "100000", "0", "-1"})
      CHECK_THROWS_WITH_AS(
          parse_number<int>("--threads", bad, limits::kThreads, threads_note()),
          doctest::Contains(
              fmt::format("--threads must be an integer in [1, 1024], got '{}' (this machine has", bad).c_str()),
          ValueError);
  }

  TEST_CASE("no typeable sentinel: -1 (or any out-of-range value) is an error, never the default") {
    // Before: a negative value meant "unset" and silently became the default.
    auto rejected = [](const std::string& dataset, const std::string& algo, auto edit, const std::string& message) {
      TrainConfig c;
      c.dataset = dataset;
      c.algo = algo;
      edit(c);
      CAPTURE(message);
      CHECK_THROWS_WITH_AS(prepare(c), doctest::Contains(message.c_str()), ValueError);
    };
    rejected(
        "omniglot", "maml", [](TrainConfig& c) { c.ways = -1; },
        "train: --ways must be an integer in [2, 1000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.shots = -1; },
        "train: --shots must be an integer in [1, 10000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.queries = -3; },
        "train: --queries must be an integer in [1, 10000], got '-3'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.train_shots = -1; },
        "train: --train-shots must be an integer in [1, 10000], got '-1'");
    rejected(
        "sinusoid", "reptile", [](TrainConfig& c) { c.inner_batch = -1; },
        "train: --inner-batch must be an integer in [0, 10000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.inner_steps = -1; },
        "train: --inner-steps must be an integer in [1, 10000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.eval_inner_steps = -1; },
        "train: --eval-inner-steps must be an integer in [1, 10000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.meta_batch = -1; },
        "train: --meta-batch must be an integer in [1, 10000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.inner_lr = -1; },
        "train: --inner-lr must be a finite number in (0, 1000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.meta_lr = -1; },
        "train: --meta-lr must be a finite number in (0, 1000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.meta_lr = std::numeric_limits<double>::infinity(); },
        "train: --meta-lr must be a finite number in (0, 1000], got 'inf'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.inner_lr = std::numeric_limits<double>::quiet_NaN(); },
        "train: --inner-lr must be a finite number in (0, 1000], got 'nan'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.iterations = -1; },
        "train: --iterations must be an integer in [1, 1000000000], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.threads = -1; },
        "train: --threads must be an integer in [1, 1024], got '-1'");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.threads = 4096; },
        "train: --threads must be an integer in [1, 1024], got '4096' (this machine has");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.eval_tasks = -1; },
        "train: --eval-tasks must be an integer in [1, 1000000], got '-1'");
    // A value that is given is kept even when it equals what used to be the sentinel's neighbour.
    TrainConfig zero_batch;
    zero_batch.algo = "reptile";
    zero_batch.dataset = "omniglot";
    zero_batch.inner_batch = 0;  // 0: whole support sets, not the Omniglot default of 10
    prepare(zero_batch);
    CHECK(*zero_batch.inner_batch == 0);
  }

  TEST_CASE("flags that do nothing for the dataset or algorithm are named") {
    auto rejected = [](const std::string& dataset, const std::string& algo, auto edit, const char* message) {
      TrainConfig c;
      c.dataset = dataset;
      c.algo = algo;
      edit(c);
      CHECK_THROWS_WITH_AS(prepare(c), doctest::Contains(message), ValueError);
    };
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.ways = 5; },
        "train: --ways is for --dataset omniglot, not sinusoid");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.split = "vinyals"; },
        "train: --split is for --dataset omniglot, not sinusoid");
    rejected(
        "sinusoid", "reptile", [](TrainConfig& c) { c.data = "/data/omniglot"; },
        "train: --data is for --dataset omniglot, not sinusoid");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.strided = true; },
        "train: --strided is for --dataset omniglot, not sinusoid");
    rejected(
        "omniglot", "maml", [](TrainConfig& c) { c.baseline = false; },
        "train: --no-baseline is for --dataset sinusoid, not omniglot");
    rejected(
        "sinusoid", "pretrain", [](TrainConfig& c) { c.baseline = false; },
        "train: --no-baseline does nothing with --algo pretrain");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.inner_batch = 0; },
        "train: --inner-batch is for --algo reptile, not maml");
    rejected(
        "omniglot", "fomaml", [](TrainConfig& c) { c.inner_batch = 10; },
        "train: --inner-batch is for --algo reptile, not fomaml");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.inner_optimizer = "adam"; },
        "train: --inner-optimizer is for --algo reptile, not maml");
    rejected(
        "sinusoid", "pretrain", [](TrainConfig& c) { c.inner_optimizer = "sgd"; },
        "train: --inner-optimizer is for --algo reptile, not pretrain");
    rejected(
        "sinusoid", "reptile", [](TrainConfig& c) { c.learn_inner_lr = true; },
        "train: --learn-inner-lr is for --algo maml or fomaml, not reptile");
    rejected(
        "sinusoid", "pretrain", [](TrainConfig& c) { c.learn_inner_lr = true; },
        "train: --learn-inner-lr is for --algo maml or fomaml, not pretrain");
    rejected(
        "sinusoid", "pretrain", [](TrainConfig& c) { c.inner_steps = 3; },
        "train: --inner-steps is for --algo maml, fomaml or reptile, not pretrain");
    rejected(
        "sinusoid", "maml", [](TrainConfig& c) { c.reset_inner_adam = true; },
        "train: --reset-inner-adam is for --algo reptile with --inner-optimizer adam");
    // A checkpoint's settings (every one resolved) evaluate without tripping these checks.
    // As run_eval: what a checkpoint does not record (--threads) is resolved again. (Not
    // resolving it dereferenced an empty optional: a test that passed by the luck of the
    // heap until MALLOC_PERTURB_ under ASan gave it -85904896 threads.)
    TrainConfig c;
    resolve_defaults(c);
    TrainConfig back = from_metadata(to_metadata(c));
    CHECK_FALSE(back.threads.has_value());
    resolve_defaults(back);
    CHECK_NOTHROW(validate(back));
  }

  TEST_CASE("paths of the wrong kind: one clear error naming the flag, the path and the problem") {
    const fs::path dir = bad_scratch("paths");
    const fs::path file = dir / "file.txt", fifo = dir / "fifo", missing = dir / "missing";
    put(file, "x");
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    auto fails = [](const fs::path& p, PathUse use, const std::string& problem) {
      CAPTURE(p);
      CHECK_THROWS_WITH_AS(check_path("eval: --checkpoint", p.string(), use),
                           doctest::Contains(fmt::format("eval: --checkpoint {}: {}", p.string(), problem).c_str()),
                           DataError);
    };
    // Where a file is expected.
    check_path("x", file.string(), PathUse::kInputFile);
    fails(dir, PathUse::kInputFile, "is a folder; expected a file");
    fails(fifo, PathUse::kInputFile, "is a FIFO (named pipe); expected a file");
    fails("/dev/null", PathUse::kInputFile, "is a character device; expected a file");
    fails(missing, PathUse::kInputFile, "does not exist");
    fails(file / "below", PathUse::kInputFile, "a part of the path before the last is not a folder");
    if (fs::exists("/dev/loop0") && fs::is_block_file("/dev/loop0"))
      fails("/dev/loop0", PathUse::kInputFile, "is a block device; expected a file");
    if (::geteuid() != 0) {  // root reads anything
      const fs::path locked = dir / "locked";
      put(locked, "x");
      fs::permissions(locked, fs::perms::none);
      fails(locked, PathUse::kInputFile, "cannot be read: Permission denied");
    }
    CHECK_THROWS_WITH_AS(check_path("eval: --checkpoint", "", PathUse::kInputFile),
                         doctest::Contains("eval: --checkpoint: the path is empty"), DataError);
    // Where a folder is expected.
    check_path("x", dir.string(), PathUse::kInputFolder);
    fails(file, PathUse::kInputFolder, "is a regular file; expected a folder");
    fails(fifo, PathUse::kInputFolder, "is a FIFO (named pipe); expected a folder");
    fails("/dev/null", PathUse::kInputFolder, "is a character device; expected a folder");
    fails(missing, PathUse::kInputFolder, "does not exist");
    // Output folders are created; one that cannot be made or cannot take files is refused.
    check_path("x", (dir / "new" / "deeper").string(), PathUse::kOutputFolder);
    CHECK(fs::is_directory(dir / "new" / "deeper"));
    fails(file, PathUse::kOutputFolder, "is a regular file; expected a folder");
    fails(file / "sub", PathUse::kOutputFolder, "a part of the path before the last is not a folder");
    fails("/proc/self", PathUse::kOutputFolder, "cannot create files in it");
    // Output files may be missing; something else than a file is not replaced.
    check_path("x", missing.string(), PathUse::kOutputFile);
    fails(dir, PathUse::kOutputFile, "is a folder; expected a file");
    fails(fifo, PathUse::kOutputFile, "is a FIFO (named pipe); expected a file");
    fs::remove_all(dir);
  }

  TEST_CASE("eval and train check every path before use") {
    NullOut null;
    const fs::path dir = bad_scratch("run-paths");
    const fs::path fifo = dir / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    // eval --checkpoint: a folder, a FIFO (would block a reader), a device, nothing.
    for (const auto& entry :
         std::vector<std::pair<std::string, std::string>>{{dir.string(), "is a folder; expected a file"},
                                                          {fifo.string(), "is a FIFO (named pipe); expected a file"},
                                                          {"/dev/zero", "is a character device; expected a file"},
                                                          {(dir / "none.mgc").string(), "does not exist"}}) {
      const std::string& path = entry.first;  // not a structured binding: CAPTURE's lambda takes it (clang 14)
      const std::string& problem = entry.second;
      CAPTURE(path);
      CHECK_THROWS_WITH_AS(run_eval({.checkpoint = path}, null.f),
                           doctest::Contains(fmt::format("eval: --checkpoint {}: {}", path, problem).c_str()),
                           DataError);
    }
    // train --out: a file, a FIFO, below a file.
    put(dir / "plain", "x");
    for (const fs::path& out : {dir / "plain", fifo, dir / "plain" / "run"}) {
      TrainConfig c = small_run(out);
      CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                           doctest::Contains(fmt::format("train: --out {}: ", out.string()).c_str()), DataError);
    }
    // An output file of the run that is a folder: refused before training, not after.
    const fs::path out = dir / "run";
    fs::create_directories(out / "results.txt");
    CHECK_THROWS_WITH_AS(
        run_train(small_run(out), {null.f, false, -1}),
        doctest::Contains(
            fmt::format("train: output file {}: is a folder; expected a file", (out / "results.txt").string()).c_str()),
        DataError);
    CHECK_FALSE(fs::exists(out / "checkpoint.mgc"));
    fs::remove_all(out / "results.txt");
    // --resume whose checkpoint is a folder or a FIFO.
    fs::create_directories(out / "checkpoint.mgc");
    TrainConfig c = small_run(out);
    c.resume = true;
    CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                         doctest::Contains("checkpoint.mgc: is a folder; expected a file"), DataError);
    fs::remove_all(out / "checkpoint.mgc");
    REQUIRE(::mkfifo((out / "checkpoint.mgc").c_str(), 0644) == 0);
    CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                         doctest::Contains("checkpoint.mgc: is a FIFO (named pipe); expected a file"), DataError);
    // Omniglot --data: a file, a FIFO, nothing.
    for (const fs::path& data : {dir / "plain", fifo, dir / "nothing"}) {
      TrainConfig o;
      o.dataset = "omniglot";
      o.data = data.string();
      o.out = (dir / "omni").string();
      CHECK_THROWS_WITH_AS(run_train(o, {null.f, false, -1}),
                           doctest::Contains(fmt::format("omniglot: --data {}: ", data.string()).c_str()), DataError);
    }
    fs::remove_all(dir);
  }

  TEST_CASE("eval checks its request and the settings in the checkpoint") {
    NullOut null;
    const fs::path dir = bad_scratch("eval-data");
    TrainConfig c = small_run(dir);
    run_train(c, {null.f, false, -1});
    const std::string ckpt = (dir / "checkpoint.mgc").string();
    CHECK_THROWS_WITH_AS(
        run_eval({.checkpoint = ckpt, .eval_tasks = 4, .data = "/data/omniglot"}, null.f),
        doctest::Contains(
            fmt::format("eval: --data is for omniglot and text checkpoints; {} was trained on sinusoid", ckpt).c_str()),
        ValueError);
    CHECK_THROWS_WITH_AS(run_eval({.checkpoint = ckpt, .eval_tasks = 0}, null.f),
                         doctest::Contains("eval: --eval-tasks must be an integer in [1, 1000000], got '0'"),
                         ValueError);
    CHECK_THROWS_WITH_AS(run_eval({.checkpoint = ckpt, .eval_tasks = 4, .threads = 2000}, null.f),
                         doctest::Contains("eval: --threads must be an integer in [1, 1024], got '2000'"), ValueError);
    CHECK_THROWS_WITH_AS(run_eval({.checkpoint = ckpt, .eval_tasks = 4, .eval_inner_steps = -1}, null.f),
                         doctest::Contains("eval: --eval-inner-steps must be an integer in [1, 10000], got '-1'"),
                         ValueError);
    // A checkpoint in the current folder (its folder is "", not an invalid --out).
    const fs::path here = fs::current_path();
    fs::current_path(dir);
    CHECK_NOTHROW(run_eval({.checkpoint = "checkpoint.mgc", .eval_tasks = 4}, null.f));
    fs::current_path(here);
    // A checkpoint whose settings no run can have (edited, or written by a buggy build).
    for (const auto& entry : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"config.meta_batch", "-3", "train: --meta-batch must be an integer in [1, 10000], got '-3'"},
             {"config.inner_lr", "0", "train: --inner-lr must be a finite number in (0, 1000], got '0'"},
             {"config.shots", "99999999999", "config.shots: expected a number, got '99999999999'"}}) {
      // Not structured bindings: CAPTURE's lambda takes `key` (clang 14 cannot capture those).
      const std::string& key = std::get<0>(entry);
      const std::string& value = std::get<1>(entry);
      const std::string& message = std::get<2>(entry);
      nn::Checkpoint edited = nn::read_checkpoint(ckpt);
      for (auto& [k, v] : edited.metadata)
        if (k == key) v = value;
      const std::string bad = (dir / "edited.mgc").string();
      nn::write_checkpoint(bad, edited);
      CAPTURE(key);
      CHECK_THROWS_WITH_AS(run_eval({.checkpoint = bad, .eval_tasks = 4}, null.f), doctest::Contains(message.c_str()),
                           DataError);
    }
    fs::remove_all(dir);
  }

  TEST_CASE("atomic writes: a failed write is an error and leaves the old file whole") {
    const fs::path dir = bad_scratch("atomic");
    const fs::path path = dir / "results.txt";
    write_text_file(path.string(), "old\n");
    const std::string big(64 * 1024, 'x');
    {
      FileSizeLimit limit(4096);  // as a full disk: write() fails part-way
      CHECK_THROWS_WITH_AS(
          write_text_file(path.string(), big),
          doctest::Contains(fmt::format("write_text_file: cannot write {}: writing", path.string()).c_str()),
          DataError);
    }
    CHECK(slurp(path) == "old\n");
    CHECK(temp_files(dir) == 0);
    // A folder where the file should be, a folder that cannot take files, a missing folder.
    fs::create_directories(dir / "taken");
    CHECK_THROWS_WITH_AS(write_text_file((dir / "taken").string(), "x"), doctest::Contains("renaming"), DataError);
    CHECK_THROWS_WITH_AS(write_text_file("/proc/self/metrics.csv", "x"),
                         doctest::Contains("write_text_file: cannot write /proc/self/metrics.csv: creating"),
                         DataError);
    CHECK_THROWS_WITH_AS(write_text_file((dir / "no" / "x.svg").string(), "x"),
                         doctest::Contains("No such file or directory"), DataError);
    CHECK(temp_files(dir) == 0);
    write_text_file(path.string(), big);  // and with room it works
    CHECK(slurp(path) == big);
    fs::remove_all(dir);
  }

  TEST_CASE("a run whose writes fail stops with an error; no file is left cut short") {
    NullOut null;
    const fs::path dir = bad_scratch("full");
    // A first run with room: its files are the "old" ones.
    TrainConfig c = small_run(dir);
    run_train(c, {null.f, false, -1});
    const std::string metrics = slurp(dir / "metrics.csv"), results = slurp(dir / "results.txt");
    REQUIRE(metrics.size() > 100);
    c.iterations = 2000;
    c.checkpoint_every = 1000;
    {
      // Room for the small files but not for the 2000-row metrics.csv, nor a checkpoint.
      FileSizeLimit limit(static_cast<rlim_t>(metrics.size()) + 100);
      CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}), doctest::Contains("cannot write"), DataError);
    }
    CHECK(slurp(dir / "metrics.csv") == metrics);  // the old file, whole
    CHECK(slurp(dir / "results.txt") == results);
    CHECK(temp_files(dir) == 0);
    fs::remove_all(dir);
  }

  TEST_CASE("resume checks that metrics.csv agrees with the checkpoint") {
    NullOut null;
    const fs::path dir = bad_scratch("agree");
    TrainConfig c = small_run(dir);
    run_train(c, {null.f, false, 4});  // checkpoint and metrics at iteration 4
    const std::string metrics = slurp(dir / "metrics.csv");
    c.resume = true;
    auto refused = [&](const std::string& text, const char* message) {
      put(dir / "metrics.csv", text);
      CAPTURE(text);
      CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}), doctest::Contains(message), DataError);
    };
    const std::string where = "train: --resume at iteration 4: metrics " + (dir / "metrics.csv").string();
    refused(
        "iteration,loss,mse\n0,1,1\n1,1,1\n",
        (where + " ends at iteration 1, the checkpoint is at iteration 4: the rows of iterations 2 to 3 are missing")
            .c_str());
    refused("iteration,loss,mse\n", (where + " has no rows").c_str());
    refused("", (where + " line 1: expected the header 'iteration,loss,mse'").c_str());
    refused("iteration,loss,accuracy\n0,1,1\n", (where + " line 1: expected the header").c_str());
    refused("iteration,loss,mse\n0,1,1\n1,1\n2,1,1\n3,1,1\n",
            (where + " line 3: expected 'iteration,loss,mse', got '1,1'").c_str());
    refused("iteration,loss,mse\n0,1,1\n1,1,1x\n", (where + " line 3: expected 'iteration,loss,mse'").c_str());
    refused("iteration,loss,mse\n0,1,1\n2,1,1\n3,1,1\n", (where + " line 3: expected iteration 1, got 2").c_str());
    refused("iteration,loss,mse\n1,1,1\n", (where + " line 2: expected iteration 0, got 1").c_str());
    fs::remove(dir / "metrics.csv");
    CHECK_THROWS_WITH_AS(run_train(c, {null.f, false, -1}),
                         doctest::Contains(fmt::format("{}: does not exist", where).c_str()), DataError);
    fs::create_directories(dir / "metrics.csv");  // refused with the other outputs, before the checkpoint is read
    CHECK_THROWS_WITH_AS(
        run_train(c, {null.f, false, -1}),
        doctest::Contains(
            fmt::format("train: output file {}: is a folder; expected a file", (dir / "metrics.csv").string()).c_str()),
        DataError);
    fs::remove_all(dir / "metrics.csv");
    // Rows past the checkpoint (a crash between the metrics and the checkpoint write) are dropped;
    // a diverged loss ("nan") reads back.
    std::string longer = metrics + "4,nan,inf\n5,0.5,0.5\n";
    put(dir / "metrics.csv", longer);
    const TrainResult r = run_train(c, {null.f, false, -1});
    CHECK(r.finished);
    const std::string after = slurp(dir / "metrics.csv");
    CHECK(after.rfind(metrics, 0) == 0);
    CHECK(after.find("nan") == std::string::npos);
    CHECK(std::count(after.begin(), after.end(), '\n') == 1 + 8);
    fs::remove_all(dir);
  }
}
