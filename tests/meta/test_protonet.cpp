#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/protonet.h"
#include "nn/loss.h"
#include "tests/meta/meta_fixtures.h"
#include "tests/meta/rank_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace protonet_test {

// 3-way episodes of 3-dimensional Gaussian blobs (float64): each task draws its class
// means from U[−2, 2]³ and its points with standard deviation 0.5 around them.
class BlobTasks : public data::TaskSource {
 public:
  static constexpr std::int64_t kWays = 3, kShots = 2, kQueries = 3;
  data::Task sample(std::uint64_t i) const override {
    Generator gen(100 + i);
    const Tensor means = uniform({kWays, 3}, -2.0, 2.0, gen, DType::F64);
    auto draw = [&](std::int64_t per_class, Tensor& x, Tensor& y) {
      std::vector<double> xs;
      std::vector<std::int64_t> ys;
      for (std::int64_t k = 0; k < kWays; ++k)
        for (std::int64_t s = 0; s < per_class; ++s) {
          const Tensor noise = randn({3}, gen, DType::F64);
          for (std::int64_t d = 0; d < 3; ++d) xs.push_back(means.at({k, d}) + 0.5 * noise.data<double>()[d]);
          ys.push_back(k);
        }
      x = from_vector(xs, {kWays * per_class, 3});
      y = from_vector(ys, {kWays * per_class});
    };
    data::Task t;
    draw(kShots, t.support_x, t.support_y);
    draw(kQueries, t.query_x, t.query_y);
    return t;
  }
};

nn::Sequential small_net(std::uint64_t seed) {
  Generator gen(seed);
  nn::Sequential net;
  net.emplace<nn::Linear>(3, 5, gen).emplace<nn::Tanh>().emplace<nn::Linear>(5, 3, gen);
  net.to(DType::F64);
  return net;
}

ProtoNetOptions small_options(int threads = 1) { return {.lr = 0.01, .meta_batch = 3, .threads = threads}; }

// J(φ) for one episode, evaluated from scratch (no tape).
double episode_loss(nn::Sequential& net, const data::Task& t) {
  NoGradGuard off;
  const BodyHead split = split_body_head(net, "protonet");
  const Tensor c = prototypes(embed(net, split, t.support_x, net.parameters()), t.support_y, BlobTasks::kWays);
  return nn::cross_entropy(prototype_logits(embed(net, split, t.query_x, net.parameters()), c), t.query_y).item();
}

}  // namespace protonet_test

