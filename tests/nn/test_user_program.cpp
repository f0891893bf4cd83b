// A program written as a user would write it, against the installed headers only
// (issue 16): a model of one's own, built in float64; a second-order gradient of it;
// its parameters set from a list in memory; a task converted to float64. Below it, every
// aggregate of the public headers initialised with one designated field: none may warn
// under -Wmissing-field-initializers (part of -Wextra), so that warning is an error here.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wmissing-field-initializers"
#endif

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "autograd/vision.h"
#include "datasets/episodes.h"
#include "datasets/navigation.h"
#include "datasets/omniglot.h"
#include "datasets/png_codec.h"
#include "datasets/resize.h"
#include "datasets/sinusoid.h"
#include "datasets/splits.h"
#include "datasets/task.h"
#include "meta/adapt.h"
#include "meta/evaluate.h"
#include "meta/maml.h"
#include "meta/objective.h"
#include "meta/pretrain.h"
#include "meta/reptile.h"
#include "nn/activations.h"
#include "nn/adam.h"
#include "nn/batchnorm.h"
#include "nn/checkpoint.h"
#include "nn/conv2d.h"
#include "nn/linear.h"
#include "nn/models.h"
#include "nn/sequential.h"
#include "nn/sgd.h"
#include "nn/trpo.h"

namespace {

// --- the user's model: y = a · tanh(x W + b), in the dtype asked for -----------
class Ripple : public mg::nn::Module {
 public:
  Ripple(mg::Generator& gen, mg::DType dtype) : Module("Ripple") {
    add_parameter("w", mg::uniform({1, 8}, -1, 1, gen, dtype));
    add_parameter("b", mg::uniform({8}, -1, 1, gen, dtype));
    add_parameter("a", mg::uniform({8, 1}, -0.5, 0.5, gen, dtype));
  }
  mg::Tensor forward_with(const mg::Tensor& x, mg::nn::ParamCursor& p) override {
    return mg::matmul(mg::tanh(mg::matmul(x, take(p, 0)) + take(p, 1)), take(p, 2));
  }
};

}  // namespace

