// Checkpointed inner steps (meta/checkpointed_adapt.h): the meta-gradient bit for bit
// equal to the full tape's, the vector-Jacobian product against central differences,
// and the peak of live tensor memory not growing with the number of steps.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstring>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "autograd/random.h"
#include "autograd/tape.h"
#include "meta/checkpointed_adapt.h"
#include "meta/maml.h"
#include "meta/meta_sgd.h"
#include "meta/option_checks.h"
#include "meta/task_group.h"
#include "nn/models.h"
#include "tests/meta/meta_fixtures.h"

using namespace mg;
using namespace mg::meta;

namespace ckpt_test {

// Sinusoid tasks in `dtype` (the fixtures' are float64).
data::Task sine_task(DType dtype, std::uint64_t i) {
  const data::Task t = test::sine_tasks(static_cast<int>(i) + 1)[i];
  return {t.support_x.to(dtype), t.support_y.to(dtype), t.query_x.to(dtype), t.query_y.to(dtype)};
}

// A 3-way image task of random `side`×`side` pictures, `per_class` per class in each set.
data::Task image_task(DType dtype, std::int64_t side, std::int64_t per_class, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < 3 * per_class; ++i) labels.push_back(i % 3);
  const std::int64_t n = 3 * per_class;
  return {randn({n, 1, side, side}, gen, dtype), from_vector(labels, {n}), randn({n, 1, side, side}, gen, dtype),
          from_vector(labels, {n})};
}

nn::Sequential small_conv(DType dtype, std::int64_t side = 8, std::int64_t channels = 4) {
  Generator gen(17);
  return nn::conv_net({.image_size = side, .channels = channels, .n_way = 3, .blocks = 2, .dtype = dtype}, gen);
}

std::vector<Tensor> meta_gradient(nn::Module& model, const Objective& objective, const data::Task& task, int steps,
                                  bool checkpoint, double inner_lr) {
  return maml_meta_gradient(model, objective, model.parameters(), task,
                            {.inner_lr = inner_lr, .inner_steps = steps, .checkpoint_steps = checkpoint});
}

double largest_abs(const std::vector<Tensor>& g) {
  double m = 0;
  for (const Tensor& t : g) {
    const Tensor d = t.to(DType::F64);
    for (std::int64_t e = 0; e < d.numel(); ++e) m = std::max(m, std::abs(d.data<double>()[e]));
  }
  return m;
}

// The peak of live tensor bytes (profiler) while taking one task's meta-gradient.
std::int64_t peak_bytes(nn::Module& model, const data::Task& task, int steps, bool checkpoint) {
  OpProfiler profiler;
  (void)meta_gradient(model, classification(), task, steps, checkpoint, 0.1);
  return profiler.report().peak_live_bytes;
}

// The support loss of a regression task as a function of θ' (`model` and `task` outlive it).
SupportLoss support_loss(nn::Module& model, const data::Task& task) {
  return [&model, &task](std::span<const Tensor> t) {
    return regression().loss(model.forward(task.support_x, t), task.support_y);
  };
}

std::vector<Tensor> identity_start(std::span<const Tensor> theta) { return {theta.begin(), theta.end()}; }

// A tiny float64 MLP, a sinusoid task, its support loss and aliases of θ (not movable:
// the loss refers to the members).
struct SineSetup {
  explicit SineSetup(std::uint64_t seed)
      : model(test::tiny_mlp(seed)), task(test::sine_tasks(1)[0]), support(support_loss(model, task)),
        theta(thread_aliases(model.parameters())) {}
  SineSetup(const SineSetup&) = delete;
  SineSetup& operator=(const SineSetup&) = delete;
  nn::Sequential model;
  data::Task task;
  SupportLoss support;
  std::vector<Tensor> theta;
};

MamlOptions training_options(bool checkpoint, int stacks) {
  MamlOptions o;
  o.inner_lr = 0.05;
  o.outer_lr = 0.01;
  o.inner_steps = 3;
  o.learn_inner_lr = true;
  o.meta_batch = 4;
  o.task_stacks = stacks;
  o.checkpoint_steps = checkpoint;
  return o;
}

}  // namespace ckpt_test

