#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/errors.h"
#include "nn/checkpoint.h"
#include "tests/tools/fixtures.h"
#include "tools/metrics_log.h"
#include "tools/train.h"

using namespace mg;
using namespace mg::tools;

namespace diagnose_order_test {

namespace fs = std::filesystem;

// The lines of a file.
std::vector<std::string> lines_of(const fs::path& p) {
  std::istringstream in(test::slurp(p));
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The cells of matmul's row in the profile's table of calls: forward calls, MB, recorded backward
// calls, MB, backward calls, MB, double backward calls, MB.
std::vector<std::string> matmul_calls(const std::string& text) {
  const std::size_t table = text.find("calls and MB of results by phase");
  const std::size_t at = table == std::string::npos ? table : text.find("| matmul | ", table);
  if (at == std::string::npos) return {};
  std::istringstream row(text.substr(at + 11, text.find('\n', at) - at - 11));
  std::vector<std::string> cells;
  for (std::string cell; std::getline(row, cell, '|');) cells.push_back(cell.substr(cell.find_first_not_of(' ')));
  return cells;
}

}  // namespace diagnose_order_test

TEST_SUITE("tools") {
  TEST_CASE("--diagnose-order logs both orders' agreement and leaves the training bit-identical") {
    using diagnose_order_test::lines_of;
    test::NullOut null;
    for (const std::string algo : {"maml", "fomaml"}) {
      CAPTURE(algo);
      const auto plain = test::scratch("tools", "order-plain-" + algo), diag = test::scratch("tools", "order-" + algo);
      RunOptions with{null.f, false, -1};
      with.diagnose_order = 3;
      run_train(test::small_run(plain, algo, 7, 3, 8), {null.f, false, -1});
      run_train(test::small_run(diag, algo, 7, 3, 8), with);
      const nn::Checkpoint x = nn::read_checkpoint((plain / "checkpoint.mgc").string());
      const nn::Checkpoint y = nn::read_checkpoint((diag / "checkpoint.mgc").string());
      REQUIRE(x.tensors.size() == y.tensors.size());
      for (std::size_t i = 0; i < x.tensors.size(); ++i)
        CHECK(std::memcmp(x.tensors[i].tensor.raw_data(), y.tensors[i].tensor.raw_data(),
                          x.tensors[i].tensor.nbytes()) == 0);
      const std::vector<std::string> a = lines_of(plain / "metrics.csv"), b = lines_of(diag / "metrics.csv");
      REQUIRE(a.size() == 8);
      REQUIRE(b.size() == 8);
      CHECK(b[0] == "iteration,loss,mse,order_cosine,hessian_share");
      for (std::size_t row = 1; row < b.size(); ++row) {
        CAPTURE(b[row]);
        CHECK(b[row].starts_with(a[row] + ","));  // the same iteration, loss and metric
        const bool diagnosed = (row - 1) % 3 == 0;  // iterations 0, 3, 6
        CHECK(b[row].ends_with(",,") != diagnosed);
      }
      // Read back (as --resume does). The share can pass 1 (on the sinusoid at 3000 iterations it
      // does, with a negative cosine); this early in training both orders still agree closely.
      const MetricsLog log = MetricsLog::resume((diag / "metrics.csv").string(), "mse", 7, true);
      int diagnosed = 0;
      for (const MetricsRow& r : log.rows()) {
        CHECK(r.order_cosine.has_value() == (r.iteration % 3 == 0));
        if (!r.order_cosine) continue;
        ++diagnosed;
        CHECK(*r.order_cosine > 0.0);
        CHECK(*r.order_cosine <= 1.0);
        CHECK(*r.hessian_share > 0.0);
        CHECK(*r.hessian_share < 1.0);
      }
      CHECK(diagnosed == 3);
      const std::string svg = test::slurp(diag / "order_diagnostic.svg");
      CHECK(svg.find("<svg") != std::string::npos);
      CHECK(svg.find("cosine(second, first)") != std::string::npos);
      CHECK_FALSE(std::filesystem::exists(plain / "order_diagnostic.svg"));
    }
  }

  TEST_CASE("--diagnose-order is refused where it does not apply") {
    test::NullOut null;
    const auto out = test::scratch("tools", "order-refused");
    auto refused = [&](TrainConfig c, const char* message) {
      RunOptions run{null.f, false, -1};
      run.diagnose_order = 2;
      CHECK_THROWS_WITH_AS(run_train(c, run), message, ValueError);
    };
    refused(test::small_run(out, "reptile", 2, 2, 2),
            "train: --diagnose-order is for --algo maml or fomaml, not reptile");
    TrainConfig pretrain = test::small_run(out, "pretrain", 2, 2, 2);
    pretrain.baseline = true;  // --no-baseline is refused with pretrain first
    refused(pretrain, "train: --diagnose-order is for --algo maml or fomaml, not pretrain");
    TrainConfig lslr = test::small_run(out, "maml", 2, 2, 2);
    lslr.learn_inner_lr = true;
    refused(lslr, "train: --diagnose-order does not work with --learn-inner-lr (it compares the meta-gradients at one "
                  "fixed inner learning rate)");
    TrainConfig nav = test::small_run(out, "maml", 2, 2, 2);
    nav.dataset = "nav2d";
    nav.baseline = true;
    refused(nav, "train: --diagnose-order is not for --dataset nav2d (its inner step is a policy gradient)");
  }

  TEST_CASE("metrics.csv with the order columns: rows are read back, malformed ones refused") {
    const auto dir = test::scratch("tools", "order-csv");
    const std::string path = (dir / "metrics.csv").string();
    MetricsLog log(path, "mse", true);
    log.append({0, 1.5, 1.5, 0.75, 0.25});
    log.append({1, 1.25, 1.25});
    log.save();
    CHECK(test::slurp(path) == "iteration,loss,mse,order_cosine,hessian_share\n0,1.5,1.5,0.75,0.25\n1,1.25,1.25,,\n");
    const MetricsLog back = MetricsLog::resume(path, "mse", 2, true);
    REQUIRE(back.rows().size() == 2);
    CHECK(*back.rows()[0].order_cosine == 0.75);
    CHECK(*back.rows()[0].hessian_share == 0.25);
    CHECK_FALSE(back.rows()[1].order_cosine.has_value());
    std::ofstream(path) << "iteration,loss,mse,order_cosine,hessian_share\n0,1,1,0.5,\n";
    CHECK_THROWS_WITH_AS(MetricsLog::resume(path, "mse", 1, true),
                         doctest::Contains("line 2: expected 'iteration,loss,mse,order_cosine,hessian_share', got "
                                           "'0,1,1,0.5,'"),
                         DataError);
    // A run resumed without the flag reads a log written with it as another header.
    CHECK_THROWS_WITH_AS(MetricsLog::resume(path, "mse", 1, false),
                         doctest::Contains("line 1: expected the header 'iteration,loss,mse', got "
                                           "'iteration,loss,mse,order_cosine,hessian_share'"),
                         DataError);
  }

  TEST_CASE("--profile prints the per-op table by phase: double backward for maml, none for fomaml") {
    for (const std::string algo : {"maml", "fomaml"}) {
      CAPTURE(algo);
      const auto out = test::scratch("tools", "profile-" + algo);
      std::FILE* f = std::tmpfile();
      REQUIRE(f);
      RunOptions run{f, false, -1};
      run.profile = true;
      TrainConfig c = test::small_run(out, algo, 3, 2, 4);
      c.threads = 1;
      run_train(c, run);
      std::rewind(f);
      std::string text;
      for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
      std::fclose(f);
      CHECK(text.find("profile of the training iterations (3): ") != std::string::npos);
      CHECK(text.find("| op | forward | recorded backward | backward | double backward | calls | GB of results |") !=
            std::string::npos);
      CHECK(text.find("of it saved for backward on the tape then: ") != std::string::npos);
      const std::vector<std::string> cells = diagnose_order_test::matmul_calls(text);
      REQUIRE(cells.size() == 8);
      const bool second_order = algo == "maml";
      CHECK(cells[0] != "0 ");
      CHECK(cells[4] != "0 ");
      CHECK((cells[2] == "0 ") != second_order);  // no recorded inner gradient in fomaml
      CHECK((cells[6] == "0 ") != second_order);  // nor a double backward through it
    }
    TrainConfig two = test::small_run(test::scratch("tools", "profile-2"), "maml", 3, 2, 4);
    two.threads = 2;
    RunOptions run;
    run.profile = true;
    // --parallel auto profiles over ops; tasks, asked for, cannot be profiled.
    test::NullOut null;
    RunOptions auto_run{null.f, false, -1};
    auto_run.profile = true;
    CHECK(run_train(two, auto_run).finished);
    run.parallel = "tasks";
    CHECK_THROWS_WITH_AS(run_train(two, run),
                         "train: --profile needs one thread over tasks (the profiler times the ops of its own "
                         "thread): --threads 1, or --parallel ops; got --threads 2 over tasks",
                         ValueError);
  }
}