TEST_SUITE("protonet") {
  TEST_CASE("prototypes and logits on a hand-computed example") {
    const Tensor z = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 0, 0}, {4, 2});
    const Tensor y = from_vector(std::vector<std::int64_t>{0, 0, 1, 1}, {4});
    const Tensor c = prototypes(z, y, 2);
    // c_0 = mean([1, 2], [3, 4]) = [2, 3];  c_1 = mean([5, 6], [0, 0]) = [2.5, 3].
    CHECK(c.at({0, 0}) == 2.0);
    CHECK(c.at({0, 1}) == 3.0);
    CHECK(c.at({1, 0}) == 2.5);
    CHECK(c.at({1, 1}) == 3.0);
    // q = [1, 1]: ‖q − c_0‖² = 1 + 4 = 5, ‖q − c_1‖² = 2.25 + 4 = 6.25; q = [2, 3]: 0 and 0.25.
    const Tensor logits = prototype_logits(from_vector(std::vector<double>{1, 1, 2, 3}, {2, 2}), c);
    CHECK(logits.shape() == Shape({2, 2}));
    CHECK(logits.at({0, 0}) == doctest::Approx(-5.0).epsilon(1e-14));
    CHECK(logits.at({0, 1}) == doctest::Approx(-6.25).epsilon(1e-14));
    CHECK(std::abs(logits.at({1, 0})) < 1e-14);
    CHECK(logits.at({1, 1}) == doctest::Approx(-0.25).epsilon(1e-14));
  }

  TEST_CASE("prototypes and logits refuse bad input") {
    const Tensor z = zeros({4, 2}, DType::F64);
    const Tensor y = from_vector(std::vector<std::int64_t>{0, 0, 2, 2}, {4});
    CHECK_THROWS_WITH_AS(prototypes(z, y, 3), doctest::Contains("prototypes: class 1 has no support example"),
                         ValueError);
    CHECK_THROWS_WITH_AS(prototypes(z, y, 2), doctest::Contains("prototypes: label 2 is outside [0, 2)"), ValueError);
    CHECK_THROWS_WITH_AS(
        prototypes(zeros({3, 2}, DType::F64), y, 3),
        doctest::Contains("prototypes: need [n, D] embeddings and [n] labels: embedding is [3, 2], labels is [4]"),
        ShapeError);
    CHECK_THROWS_WITH_AS(
        prototype_logits(zeros({3, 2}, DType::F64), zeros({2, 5}, DType::F64)),
        doctest::Contains("prototype logits: embedding widths differ: queries is [3, 2], prototypes is [2, 5]"),
        ShapeError);
  }

  TEST_CASE("the gradient of the episode loss matches finite differences; the head gets none") {
    const protonet_test::BlobTasks source;
    const std::vector<data::Task> tasks{source.sample(0), source.sample(1)};
    nn::Sequential net = protonet_test::small_net(30);
    const ProtoNet learner(net, classification(), protonet_test::small_options());
    StepStats stats;
    const std::vector<Tensor> g = learner.meta_gradient(tasks, &stats);
    CHECK(stats.loss ==
          doctest::Approx((protonet_test::episode_loss(net, tasks[0]) + protonet_test::episode_loss(net, tasks[1])) / 2)
              .epsilon(1e-12));
    const test::FdComparison fd = test::compare_with_central_differences(net.parameters(), g, [&] {
      return (protonet_test::episode_loss(net, tasks[0]) + protonet_test::episode_loss(net, tasks[1])) / 2;
    });
    CHECK(fd.worst < 1e-6);
    CHECK(fd.largest[0] > 1e-3);
    for (std::size_t j = 2; j < 4; ++j)  // the head's
      CHECK(g[j].to_vector<double>() == std::vector<double>(static_cast<std::size_t>(g[j].numel()), 0.0));
  }

  TEST_CASE("evaluation over ranks: each rank scores its share of the tasks, every rank gets one process's result") {
    const protonet_test::BlobTasks source;
    nn::Sequential net = protonet_test::small_net(31);
    ProtoNet learner(net, classification(), protonet_test::small_options());
    const EvalResult one = learner.test(source, {.num_tasks = 7, .threads = 1});
    test::as_ranks(2, [&](int, test::Scripted& comm) {
      // A non-owning handle: the communicator lives on the caller's frame.
      learner.set_communicator(std::shared_ptr<Communicator>(&comm, [](auto*) {}));
      const EvalResult r = learner.test(source, {.num_tasks = 7, .threads = 1});
      learner.set_communicator(nullptr);
      REQUIRE(r.metric.size() == 1);
      CHECK(r.metric[0].mean == one.metric[0].mean);
      CHECK(r.metric[0].ci95 == one.metric[0].ci95);
      CHECK(r.metric[0].n == 7);
    });
  }

  TEST_CASE("evaluation: 600-task protocol without inner steps, accuracy with a 95% CI, same for any thread count") {
    const protonet_test::BlobTasks source;
    nn::Sequential net = protonet_test::small_net(31);
    ProtoNet learner(net, classification(), protonet_test::small_options());
    const EvalResult r1 = learner.test(source, {.num_tasks = 40, .threads = 1});
    const EvalResult r2 = learner.test(source, {.num_tasks = 40, .threads = 2});
    CHECK(r1.metric_name == "accuracy");
    CHECK(r1.steps == std::vector<int>{0});
    REQUIRE(r1.metric.size() == 1);
    CHECK(r1.metric[0].n == 40);
    CHECK(r1.metric[0].ci95 > 0);
    CHECK(r1.metric[0].mean > 1.0 / 3);  // blobs in a random tanh embedding: better than chance
    CHECK(r1.metric[0].mean <= 1.0);
    CHECK(r1.metric[0].mean == r2.metric[0].mean);
    CHECK(r1.metric[0].ci95 == r2.metric[0].ci95);
    // The score is the mean over tasks of the query accuracy with prototypes from the support set.
    double total = 0;
    for (std::uint64_t i = 0; i < 40; ++i) {
      const data::Task t = source.sample(i);
      const BodyHead split = split_body_head(net, "protonet");
      NoGradGuard off;
      const Tensor c = prototypes(embed(net, split, t.support_x, net.parameters()), t.support_y, 3);
      total += nn::accuracy(prototype_logits(embed(net, split, t.query_x, net.parameters()), c), t.query_y);
    }
    CHECK(r1.metric[0].mean == doctest::Approx(total / 40).epsilon(1e-12));
    CHECK_THROWS_WITH_AS(learner.test(source, {.num_tasks = 0}),
                         doctest::Contains("protonet: num_tasks must be >= 1, got 0"), ValueError);
  }

  TEST_CASE("training: bit-identical for 1 and 2 threads, and the loss falls") {
    const protonet_test::BlobTasks source;
    nn::Sequential one = protonet_test::small_net(32), two = protonet_test::small_net(32);
    ProtoNet p1(one, classification(), protonet_test::small_options(1));
    ProtoNet p2(two, classification(), protonet_test::small_options(2));
    const std::vector<Tensor> head_before{one.parameters()[2].clone(), one.parameters()[3].clone()};
    std::vector<data::Task> held_out;
    for (std::uint64_t i = 1000; i < 1040; ++i) held_out.push_back(source.sample(i));
    StepStats before, after;
    p1.meta_gradient(held_out, &before);
    p1.train(source, 60);
    p1.meta_gradient(held_out, &after);
    p2.train(source, 60);
    CHECK(test::bit_identical(one.parameters(), two.parameters()));
    CHECK(after.loss < before.loss);
    CHECK(after.metric > before.metric);
    CHECK(test::bit_identical({one.parameters()[2], one.parameters()[3]}, head_before));  // the head is not used
    CHECK(p1.name() == "protonet");
    CHECK(p1.optimizer() != nullptr);
    CHECK(p1.test_inner_lr().value == 0.0);
  }

  TEST_CASE("a regression objective or a model without layers is refused") {
    nn::Sequential net = protonet_test::small_net(33);
    CHECK_THROWS_WITH_AS(
        ProtoNet(net, regression(), protonet_test::small_options()),
        doctest::Contains("protonet: prototypes classify; it needs a classification objective, not regression"),
        ValueError);
    nn::Sequential empty;
    CHECK_THROWS_WITH_AS(ProtoNet(empty, classification(), protonet_test::small_options()),
                         doctest::Contains("protonet: the model has no layer with parameters to be its head"),
                         ValueError);
  }
}