TEST_SUITE("checkpointed_adapt") {
  TEST_CASE("checkpointed meta-gradients equal the full tape's bit for bit: sinusoid MLP, k = 0, 1, 2, 5") {
    for (const DType dtype : {DType::F32, DType::F64}) {
      Generator gen(5);
      nn::Sequential model = nn::sinusoid_mlp(gen, dtype);
      const data::Task task = ckpt_test::sine_task(dtype, 2);
      std::vector<Tensor> previous;
      for (const int k : {0, 1, 2, 5}) {
        CAPTURE(dtype_name(dtype));
        CAPTURE(k);
        const std::vector<Tensor> full = ckpt_test::meta_gradient(model, regression(), task, k, false, 0.02);
        const std::vector<Tensor> checkpointed = ckpt_test::meta_gradient(model, regression(), task, k, true, 0.02);
        CHECK(test::bit_identical(full, checkpointed));
        CHECK(ckpt_test::largest_abs(full) > 1e-3);
        if (!previous.empty()) CHECK(!test::bit_identical(previous, full));  // each k is its own case
        previous = full;
      }
    }
  }

  TEST_CASE("checkpointed meta-gradients equal the full tape's bit for bit: conv net with batch norm, k = 1, 2, 5") {
    for (const DType dtype : {DType::F32, DType::F64}) {
      nn::Sequential model = ckpt_test::small_conv(dtype);
      const data::Task task = ckpt_test::image_task(dtype, 8, 2, 9);
      for (const int k : {1, 2, 5}) {
        CAPTURE(dtype_name(dtype));
        CAPTURE(k);
        const std::vector<Tensor> full = ckpt_test::meta_gradient(model, classification(), task, k, false, 0.1);
        const std::vector<Tensor> checkpointed =
            ckpt_test::meta_gradient(model, classification(), task, k, true, 0.1);
        CHECK(test::bit_identical(full, checkpointed));
        CHECK(ckpt_test::largest_abs(full) > 1e-4);
      }
    }
  }

  TEST_CASE("Maml with checkpoint_steps trains bit-identically: task stacks, learned inner rates, 3 iterations") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    for (const int stacks : {0, 2}) {
      CAPTURE(stacks);
      nn::Sequential full_model = test::tiny_mlp(8), ckpt_model = test::tiny_mlp(8);
      Maml full(full_model, regression(), ckpt_test::training_options(false, stacks));
      Maml checkpointed(ckpt_model, regression(), ckpt_test::training_options(true, stacks));
      CHECK(test::bit_identical(full.meta_gradient(tasks), checkpointed.meta_gradient(tasks)));
      for (int it = 0; it < 3; ++it) {
        const StepStats a = full.step(tasks, it), b = checkpointed.step(tasks, it);
        CHECK(a.loss == b.loss);
      }
      CHECK(test::bit_identical(full.outer_parameters(), checkpointed.outer_parameters()));
      CHECK(!test::bit_identical(full.outer_parameters(), test::tiny_mlp(8).parameters()));
    }
  }

  TEST_CASE("Meta-SGD with checkpoint_steps trains bit-identically (per-element rates, 2 steps)") {
    const std::vector<data::Task> tasks = test::sine_tasks(4);
    MetaSgdOptions o{.inner_lr = 0.05, .outer_lr = 0.01, .inner_steps = 2, .meta_batch = 4};
    nn::Sequential full_model = test::tiny_mlp(9), ckpt_model = test::tiny_mlp(9);
    MetaSgd full(full_model, regression(), o);
    o.checkpoint_steps = true;
    MetaSgd checkpointed(ckpt_model, regression(), o);
    for (int it = 0; it < 3; ++it) {
      full.step(tasks, it);
      checkpointed.step(tasks, it);
    }
    CHECK(test::bit_identical(full.outer_parameters(), checkpointed.outer_parameters()));
  }

  TEST_CASE("checkpointed_query_gradient gives what the full tape gives: terms, loss and metrics") {
    const std::vector<data::Task> tasks = test::sine_tasks(3);
    nn::Sequential model = test::tiny_mlp(10);
    const Objective objective = regression();
    const TaskGroup group(model, objective, tasks, true);
    TapeScope scope;
    const std::vector<Tensor> theta = thread_aliases(model.parameters());
    const GroupResult r = checkpointed_query_gradient(group, theta, {0.05, {}}, 4);
    const std::vector<Tensor> theta_i =
        adapt([&](std::span<const Tensor> t) { return group.support_loss(t); }, group.start(theta), {0.05, {}}, 4,
              AdaptMode::SecondOrder);
    const Tensor prediction = group.predict_query(theta_i);
    const Tensor loss = group.query_loss(prediction);
    CHECK(test::bit_identical(r.terms, detached_gradient(loss, theta)));
    CHECK(r.loss == loss.item());
    REQUIRE(r.metrics.size() == 1);
    CHECK(r.metrics[0] == group.query_metrics(prediction));
  }

  TEST_CASE("the checkpointed vector-Jacobian product matches central differences, θ and per-tensor α") {
    nn::Sequential model = test::tiny_mlp(11);
    const data::Task task = test::sine_tasks(1)[0];
    const SupportLoss support = ckpt_test::support_loss(model, task);
    const AdaptStart identity = ckpt_test::identity_start;
    std::vector<Tensor> theta, alpha, v;
    Generator gen(12);
    for (const Tensor& p : model.parameters()) {
      theta.push_back(p.clone().requires_grad_());
      alpha.push_back(uniform({}, 0.02, 0.08, gen, DType::F64).requires_grad_());
      v.push_back(randn(p.shape(), gen, DType::F64));
    }
    std::vector<Tensor> analytic;
    {
      TapeScope scope;
      const CheckpointedAdapt steps(support, identity, theta, {0.0, alpha}, 3);
      analytic = steps.backward(v);
    }
    // J(θ, α) = Σ_j <v_j, θ'⁽³⁾_j(θ, α)>, evaluated with a detached inner loop.
    const auto objective = [&] {
      TapeScope scope;
      const std::vector<Tensor> theta_k = adapt(support, theta, {0.0, alpha}, 3, AdaptMode::Detached);
      double j = 0;
      for (std::size_t i = 0; i < v.size(); ++i) j += sum(theta_k[i].detach() * v[i]).item();
      return j;
    };
    std::vector<Tensor> params = theta;
    params.insert(params.end(), alpha.begin(), alpha.end());
    const test::FdComparison fd = test::compare_with_central_differences(params, analytic, objective);
    CHECK(fd.worst < 1e-6);
    for (const double largest : fd.largest) CHECK(largest > 1e-3);
  }

  TEST_CASE("zero upstream gradients: undefined ones count as zero, and all undefined give zeros") {
    const ckpt_test::SineSetup sine(13);
    TapeScope scope;
    const CheckpointedAdapt steps(sine.support, ckpt_test::identity_start, sine.theta, {0.05, {}}, 2);
    std::vector<Tensor> none(sine.theta.size());
    const std::vector<Tensor> zero = steps.backward(none);
    REQUIRE(zero.size() == sine.theta.size());
    for (const Tensor& z : zero) CHECK(ckpt_test::largest_abs({z}) == 0.0);
    std::vector<Tensor> partial = none, explicit_zeros;
    for (const Tensor& t : steps.adapted()) explicit_zeros.push_back(zeros_like(t));
    partial.back() = ones_like(steps.adapted().back());
    explicit_zeros.back() = partial.back();
    const std::vector<Tensor> from_partial = steps.backward(partial);
    CHECK(ckpt_test::largest_abs(from_partial) > 0);
    CHECK(test::bit_identical(from_partial, steps.backward(explicit_zeros)));
  }

  TEST_CASE("peak live tensor bytes: 10 checkpointed steps stay below 1.5x one full step") {
    nn::Sequential model = ckpt_test::small_conv(DType::F32, 16, 8);
    const data::Task task = ckpt_test::image_task(DType::F32, 16, 10, 14);
    const std::int64_t one = ckpt_test::peak_bytes(model, task, 1, false);
    const std::int64_t ten_full = ckpt_test::peak_bytes(model, task, 10, false);
    const std::int64_t ten_checkpointed = ckpt_test::peak_bytes(model, task, 10, true);
    MESSAGE(fmt::format("peak live bytes: 1 step {}, 10 steps {}, 10 checkpointed steps {}", one, ten_full,
                        ten_checkpointed));
    CHECK(ten_full > 3 * one);  // the measurement sees the growth it is meant to remove
    CHECK(ten_checkpointed < one * 3 / 2);
  }

  TEST_CASE("checkpointed adapt: every error message") {
    const ckpt_test::SineSetup sine(15);
    TapeScope scope;
    CHECK_THROWS_WITH_AS(CheckpointedAdapt(sine.support, ckpt_test::identity_start, sine.theta, {0.05, {}}, 0),
                         "checkpointed adapt: the number of inner steps must be >= 1, got 0", ValueError);
    const std::vector<Tensor> one_rate{full({}, 0.05, DType::F64).requires_grad_()};
    CHECK_THROWS_WITH_AS(CheckpointedAdapt(sine.support, ckpt_test::identity_start, sine.theta, {0.05, one_rate}, 1),
                         "checkpointed adapt: 1 learned inner learning rates for 4 parameter tensors", ValueError);
    const CheckpointedAdapt steps(sine.support, ckpt_test::identity_start, sine.theta, {0.05, {}}, 1);
    CHECK_THROWS_WITH_AS(steps.backward(one_rate), "checkpointed adapt: 1 gradients for 4 adapted tensors",
                         ValueError);
    const std::string first_order =
        ": checkpoint_steps is for second order: first order differentiates through no inner gradient, so it has no "
        "inner-step graph to recompute";
    CHECK_THROWS_WITH_AS(check_checkpoint_steps("x", true, true), ("x" + first_order).c_str(), ValueError);
    CHECK_NOTHROW(check_checkpoint_steps("x", true, false));
    CHECK_NOTHROW(check_checkpoint_steps("x", false, true));
    MamlOptions o;
    o.first_order = true;
    o.checkpoint_steps = true;
    nn::Sequential model = test::tiny_mlp(15);
    CHECK_THROWS_WITH_AS(Maml(model, regression(), o), ("maml" + first_order).c_str(), ValueError);
    CHECK_THROWS_WITH_AS(
        maml_meta_gradient(model, regression(), model.parameters(), sine.task,
                           {.first_order = true, .checkpoint_steps = true}),
        ("maml meta-gradient" + first_order).c_str(), ValueError);
  }
}
