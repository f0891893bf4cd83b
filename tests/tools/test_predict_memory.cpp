// tools/predict_memory.h: `metalearn train --predict-memory`.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "autograd/errors.h"
#include "meta/memory_prediction.h"
#include "nn/models.h"
#include "tests/tools/fixtures.h"
#include "tools/predict_memory.h"
#include "tools/train.h"

namespace predict_memory_test {

// The text a FILE* received.
std::string read_back(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  for (int ch; (ch = std::fgetc(f)) != EOF;) text += static_cast<char>(ch);
  return text;
}

mg::tools::TrainConfig resolved(mg::tools::TrainConfig c) {
  mg::tools::prepare(c);
  return c;
}

}  // namespace predict_memory_test

TEST_SUITE("tools") {
  TEST_CASE("--predict-memory prints the prediction and trains nothing, writes nothing") {
    const auto out = mg::test::scratch("tools", "predict-memory") / "run";  // not created by the run
    mg::tools::TrainConfig c = mg::test::small_run(out, "maml", 5, 4, 2);
    c.threads = 1;
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    mg::tools::RunOptions run{f, false, -1};
    run.predict_memory = true;
    const mg::tools::TrainResult r = mg::tools::run_train(c, run);
    const std::string text = predict_memory_test::read_back(f);
    std::fclose(f);
    CHECK(r.finished);
    CHECK(r.iterations_done == 0);
    CHECK_FALSE(std::filesystem::exists(out));
    CHECK(text == mg::tools::memory_report(predict_memory_test::resolved(c)));
    CHECK(text.find("memory of one meta-iteration of maml on sinusoid (10 support and 10 query points; meta-batch "
                    "4, 1 inner steps)") != std::string::npos);
    CHECK(text.find("--threads") == std::string::npos);  // one worker: no bound for more
  }

  TEST_CASE("--predict-memory predicts for the run's model and task shape") {
    mg::tools::TrainConfig c;
    c.dataset = "omniglot";
    c.algo = "fomaml";
    c.inner_steps = 3;
    c.meta_batch = 4;
    c.threads = 2;
    const mg::tools::TrainConfig r = predict_memory_test::resolved(c);
    mg::Generator gen(r.seed);
    mg::nn::Sequential conv4 = mg::nn::omniglot_conv4(5, gen);
    const mg::meta::MemorySetting s{.example = mg::Shape({1, 28, 28}), .classification = true, .support = 5,
                                    .query = 75, .meta_batch = 4, .inner_steps = 3, .first_order = true};
    const mg::meta::MemoryPrediction p = mg::tools::predict_run_memory(r);
    CHECK(p.total() == mg::meta::predict_maml_memory(conv4, s).total());
    const std::string text = mg::tools::memory_report(r);
    CHECK(text.find("(5-way 1-shot, 15 queries per class; meta-batch 4, 3 inner steps)") != std::string::npos);
    CHECK(text.find(fmt::format("with --threads 2: up to 2 task groups' working sets at once, at most {:.2f} MB",
                                static_cast<double>(p.with_workers(2)) / (1 << 20))) != std::string::npos);
  }

  TEST_CASE("--predict-memory --profile measures the second iteration's peak beside the prediction") {
    mg::tools::TrainConfig c = mg::test::small_run(mg::test::scratch("tools", "predict-measure"), "maml", 5, 4, 2);
    c.threads = 1;
    c.inner_steps = 2;
    const mg::tools::MemoryCheck m = mg::tools::measure_run_memory(predict_memory_test::resolved(c));
    CHECK(m.predicted == mg::tools::predict_run_memory(predict_memory_test::resolved(c)).total());
    CHECK(m.measured > 0);
    CHECK(std::abs(static_cast<double>(m.predicted - m.measured)) <= 0.10 * static_cast<double>(m.measured));
    CHECK(mg::tools::format_memory_check({.predicted = 3 << 20, .measured = 2 << 20}) ==
          "measured over the second meta-iteration, every thread's allocations: 2.00 MB (predicted 3.00 MB, +50.00 %)\n");
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    mg::tools::RunOptions run{f, false, -1};
    run.predict_memory = true;
    run.profile = true;
    CHECK(mg::tools::run_train(c, run).iterations_done == 0);
    const std::string text = predict_memory_test::read_back(f);
    std::fclose(f);
    CHECK(text.find("measured over the second meta-iteration, every thread's allocations: ") != std::string::npos);
  }

  TEST_CASE("--predict-memory refuses the runs it does not cover") {
    mg::tools::TrainConfig c;
    c.algo = "reptile";
    CHECK_THROWS_WITH_AS(mg::tools::check_predict_memory(c),
                         "train: --predict-memory covers --algo maml and fomaml, not reptile", mg::ValueError);
    c.algo = "maml";
    c.dataset = "clinc150";
    CHECK_THROWS_WITH_AS(mg::tools::check_predict_memory(c),
                         "train: --predict-memory covers --dataset sinusoid and omniglot, not clinc150",
                         mg::ValueError);
    c.dataset = "sinusoid";
    c.learn_inner_lr = true;
    CHECK_THROWS_WITH_AS(mg::tools::check_predict_memory(c), "train: --predict-memory does not cover --learn-inner-lr",
                         mg::ValueError);
    CHECK_THROWS_WITH_AS(mg::tools::predict_run_memory(c), "train: --predict-memory does not cover --learn-inner-lr",
                         mg::ValueError);
  }
}
