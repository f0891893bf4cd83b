// Modules: parameters in a fixed order, the two forwards, layers against the
// ops they wrap, BatchNorm2d's two modes, initialisation and the model builders.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/storage.h"
#include "autograd/tape.h"
#include "autograd/vision.h"
#include "nn/activations.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/gaussian_policy.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/models.h"
#include "nn/pool.h"
#include "nn/sequential.h"

using namespace mg;
using namespace mg::nn;

namespace {

std::vector<std::string> names(const std::vector<NamedTensor>& ts) {
  std::vector<std::string> out;
  for (const auto& t : ts) out.push_back(t.name);
  return out;
}

void check_same(const Tensor& a, const Tensor& b, double tol = 1e-6) {
  REQUIRE(a.shape() == b.shape());
  const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (std::size_t i = 0; i < va.size(); ++i) CHECK(va[i] == doctest::Approx(vb[i]).epsilon(tol));
}

// Every parameter plus `delta` (a new list; the module is untouched).
std::vector<Tensor> shifted(const std::vector<Tensor>& ps, double delta) {
  std::vector<Tensor> out;
  for (const Tensor& p : ps) out.push_back(p.detach() + delta);
  return out;
}

}  // namespace

TEST_SUITE("nn_modules") {
  TEST_CASE("Linear computes x Wᵀ + b with its own or the given parameters") {
    Generator gen(1);
    Linear lin(3, 2, gen);
    const Tensor x = randn({4, 3}, gen);
    check_same(lin.forward(x), matmul(x, transpose(lin.weight())) + lin.bias());
    check_same(lin(x), lin.forward(x));
    const std::vector<Tensor> other = shifted(lin.parameters(), 0.5);
    check_same(lin.forward(x, other), matmul(x, transpose(other[0])) + other[1]);
    CHECK(names(lin.named_parameters()) == std::vector<std::string>{"weight", "bias"});
    Linear no_bias(3, 2, gen, false);
    CHECK_FALSE(no_bias.bias().defined());
    check_same(no_bias.forward(x), matmul(x, transpose(no_bias.weight())));
    CHECK(no_bias.num_parameters() == 6);
  }

  TEST_CASE("Sequential names parameters by layer and hands each layer its slice") {
    Generator gen(2);
    Sequential net;
    net.emplace<Linear>(2, 5, gen).emplace<Tanh>().emplace<Linear>(5, 1, gen);
    CHECK(net.size() == 3);
    CHECK(names(net.named_parameters()) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
    const Tensor x = randn({3, 2}, gen);
    check_same(net.forward(x, net.parameters()), net.forward(x));
    const std::vector<Tensor> p = shifted(net.parameters(), -0.25);
    check_same(net.forward(x, p), matmul(tanh(matmul(x, transpose(p[0])) + p[1]), transpose(p[2])) + p[3]);
    check_same(net[2].forward(tanh(net[0].forward(x))), net.forward(x));
  }

  TEST_CASE("the functional forward refuses parameter lists that do not fit") {
    Generator gen(3);
    Sequential net;
    net.emplace<Linear>(2, 3, gen).emplace<ReLU>().emplace<Linear>(3, 1, gen);
    const Tensor x = randn({1, 2}, gen);
    std::vector<Tensor> p = net.parameters();
    const std::vector<Tensor> few(p.begin(), p.begin() + 3);
    CHECK_THROWS_WITH_AS(net.forward(x, few), doctest::Contains("Linear: forward got 3 parameters, too few: none left for 'bias'"),
                         ValueError);
    p.push_back(zeros({1}));
    CHECK_THROWS_WITH_AS(net.forward(x, p), doctest::Contains("Sequential: forward got 5 parameters, the module has 4"),
                         ValueError);
    p.pop_back();
    p[2] = zeros({3, 1});
    CHECK_THROWS_WITH_AS(net.forward(x, p), doctest::Contains("Linear: parameter 2 ('weight') must be [1, 3], got [3, 1]"),
                         ShapeError);
    p[2] = Tensor{};
    CHECK_THROWS_WITH_AS(net.forward(x, p), doctest::Contains("must be [1, 3], got undefined"), ShapeError);
  }

  TEST_CASE("gradients flow through the functional form to the list, not to the module") {
    Generator gen(4);
    Linear lin(2, 1, gen);
    const Tensor x = randn({5, 2}, gen);
    TapeScope scope;
    const std::vector<Tensor> theta = lin.parameters();
    // One SGD step θ' = θ - α ∇L(θ) kept differentiable, then the loss at θ'.
    const std::vector<Tensor> g = grad({sum(lin.forward(x))}, theta, {.create_graph = true});
    const std::vector<Tensor> theta_i = {theta[0] - 0.1 * g[0], theta[1] - 0.1 * g[1]};
    const Tensor loss = sum(lin.forward(x, theta_i) * lin.forward(x, theta_i));
    const std::vector<Tensor> meta = grad({loss}, theta);
    CHECK(meta[0].shape() == Shape{1, 2});
    CHECK(meta[1].shape() == Shape{1});
  }

  TEST_CASE("Conv2d wraps conv2d with its weight and bias") {
    Generator gen(5);
    Conv2d conv(2, 3, 3, gen, {.stride = 2, .padding = 1});
    const Tensor x = randn({2, 2, 7, 7}, gen);
    check_same(conv.forward(x), conv2d(x, conv.weight(), conv.bias(), 2, 1));
    CHECK(conv.forward(x).shape() == Shape{2, 3, 4, 4});
    Conv2d plain(2, 3, 3, gen, {.bias = false});
    CHECK_FALSE(plain.bias().defined());
    check_same(plain.forward(x), conv2d(x, plain.weight()));
  }

  TEST_CASE("BatchNorm2d in MAML mode uses batch statistics in training and evaluation") {
    Generator gen(6);
    BatchNorm2d bn(3);
    CHECK(bn.named_buffers().empty());
    const Tensor x = randn({4, 3, 2, 2}, gen) * 2.0 + 1.0;
    const Tensor train_out = bn.forward(x);
    bn.eval();
    CHECK_FALSE(bn.training());
    check_same(bn.forward(x), train_out);
    check_same(train_out, batch_norm(x, bn.weight(), bn.bias(), 1e-5));
  }

  TEST_CASE("BatchNorm2d in running mode tracks statistics in training and uses them in evaluation") {
    Generator gen(7);
    BatchNorm2d bn(2, {.mode = BatchNormMode::Running, .momentum = 0.5});
    CHECK(names(bn.named_buffers()) == std::vector<std::string>{"running_mean", "running_var"});
    const Tensor x = randn({5, 2, 3, 3}, gen) + 2.0;
    check_same(bn.forward(x), batch_norm(x, bn.weight(), bn.bias()));
    const Tensor rm = bn.named_buffers()[0].tensor;
    const double mu0 = mean(slice(x, 1, 0, 1)).item();
    CHECK(rm.at({0}) == doctest::Approx(0.5 * mu0).epsilon(1e-5));
    bn.eval();
    const RunningStats r{bn.named_buffers()[0].tensor, bn.named_buffers()[1].tensor};
    const Tensor y = bn.forward(x);
    check_same(y, batch_norm_inference(x, bn.weight(), bn.bias(), r));
    CHECK(rm.at({0}) == doctest::Approx(0.5 * mu0).epsilon(1e-5));  // evaluation leaves them alone
  }

  TEST_CASE("BatchNorm2d with max_pool is max_pool2d(batch_norm(x)), values and gradients bit for bit") {
    // Note [pooling by the normaliser's input]: keys = x while every γ > 0, else keys = y.
    for (DType dt : {DType::F64, DType::F32})
      for (double gamma_sign : {1.0, -1.0})
        for (BatchNormMode mode : {BatchNormMode::Batch, BatchNormMode::Running}) {
          INFO("dtype ", dtype_name(dt), " gamma sign ", gamma_sign, " running ", mode == BatchNormMode::Running);
          Generator gen(11);
          BatchNorm2d pooled(3, {.mode = mode, .max_pool = 2});
          BatchNorm2d plain(3, {.mode = mode});
          pooled.to(dt);
          plain.to(dt);
          // γ of mixed magnitudes; with gamma_sign -1 one channel is negative (the keys are y).
          const Tensor w = uniform({3}, 0.5, 1.5, gen).to(dt);
          const Tensor wv = gamma_sign > 0 ? w : w * from_vector(std::vector<double>{1.0, -1.0, 1.0}, Shape{3}).to(dt);
          const Tensor b = (randn({3}, gen)).to(dt);
          const Tensor x0 = (randn({4, 3, 6, 5}, gen) * 2.0 + 0.5).to(dt);
          for (Tensor* t : {&pooled.weight(), &plain.weight()}) *t = wv.detach().requires_grad_();
          for (Tensor* t : {&pooled.bias(), &plain.bias()}) *t = b.detach().requires_grad_();
          const Tensor x = x0.detach().requires_grad_();
          const Tensor a = relu(pooled.forward(x));
          const Tensor ref = max_pool2d(relu(plain.forward(x)), 2);
          REQUIRE(a.shape() == Shape{4, 3, 3, 2});
          CHECK(a.to_vector<double>() == ref.to_vector<double>());
          const Tensor v = randn(a.shape(), gen).to(dt);
          const auto ga = grad({sum(a * v)}, {x, pooled.weight(), pooled.bias()});
          const auto gr = grad({sum(ref * v)}, {x, plain.weight(), plain.bias()});
          for (int i = 0; i < 3; ++i) CHECK(ga[i].to_vector<double>() == gr[i].to_vector<double>());
          if (mode == BatchNormMode::Running) {  // the running estimates moved the same way (twice each)
            CHECK(pooled.named_buffers()[0].tensor.to_vector<double>() ==
                  plain.named_buffers()[0].tensor.to_vector<double>());
            pooled.eval();
            plain.eval();
            CHECK(pooled.forward(x).to_vector<double>() == max_pool2d(plain.forward(x), 2).to_vector<double>());
          }
        }
  }

  TEST_CASE("BatchNorm2d with max_pool: gradcheck and gradgradcheck in float64") {
    Generator gen(12);
    for (double sign : {1.0, -1.0}) {
      BatchNorm2d bn(2, {.max_pool = 2});
      bn.to(DType::F64);
      const Tensor x = (randn({3, 2, 4, 4}, gen, DType::F64)).requires_grad_();
      const Tensor w = from_vector(std::vector<double>{1.3, 0.7 * sign}, Shape{2}).requires_grad_();
      const Tensor b = from_vector(std::vector<double>{0.2, -0.1}, Shape{2}).requires_grad_();
      const auto f = [&](const std::vector<Tensor>& in) {
        const std::vector<Tensor> params{in[1], in[2]};
        return tanh(relu(bn.forward(in[0], params)) + 0.3);
      };
      const CheckResult r1 = gradcheck(f, {x, w, b});
      CHECK_MESSAGE(r1.ok, r1.message);
      const CheckResult r2 = gradgradcheck(f, {x, w, b});
      CHECK_MESSAGE(r2.ok, r2.message);
    }
  }

  TEST_CASE("BatchNorm2d with max_pool keeps no full-size normalised tensor for the backward") {
    Generator gen(13);
    const Tensor x = randn({8, 4, 16, 16}, gen).requires_grad_();  // 32 KB per full-size tensor
    const std::int64_t full = x.nbytes();
    const auto kept = [&](auto&& forward) {
      TapeScope scope;
      const std::int64_t before = Storage::live_bytes();
      const Tensor y = forward();
      return Storage::live_bytes() - before - y.nbytes();
    };
    BatchNorm2d pooled(4, {.max_pool = 2});
    BatchNorm2d plain(4);
    const std::int64_t fused = kept([&] { return relu(pooled.forward(x)); });
    const std::int64_t composite = kept([&] { return max_pool2d(relu(plain.forward(x)), 2); });
    // The composite keeps the ReLU's full-size output (the pool's keys); the fused form
    // keeps only what batch norm keeps of its own (x is the caller's) and a quarter-size one.
    CHECK(composite - fused >= full);
    CHECK(fused < full / 2);
    CHECK_THROWS_WITH_AS(BatchNorm2d(4, {.max_pool = -1}),
                         "BatchNorm2d: max_pool must be >= 0 (0: no pooling), got -1", ValueError);
  }

  TEST_CASE("activations, pooling and flatten") {
    const Tensor x = from_vector(std::vector<float>{-2.0f, 0.5f, 3.0f, -0.1f}, {1, 1, 2, 2});
    CHECK(ReLU().forward(x).to_vector<float>() == std::vector<float>{0.0f, 0.5f, 3.0f, 0.0f});
    CHECK(LeakyReLU(0.1).forward(x).at({0, 0, 0, 0}) == doctest::Approx(-0.2));
    CHECK(Tanh().forward(x).at({0, 0, 0, 1}) == doctest::Approx(std::tanh(0.5)));
    CHECK(Sigmoid().forward(x).at({0, 0, 1, 0}) == doctest::Approx(1.0 / (1.0 + std::exp(-3.0))));
    CHECK(MaxPool2d(2).forward(x).to_vector<float>() == std::vector<float>{3.0f});
    CHECK(MaxPool2d(1, 1).forward(x).shape() == Shape{1, 1, 2, 2});
    CHECK(Flatten().forward(x).shape() == Shape{1, 4});
    CHECK_THROWS_WITH_AS(Flatten().forward(scalar(1.0)), doctest::Contains("Flatten: x needs a batch axis: x is []"),
                         ShapeError);
    CHECK(ReLU().kind() == "ReLU");
    CHECK(ReLU().parameters().empty());
  }

  TEST_CASE("train/eval, to(dtype) and zero_grad reach every layer") {
    Generator gen(8);
    Sequential net = omniglot_conv4(5, gen);
    net.eval();
    CHECK_FALSE(net[1].training());
    net.train();
    CHECK(net[1].training());
    net.to(DType::F64);
    for (const Tensor& p : net.parameters()) {
      CHECK(p.dtype() == DType::F64);
      CHECK(p.requires_grad());
    }
    Tensor w = net.parameters()[0];
    w.set_grad(ones_like(w));
    net.zero_grad();
    CHECK_FALSE(net.parameters()[0].grad().defined());
  }

  TEST_CASE("initialisers follow PyTorch's bounds and the generator's seed") {
    Generator gen(9);
    Linear lin(100, 50, gen);
    const auto w = lin.weight().to_vector<double>();
    double m2 = 0;
    for (double v : w) {
      CHECK(std::abs(v) <= 0.1);
      m2 += v * v;
    }
    // U(-b, b) has variance b²/3.
    CHECK(m2 / static_cast<double>(w.size()) == doctest::Approx(0.01 / 3).epsilon(0.05));
    for (double v : lin.bias().to_vector<double>()) CHECK(std::abs(v) <= 0.1);
    Generator g1(42), g2(42);
    CHECK(Conv2d(3, 4, 3, g1).weight().to_vector<float>() == Conv2d(3, 4, 3, g2).weight().to_vector<float>());

    Tensor t = zeros({20, 30, 3, 3});
    CHECK(fans(t.shape()).in == 270);
    CHECK(fans(t.shape()).out == 180);
    xavier_uniform_(t, gen, 2.0);
    const double xb = 2.0 * std::sqrt(6.0 / 450.0);
    double top = 0;
    for (double v : t.to_vector<double>()) top = std::max(top, std::abs(v));
    CHECK(top <= xb);
    CHECK(top > 0.9 * xb);
    kaiming_uniform_(t, gen);  // a = 0: b = sqrt(6 / fan_in)
    top = 0;
    for (double v : t.to_vector<double>()) top = std::max(top, std::abs(v));
    CHECK(top <= std::sqrt(6.0 / 270.0));
    CHECK(top > 0.9 * std::sqrt(6.0 / 270.0));
    const std::uint32_t v0 = t.version();
    zeros_(t);
    CHECK(sum(abs(t)).item() == 0.0);
    CHECK(t.version() != v0);
    Tensor u = zeros({1000}, DType::F64);
    uniform_(u, 2.0, 3.0, gen);
    CHECK(mean(u).item() == doctest::Approx(2.5).epsilon(0.02));
    CHECK_THROWS_WITH_AS(fans(Shape{5}), doctest::Contains("init: fans need a weight of at least 2 dimensions"), ValueError);
  }

  TEST_CASE("the MAML networks have the papers' shapes") {
    Generator gen(10);
    Sequential mlp = sinusoid_mlp(gen);
    CHECK(mlp.num_parameters() == 1 * 40 + 40 + 40 * 40 + 40 + 40 + 1);
    CHECK(mlp.forward(zeros({7, 1})).shape() == Shape{7, 1});

    Sequential omni = omniglot_conv4(5, gen);
    CHECK(omni.forward(randn({2, 1, 28, 28}, gen)).shape() == Shape{2, 5});
    CHECK(omni.named_parameters().end()[-2].tensor.shape() == Shape{5, 64});
    CHECK(omni.named_parameters()[0].name == "0.weight");
    // Conv2d, BatchNorm2d (pooling), ReLU per block (Note [pooling by the normaliser's input]).
    CHECK(omni.named_parameters()[2].name == "1.weight");
    CHECK(omni.named_parameters()[4].name == "3.weight");
    CHECK(omni.named_parameters().back().name == "13.bias");
    CHECK(omni.num_parameters() == (64 * 9 + 64 + 128) + 3 * (64 * 64 * 9 + 64 + 128) + 64 * 5 + 5);

    Sequential strided = omniglot_conv4(20, gen, true);
    CHECK(strided.forward(randn({2, 1, 28, 28}, gen)).shape() == Shape{2, 20});
    CHECK(strided.named_parameters().back().tensor.shape() == Shape{20});
    CHECK(conv_net_feature_size({.image_size = 28, .strided = true}) == 2);

    Sequential mini = miniimagenet_conv4(5, gen);
    CHECK(conv_net_feature_size({.image_size = 84}) == 5);
    CHECK(mini.forward(randn({1, 3, 84, 84}, gen)).shape() == Shape{1, 5});
    CHECK(mini.named_parameters().back().tensor.shape() == Shape{5});

    CHECK_THROWS_WITH_AS(conv_net({.image_size = 8}, gen), doctest::Contains("conv_net: 8×8 images vanish after 4 of 4 blocks"),
                         ValueError);
  }

  TEST_CASE("losses and accuracy") {
    const Tensor logits = from_vector(std::vector<float>{2, 1, 0, 0, 3, 1, 1, 0, 5}, {3, 3});
    const Tensor labels = from_vector(std::vector<std::int64_t>{0, 2, 2}, {3});
    CHECK(accuracy(logits, labels) == doctest::Approx(2.0 / 3.0));
    const double lse0 = std::log(std::exp(2.0) + std::exp(1.0) + 1.0);
    const double lse1 = std::log(1.0 + std::exp(3.0) + std::exp(1.0)), lse2 = std::log(std::exp(1.0) + 1.0 + std::exp(5.0));
    CHECK(nn::cross_entropy(logits, labels).item() ==
          doctest::Approx(((lse0 - 2.0) + (lse1 - 1.0) + (lse2 - 5.0)) / 3.0).epsilon(1e-5));
    CHECK(nn::mse_loss(from_vector(std::vector<float>{1, 2}, {2}), from_vector(std::vector<float>{0, 4}, {2})).item() ==
          doctest::Approx(2.5));
    CHECK_THROWS_WITH_AS(accuracy(logits, zeros({2}, DType::I64)),
                         doctest::Contains("accuracy: expected logits [N, C] and labels [N]: logits is [3, 3], labels is [2]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(accuracy(logits, zeros({3})), doctest::Contains("accuracy: labels must be i64, got f32"), DTypeError);
    CHECK_THROWS_WITH_AS(accuracy(zeros({0, 3}), zeros({0}, DType::I64)), doctest::Contains("accuracy: no rows to score"),
                         ValueError);
  }

  TEST_CASE("forward_tasks runs T copies of the network at once (Note [Task stacks])") {
    Generator gen(11);
    Sequential net;
    net.emplace<Linear>(2, 3, gen).emplace<Tanh>().emplace<LeakyReLU>(0.1).emplace<Linear>(3, 1, gen).emplace<ReLU>();
    CHECK(net.supports_task_stacks());
    const std::int64_t tasks = 3;
    const Tensor x = randn({tasks, 4, 2}, gen);
    std::vector<std::vector<Tensor>> per_task;
    std::vector<Tensor> stacked;
    for (const Tensor& p : net.parameters()) {
      std::vector<Tensor> copies;
      for (std::int64_t t = 0; t < tasks; ++t) copies.push_back(p.detach() + 0.1 * static_cast<double>(t));
      stacked.push_back(stack(copies));
      for (std::int64_t t = 0; t < tasks; ++t) {
        if (per_task.size() <= static_cast<std::size_t>(t)) per_task.emplace_back();
        per_task[static_cast<std::size_t>(t)].push_back(copies[static_cast<std::size_t>(t)]);
      }
    }
    const Tensor y = net.forward_tasks(x, stacked);
    REQUIRE(y.shape() == Shape{tasks, 4, 1});
    for (std::int64_t t = 0; t < tasks; ++t)
      check_same(reshape(slice(y, 0, t, t + 1), {4, 1}),
                 net.forward(reshape(slice(x, 0, t, t + 1), {4, 2}), per_task[static_cast<std::size_t>(t)]));
    CHECK_THROWS_WITH_AS(net.forward_tasks(randn({2, 4, 2}, gen), stacked),
                         doctest::Contains("Sequential: input must be [3, ...] for 3 stacked tasks, got [2, 4, 2]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(net.forward_tasks(x, net.parameters()),
                         doctest::Contains("Linear: parameter 0 ('weight') must be [3, 3, 2], got [3, 2]"), ShapeError);
    CHECK_THROWS_WITH_AS(net.forward_tasks(x, std::span(stacked).first(3)),
                         doctest::Contains("Linear: forward got 3 parameters, too few: none left for 'bias'"), ValueError);
    CHECK_THROWS_WITH_AS(net.forward_tasks(x, {}), doctest::Contains("Sequential: forward_tasks needs the stacked parameters"),
                         ValueError);
    CHECK_THROWS_WITH_AS(net.forward_tasks(x, std::vector<Tensor>{full({}, 1.0)}),
                         doctest::Contains("Sequential: stacked parameters need a leading task axis"), ShapeError);
    std::vector<Tensor> too_many = stacked;
    too_many.push_back(stacked[0]);
    CHECK_THROWS_WITH_AS(net.forward_tasks(x, too_many), doctest::Contains("Sequential: forward got 5 parameters, the module has 4"),
                         ValueError);
  }

  TEST_CASE("only Linear, activations and Sequential of them support task stacks") {
    Generator gen(2);
    CHECK(Linear(2, 2, gen).supports_task_stacks());
    CHECK(Sigmoid().supports_task_stacks());
    Conv2d conv(1, 2, 3, gen);
    CHECK_FALSE(conv.supports_task_stacks());
    CHECK_FALSE(BatchNorm2d(2).supports_task_stacks());
    CHECK_FALSE(MaxPool2d(2).supports_task_stacks());
    CHECK_FALSE(Flatten().supports_task_stacks());
    Sequential mixed;
    mixed.emplace<Flatten>().emplace<Linear>(4, 1, gen);
    CHECK_FALSE(mixed.supports_task_stacks());
    CHECK_THROWS_WITH_AS(conv.forward_tasks(zeros({1, 1, 1, 5, 5}), conv.parameters()),
                         doctest::Contains("Conv2d: cannot run a stack of tasks (Linear, activations and Sequential of them can)"),
                         ValueError);
  }

  TEST_CASE("layers and builders take a dtype: a float64 build has the float32 build's draws") {
    auto build = [](int which, DType dtype) {
      Generator gen(21);
      if (which == 0) return sinusoid_mlp(gen, dtype);
      if (which == 1) return omniglot_conv4(5, gen, false, dtype);
      if (which == 2) return omniglot_conv4(5, gen, true, dtype);
      if (which == 3) return miniimagenet_conv4(5, gen, dtype);
      return conv_net({.blocks = 2, .batch_norm = {.mode = BatchNormMode::Running}, .dtype = dtype}, gen);
    };
    auto compare = [](const Module& f32, const Module& f64) {
      const std::vector<NamedTensor> p32 = f32.named_parameters(), p64 = f64.named_parameters();
      REQUIRE(p32.size() == p64.size());
      for (std::size_t i = 0; i < p32.size(); ++i) {
        CAPTURE(p64[i].name);
        CHECK(p32[i].tensor.dtype() == DType::F32);
        CHECK(p64[i].tensor.dtype() == DType::F64);
        CHECK(p64[i].tensor.requires_grad());
        // Rounded to float32, the float64 build is the float32 one bit for bit ...
        CHECK(p64[i].tensor.to(DType::F32).to_vector<float>() == p32[i].tensor.to_vector<float>());
        // ... and the float32 build converted with to() is the float64 one to float32 rounding.
        const std::vector<double> a = p32[i].tensor.to(DType::F64).to_vector<double>();
        const std::vector<double> b = p64[i].tensor.to_vector<double>();
        for (std::size_t k = 0; k < a.size(); ++k) CHECK(std::abs(a[k] - b[k]) <= 0x1p-24 * std::abs(b[k]));
      }
      for (const NamedTensor& b : f64.named_buffers()) CHECK(b.tensor.dtype() == DType::F64);
    };
    for (int which = 0; which < 5; ++which) {
      CAPTURE(which);
      compare(build(which, DType::F32), build(which, DType::F64));
    }
    Generator g32(9), g64(9);
    compare(nav_policy(g32), nav_policy(g64, DType::F64));
    Generator gen(1);
    CHECK(Linear(2, 3, gen, false, DType::F64).weight().dtype() == DType::F64);
    CHECK(Conv2d(1, 2, 3, gen, {}, DType::F64).bias().dtype() == DType::F64);
    CHECK(BatchNorm2d(4, {}, DType::F64).weight().dtype() == DType::F64);
    // A float64 model runs on float64 inputs.
    Generator g2(21);
    Sequential mlp = sinusoid_mlp(g2, DType::F64);
    CHECK(mlp.forward(zeros({3, 1}, DType::F64)).dtype() == DType::F64);
  }

  TEST_CASE("an input of another dtype than the parameters names the layer and the parameter") {
    Generator gen(5);
    Sequential net = sinusoid_mlp(gen);
    CHECK_THROWS_WITH_AS(net.forward(zeros({3, 1}, DType::F64)),
                         "Sequential: dtypes differ: parameter 0.weight (in Linear) is f32, the input is f64; build "
                         "the model as f64 (the dtype argument of its layers and builders) or convert it with to()",
                         DTypeError);
    // The functional forward checks the list it is given, in parameters() order.
    std::vector<Tensor> p = net.parameters();
    p[3] = p[3].to(DType::F64);
    CHECK_THROWS_WITH_AS(net.forward(zeros({3, 1}), p),
                         "Sequential: dtypes differ: params[3], for parameter 2.bias (in Linear), is f64, the input is "
                         "f32",
                         DTypeError);
    std::vector<Tensor> stacked;
    for (const Tensor& t : net.parameters()) stacked.push_back(stack({t.detach(), t.detach()}));
    CHECK_THROWS_WITH_AS(net.forward_tasks(zeros({2, 3, 1}, DType::F64), stacked),
                         "Sequential: dtypes differ: params[0], for parameter 0.weight (in Linear), is f32, the input "
                         "is f64",
                         DTypeError);
    for (Tensor& t : p) t = t.to(DType::F64);
    CHECK(net.forward(zeros({3, 1}, DType::F64), p).dtype() == DType::F64);  // a float64 list on a float32 model
    // A layer on its own names itself; a model converted with to() runs.
    Linear lin(2, 1, gen);
    CHECK_THROWS_WITH_AS(lin.forward(zeros({1, 2}, DType::F64)),
                         doctest::Contains("Linear: dtypes differ: parameter weight (in Linear) is f32, the input is "
                                           "f64"),
                         DTypeError);
    lin.to(DType::F64);
    CHECK(lin.forward(zeros({1, 2}, DType::F64)).dtype() == DType::F64);
  }

  TEST_CASE("set_parameters copies a list into the parameters in place") {
    Generator gen(6);
    Sequential net = sinusoid_mlp(gen);
    const std::vector<Tensor> before = net.parameters();
    std::vector<Tensor> values;
    for (const Tensor& t : before) values.push_back(full_like(t, 0.5));
    const Tensor x = randn({4, 1}, gen);
    const Tensor want = net.forward(x, values);
    net.set_parameters(values);
    check_same(net.forward(x), want);
    // The same tensors (what optimizers hold), still leaves that require grad.
    for (std::size_t i = 0; i < before.size(); ++i) {
      CHECK(net.parameters()[i].is_same(before[i]));
      CHECK(before[i].requires_grad());
      CHECK(before[i].to_vector<double>() == values[i].to_vector<double>());
    }
    // A list that shares storage with other parameters (rotated) is read before writing.
    Sequential two;
    two.emplace<Linear>(2, 2, gen, false).emplace<Linear>(2, 2, gen, false);
    const std::vector<Tensor> p = two.parameters();
    const std::vector<double> w0 = p[0].to_vector<double>(), w1 = p[1].to_vector<double>();
    two.set_parameters(std::vector<Tensor>{p[1].detach(), p[0].detach()});
    CHECK(p[0].to_vector<double>() == w1);
    CHECK(p[1].to_vector<double>() == w0);
  }

  TEST_CASE("set_parameters refuses a list that does not fit and writes nothing") {
    Generator gen(7);
    Sequential net = sinusoid_mlp(gen);
    const std::vector<Tensor> p = net.parameters();
    const std::vector<double> first = p[0].to_vector<double>();
    std::vector<Tensor> v;
    for (const Tensor& t : p) v.push_back(zeros_like(t));
    const std::vector<Tensor> short_list(v.begin(), v.begin() + 5);
    CHECK_THROWS_WITH_AS(net.set_parameters(short_list),
                         "Sequential: set_parameters got 5 tensors, the module has 6 parameters", ValueError);
    v[4] = zeros({40, 1});
    CHECK_THROWS_WITH_AS(net.set_parameters(v),
                         "Sequential: set_parameters: shapes differ: 4.weight is [1, 40], values[4] is [40, 1]",
                         ShapeError);
    v[4] = zeros({1, 40});
    v[5] = zeros({1}, DType::F64);
    CHECK_THROWS_WITH_AS(net.set_parameters(v),
                         "Sequential: set_parameters: dtypes differ: 4.bias is f32, values[5] is f64; convert the "
                         "values with to()",
                         DTypeError);
    v[5] = Tensor{};
    CHECK_THROWS_WITH_AS(net.set_parameters(v), "Sequential: set_parameters: values[5], for 4.bias, is undefined",
                         ValueError);
    CHECK(p[0].to_vector<double>() == first);  // nothing was written
  }
}
