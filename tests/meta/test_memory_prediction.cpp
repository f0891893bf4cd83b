// meta/memory_prediction.h: the predicted peak of a MAML meta-iteration against the
// profiler's measured peak_live_bytes (issue 20, item 2: within ±10 %).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/profile.h"
#include "autograd/storage.h"
#include "datasets/sinusoid.h"
#include "meta/maml.h"
#include "meta/memory_prediction.h"
#include "nn/activations.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/models.h"

namespace memory_prediction_test {

using namespace mg;

// Omniglot-shaped tasks of random pixels: N-way K-shot, Q queries per class, [1, side, side] images.
class ImageTasks : public data::TaskSource {
 public:
  ImageTasks(int ways, int shots, int queries) : ways_(ways), shots_(shots), queries_(queries) {}
  data::Task sample(std::uint64_t task_index) const override {
    Generator gen = data::task_generator(5, task_index);
    auto labels = [&](int per_class) {
      std::vector<std::int64_t> y;
      for (int c = 0; c < ways_; ++c)
        for (int j = 0; j < per_class; ++j) y.push_back(c);
      return from_vector(y, Shape({static_cast<std::int64_t>(y.size())}));
    };
    data::Task t;
    t.support_x = uniform({ways_ * shots_, 1, 28, 28}, 0, 1, gen);
    t.support_y = labels(shots_);
    t.query_x = uniform({ways_ * queries_, 1, 28, 28}, 0, 1, gen);
    t.query_y = labels(queries_);
    return t;
  }

 private:
  int ways_, shots_, queries_;
};

// The profiler's peak of one meta-iteration after a warm-up one (which makes Adam's
// moments), less what was alive before the model was built.
std::int64_t measured_peak(nn::Sequential& model, const meta::Objective& objective, const data::TaskSource& tasks,
                           const meta::MamlOptions& options, std::int64_t before) {
  meta::Maml maml(model, objective, options);
  maml.train(tasks, 1, {}, 0);
  // Every thread's allocations: with op threads a worker holds a part's scratch.
  Storage::start_peak_tracking();
  maml.train(tasks, 1, {}, 1);
  return Storage::stop_peak_tracking() - before;
}

enum class Net { Mlp, Conv4, StridedConv4, Conv4NegativeGamma };

struct Case {
  Net net;
  int steps;
  bool first_order;
  int op_threads = 1;  // kernels::OpThreads of the measured iteration (--parallel ops)
  int task_threads = 1;  // MamlOptions::threads: workers over task groups (--parallel tasks)
};

struct Peaks {
  std::int64_t one_worker = 0;  // the prediction for one worker (MemoryPrediction::total)
  std::int64_t predicted = 0;   // for the case's workers (MemoryPrediction::with_workers)
  std::int64_t measured = 0;
};

// Predicted and measured peak for one configuration: the sinusoid MLP at its defaults
// (meta-batch 25 as 2 task stacks, 10 + 10 points), or a conv4 on 5-way 1-shot tasks with
// 15 queries per class at meta-batch 2.
Peaks predicted_and_measured(const Case& c) {
  const std::int64_t before = Storage::live_bytes();
  Generator gen(11);
  const bool mlp = c.net == Net::Mlp;
  nn::Sequential model = mlp ? nn::sinusoid_mlp(gen) : nn::omniglot_conv4(5, gen, c.net == Net::StridedConv4);
  if (c.net == Net::Conv4NegativeGamma) {  // pooled by the normalised values (Note [pooling by the normaliser's input])
    auto& bn = dynamic_cast<nn::BatchNorm2d&>(model[1]);
    bn.weight().mutable_data<float>()[0] = -1.0f;
  }
  meta::MamlOptions o;
  o.inner_steps = c.steps;
  o.first_order = c.first_order;
  o.meta_batch = mlp ? 25 : 2;
  o.inner_lr = mlp ? 0.01 : 0.4;
  o.threads = c.task_threads;
  meta::MemorySetting s;
  s.example = mlp ? Shape({1}) : Shape({1, 28, 28});
  s.classification = !mlp;
  s.support = mlp ? 10 : 5;
  s.query = mlp ? 10 : 75;
  s.meta_batch = o.meta_batch;
  s.task_stacks = o.task_stacks;
  s.inner_steps = c.steps;
  s.first_order = c.first_order;
  s.op_threads = c.op_threads;
  const meta::MemoryPrediction prediction = meta::predict_maml_memory(model, s);
  const std::unique_ptr<data::TaskSource> tasks =
      mlp ? std::unique_ptr<data::TaskSource>(std::make_unique<data::SinusoidTasks>())
          : std::make_unique<ImageTasks>(5, 1, 15);
  const meta::Objective objective = mlp ? meta::regression() : meta::classification();
  const kernels::OpThreads op_threads(c.op_threads);
  return {prediction.total(), prediction.with_workers(c.task_threads),
          measured_peak(model, objective, *tasks, o, before)};
}

}  // namespace memory_prediction_test

using memory_prediction_test::Case;
using memory_prediction_test::Net;