TEST_SUITE("user_program") {
  TEST_CASE("a model of one's own in float64: second order, parameters from a list, float64 tasks") {
    mg::TapeScope scope;
    mg::Generator gen(5);
    Ripple model(gen, mg::DType::F64);
    const mg::data::Task task =
        mg::data::SinusoidTasks({.k_shot = 5, .q_query = 5, .seed = 3}).sample(0).to(mg::DType::F64);
    REQUIRE(task.support_x.dtype() == mg::DType::F64);

    // One inner SGD step θ' = θ − α∇L_s(θ) with its graph, then the query loss at θ': the
    // meta-gradient of MAML written by hand, and checked against finite differences.
    const double alpha = 0.1;
    auto query_loss_after_step = [&](const std::vector<mg::Tensor>& theta) {
      const mg::Tensor support = mg::mse_loss(model.forward(task.support_x, theta), task.support_y);
      const std::vector<mg::Tensor> g = mg::grad({support}, theta, {.create_graph = true});
      std::vector<mg::Tensor> adapted;
      for (std::size_t j = 0; j < theta.size(); ++j) adapted.push_back(theta[j] - g[j] * alpha);
      return mg::mse_loss(model.forward(task.query_x, adapted), task.query_y);
    };
    const std::vector<mg::Tensor> theta = model.parameters();
    const std::vector<mg::Tensor> meta_grad = mg::grad({query_loss_after_step(theta)}, theta);
    // Along a direction v: <meta_grad, v> = (L(θ + h v) − L(θ − h v)) / 2h + O(h²).
    std::vector<mg::Tensor> v, up, down;
    const double h = 1e-5;
    for (const mg::Tensor& p : theta) {
      v.push_back(mg::randn(p.shape(), gen, mg::DType::F64));
      up.push_back((p.detach() + v.back() * h).requires_grad_());
      down.push_back((p.detach() - v.back() * h).requires_grad_());
    }
    const double numeric = (query_loss_after_step(up).item() - query_loss_after_step(down).item()) / (2 * h);
    CHECK(mg::dot(meta_grad, v).item() == doctest::Approx(numeric).epsilon(1e-6));

    // A Hessian-vector product with dot over the parameter list (grad.h's example).
    const mg::Tensor loss = mg::mse_loss(model(task.support_x), task.support_y);
    const std::vector<mg::Tensor> g = mg::grad({loss}, theta, {.create_graph = true});
    const std::vector<mg::Tensor> hv = mg::grad({mg::dot(g, g)}, theta);  // ∇‖g‖² = 2 H g
    CHECK(hv.size() == 3);

    // Without create_graph the second derivative is refused with the fix in the message.
    const std::vector<mg::Tensor> flat = mg::grad({loss}, theta);
    CHECK_THROWS_WITH_AS(mg::grad({mg::dot(flat, flat)}, theta), doctest::Contains("pass {.create_graph = true}"),
                         mg::GradError);

    // The adapted parameters computed by hand become the model's own.
    std::vector<mg::Tensor> adapted;
    for (std::size_t j = 0; j < theta.size(); ++j) adapted.push_back((theta[j] - flat[j] * alpha).detach());
    const mg::Tensor want = model.forward(task.query_x, adapted);
    model.set_parameters(adapted);
    CHECK(model(task.query_x).to_vector<double>() == want.to_vector<double>());

    // A float32 input is refused by name.
    CHECK_THROWS_WITH_AS(model(task.support_x.to(mg::DType::F32)),
                         doctest::Contains("Ripple: dtypes differ: parameter w (in Ripple) is f64, the input is f32"),
                         mg::DTypeError);
  }

  TEST_CASE("every aggregate of the public headers takes one designated field without a warning") {
    const mg::Tensor t = mg::zeros({2});
    // autograd
    CHECK(mg::GradOptions{.allow_unused = true}.allow_unused);
    CHECK(mg::CheckOptions{.atol = 1e-3}.rtol > 0);
    CHECK(mg::CheckResult{.ok = false}.message.empty());
    CHECK(mg::RunningStats{.momentum = 0.5}.momentum == 0.5);
    // nn
    CHECK(mg::nn::NamedTensor{.name = "w"}.name == "w");
    CHECK(mg::nn::Checkpoint{.step = 3}.tensors.empty());
    CHECK(mg::nn::OptimizerState{.kind = "sgd"}.scalars.empty());
    CHECK(mg::nn::Conv2dOptions{.padding = 1}.stride == 1);
    CHECK(mg::nn::BatchNormOptions{.eps = 1e-3}.momentum > 0);
    CHECK(mg::nn::ConvNetOptions{.n_way = 3}.dtype == mg::DType::F32);
    CHECK(mg::nn::SgdOptions{.lr = 0.5}.momentum == 0);
    CHECK(mg::nn::AdamOptions{.lr = 0.5}.beta1 > 0);
    CHECK(mg::nn::TrpoOptions{.max_kl = 0.5}.cg_iterations > 0);
    CHECK(mg::nn::TrpoStep{.accepted = true}.theta.empty());
    // datasets
    CHECK_FALSE(mg::data::Task{.support_x = t}.query_x.defined());
    CHECK(mg::data::SinusoidParams{.amplitude = 2}.phase == 0);
    CHECK(mg::data::SinusoidConfig{.k_shot = 2}.q_query > 0);
    CHECK(mg::data::CharacterSplit{.train = {"a"}}.test.empty());
    CHECK(mg::data::GrayImage{.width = 1}.pixels.empty());
    CHECK(mg::data::EpisodeConfig{.n_way = 3}.k_shot > 0);
    CHECK(mg::data::OmniglotOptions{.threads = 1}.image_size > 0);
    CHECK(mg::data::Resizer::Tap{.source = 1}.weight == 0);
    CHECK(mg::data::Resizer::Axis{.first = {0}}.taps.empty());
    CHECK_FALSE(mg::data::NavRollout{.observations = t}.mask.defined());
    CHECK(mg::data::NavConfig{.horizon = 5}.max_step > 0);
    CHECK(mg::data::NavGoal{.x = 1}.y == 0);
    // meta
    CHECK(mg::meta::Objective{.metric_name = "mse"}.higher_is_better == false);
    CHECK(mg::meta::EvalResult{.metric_name = "mse"}.steps.empty());
    CHECK(mg::meta::EvalOptions{.num_tasks = 5}.inner_steps > 0);
    CHECK(mg::meta::Summary{.mean = 1}.n == 0);
    CHECK(mg::meta::InnerLr{.value = 0.5}.per_tensor.empty());
    CHECK(mg::meta::InnerLrSetting{.value = 0.5}.adam_v.empty());
    CHECK(mg::meta::MamlOptions{.inner_lr = 0.5}.inner_steps > 0);
    CHECK(mg::meta::ReptileOptions{.inner_lr = 0.5}.inner_steps > 0);
    CHECK(mg::meta::PretrainOptions{.lr = 0.5}.meta_batch > 0);
  }
}

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