TEST_SUITE("memory_prediction") {
  TEST_CASE("the predicted peak of a meta-iteration is within 10 % of the measured one") {
    const Case cases[] = {
        {Net::Mlp, 1, false},   {Net::Mlp, 5, false},   {Net::Mlp, 1, true},   {Net::Mlp, 5, true},
        {Net::Conv4, 1, false}, {Net::Conv4, 5, false}, {Net::Conv4, 1, true}, {Net::Conv4, 5, true},
        {Net::StridedConv4, 2, false}, {Net::Conv4NegativeGamma, 1, true},
        // Ops split over two threads: the strided net's peak is a conv_columns input gradient,
        // which then holds a chunk of columns per part.
        {Net::StridedConv4, 1, false, 2}, {Net::Conv4, 1, false, 2},
    };
    for (const Case& c : cases) {
      // Named variables, not a structured binding: CAPTURE is a lambda, and clang 14 refuses bindings in one.
      const memory_prediction_test::Peaks peaks = memory_prediction_test::predicted_and_measured(c);
      const std::int64_t predicted = peaks.predicted, measured = peaks.measured;
      CAPTURE(static_cast<int>(c.net));
      CAPTURE(c.steps);
      CAPTURE(c.first_order);
      CAPTURE(c.op_threads);
      CAPTURE(predicted);
      CAPTURE(measured);
      CHECK(measured > 0);
      CHECK(std::abs(static_cast<double>(predicted - measured)) <= 0.10 * static_cast<double>(measured));
    }
  }

  TEST_CASE("with workers over tasks the prediction bounds the measured peak from above") {
    // Each worker holds its task group's working set; how much of it at a given moment
    // depends on how the two workers' timings line up, so the prediction is the case in
    // which both are at their peaks at once (MemoryPrediction::with_workers), and the
    // measured peak lies between one worker's prediction and that bound. A conv task
    // takes tens of milliseconds, so both workers hold a graph at once; the MLP's stacks
    // take a fraction of one, and on a busy machine the first thread may finish both
    // before the second wakes, so there only the bound is checked.
    const Case cases[] = {{Net::Mlp, 1, false, 1, 2}, {Net::Mlp, 5, false, 1, 2},
                          {Net::Conv4, 1, false, 1, 2}, {Net::StridedConv4, 2, false, 1, 2},
                          {Net::Conv4, 1, true, 1, 2}};
    for (const Case& c : cases) {
      const memory_prediction_test::Peaks peaks = memory_prediction_test::predicted_and_measured(c);
      CAPTURE(static_cast<int>(c.net));
      CAPTURE(c.steps);
      CAPTURE(c.first_order);
      CAPTURE(peaks.one_worker);
      CAPTURE(peaks.predicted);
      CAPTURE(peaks.measured);
      CHECK(peaks.predicted > peaks.one_worker);
      if (c.net != Net::Mlp) CHECK(peaks.measured > peaks.one_worker);
      CHECK(peaks.measured <= peaks.predicted);
    }
  }

  TEST_CASE("the prediction's terms add up, name the peak's moment, and scale with the workers") {
    mg::Generator gen(3);
    mg::nn::Sequential model = mg::nn::omniglot_conv4(5, gen);
    mg::meta::MemorySetting s{.example = mg::Shape({1, 28, 28}), .classification = true, .support = 5, .query = 75,
                              .meta_batch = 4, .inner_steps = 5};
    const mg::meta::MemoryPrediction p = mg::meta::predict_maml_memory(model, s);
    REQUIRE(p.moments.size() == 3);  // (A), (Q), (D): second order
    std::int64_t sum = 0;
    for (const mg::meta::MemoryTerm& t : p.peak().terms) sum += t.bytes;
    CHECK(sum == p.total());
    for (const mg::meta::MemoryMoment& m : p.moments) CHECK(m.total() <= p.total());
    CHECK(p.peak().name == "the query pass's backward at layer 1 BatchNorm2d 64 + max-pool 2");
    CHECK(p.groups == 4);
    CHECK(p.with_workers(1) == p.total());
    CHECK(p.with_workers(2) == p.shared_bytes + 2 * (p.total() - p.shared_bytes));
    CHECK(p.with_workers(64) == p.shared_bytes + 4 * (p.total() - p.shared_bytes));  // no more workers than groups
    const std::string table = p.table();
    CHECK(table.find("predicted peak of live tensor memory") != std::string::npos);
    CHECK(table.find("| Adam's m and v | 0.856 |") != std::string::npos);  // 2 × 112,261 float32
    CHECK(table.find("the last inner step's update") != std::string::npos);
    s.first_order = true;
    CHECK(mg::meta::predict_maml_memory(model, s).moments.size() == 2);  // nothing recorded: no (D)
  }

  TEST_CASE("the example of meta/memory_prediction.h runs") {
    using namespace mg;
    Generator gen(4);
    // The header's example, verbatim (tests/meson.build checks it):
    nn::Sequential model = nn::omniglot_conv4(5, gen);
    meta::MemorySetting s{.example = {1, 28, 28}, .classification = true, .support = 5, .query = 75,
                          .meta_batch = 32, .inner_steps = 5};
    meta::MemoryPrediction p = meta::predict_maml_memory(model, s);
    std::string text = p.table();  // the terms in MB, each named for what it is
    CHECK(text.find(fmt::format("{:.2f} MB", static_cast<double>(p.total()) / (1 << 20))) != std::string::npos);
  }

  TEST_CASE("Conv2d::options reads back its stride, padding and bias") {
    mg::Generator gen(1);
    const mg::nn::Conv2d conv(3, 8, 3, gen, {.stride = 2, .padding = 1, .bias = false});
    CHECK(conv.options().stride == 2);
    CHECK(conv.options().padding == 1);
    CHECK_FALSE(conv.options().bias);
  }

  TEST_CASE("models and settings the prediction does not cover are refused") {
    using mg::ShapeError;
    using mg::ValueError;
    using mg::meta::predict_maml_memory;
    mg::Generator gen(2);
    const mg::meta::MemorySetting s;
    const std::string covered =
        "covered are Sequential models of Linear, Conv2d, BatchNorm2d (batch statistics), ReLU and Flatten";
    mg::nn::Linear lone(1, 1, gen);
    CHECK_THROWS_WITH_AS(predict_maml_memory(lone, s),
                         ("memory prediction: the model is a Linear; " + covered).c_str(), ValueError);
    mg::nn::Sequential tanh;
    tanh.emplace<mg::nn::Linear>(1, 4, gen).emplace<mg::nn::Tanh>();
    CHECK_THROWS_WITH_AS(predict_maml_memory(tanh, s),
                         ("memory prediction: layer 1 is a Tanh; " + covered).c_str(), ValueError);
    mg::nn::Sequential running;
    running.emplace<mg::nn::BatchNorm2d>(1, mg::nn::BatchNormOptions{.mode = mg::nn::BatchNormMode::Running});
    CHECK_THROWS_WITH_AS(
        predict_maml_memory(running, s),
        ("memory prediction: layer 0 is a BatchNorm2d with running statistics; " + covered).c_str(), ValueError);
    mg::nn::Sequential empty;
    CHECK_THROWS_WITH_AS(predict_maml_memory(empty, s),
                         ("memory prediction: the model has no layers; " + covered).c_str(), ValueError);

    mg::nn::Sequential mlp = mg::nn::sinusoid_mlp(gen);
    mg::meta::MemorySetting wide = s;
    wide.example = mg::Shape({2});
    CHECK_THROWS_WITH_AS(predict_maml_memory(mlp, wide),
                         "memory prediction: layer 0 (Linear) takes examples of [1], got [2]", ShapeError);
    mg::nn::Sequential conv = mg::nn::omniglot_conv4(5, gen);
    mg::meta::MemorySetting rgb = s;
    rgb.example = mg::Shape({3, 28, 28});
    CHECK_THROWS_WITH_AS(predict_maml_memory(conv, rgb),
                         "memory prediction: layer 0 (Conv2d) takes examples of [1, H, W], got [3, 28, 28]",
                         ShapeError);
    mg::nn::Sequential norm;
    norm.emplace<mg::nn::BatchNorm2d>(4, mg::nn::BatchNormOptions{.max_pool = 2});
    mg::meta::MemorySetting three = s;
    three.example = mg::Shape({3});
    CHECK_THROWS_WITH_AS(predict_maml_memory(norm, three),
                         "memory prediction: layer 0 (BatchNorm2d) takes examples of [4, ...], got [3]", ShapeError);
    mg::meta::MemorySetting tiny = s;
    tiny.example = mg::Shape({4, 1, 1});
    CHECK_THROWS_WITH_AS(predict_maml_memory(norm, tiny),
                         "memory prediction: layer 0 (BatchNorm2d) pools 2x2 windows of [4, 1, 1]", ShapeError);

    auto refused = [&](void (*change)(mg::meta::MemorySetting&), const char* message) {
      mg::meta::MemorySetting bad = s;
      change(bad);
      CHECK_THROWS_WITH_AS(predict_maml_memory(mlp, bad), message, ValueError);
    };
    using Setting = mg::meta::MemorySetting;
    refused([](Setting& b) { b.inner_steps = 0; }, "memory prediction: inner_steps must be >= 1, got 0");
    refused([](Setting& b) { b.meta_batch = 0; }, "memory prediction: meta_batch must be >= 1, got 0");
    refused([](Setting& b) { b.task_stacks = -1; }, "memory prediction: task_stacks must be >= 0, got -1");
    refused([](Setting& b) { b.support = 0; }, "memory prediction: support must be >= 1, got 0");
    refused([](Setting& b) { b.query = 0; }, "memory prediction: query must be >= 1, got 0");

    const mg::meta::MemoryPrediction p = predict_maml_memory(mlp, s);
    CHECK_THROWS_WITH_AS(p.with_workers(0), "memory prediction: workers must be >= 1, got 0", ValueError);
    const mg::meta::MemoryPrediction none;
    CHECK_THROWS_WITH_AS(none.peak(), "memory prediction: internal error: no moments", ValueError);
  }
}
