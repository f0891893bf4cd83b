// Tutorial: your own model with metagrad (README, "Tutorial: your own model").
// A tiny MLP, its gradient checked against finite differences, its tape
// printed, then meta-trained with MAML on sinusoid regression.
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "autograd/check.h"
#include "autograd/creation.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/sinusoid.h"
#include "meta/maml.h"
#include "nn/module.h"

using namespace mg;

// A model is an nn::Module: register the parameters once, then write the
// forward pass with differentiable ops. take(p, i) reads parameter i, so the
// same code runs with the model's own weights or with adapted ones (MAML).
class TinyMlp : public nn::Module {
 public:
  explicit TinyMlp(Generator& gen) : Module("TinyMlp") {
    add_parameter("w1", uniform({1, 40}, -1, 1, gen));      // x -> 40 hidden units
    add_parameter("b1", uniform({40}, -1, 1, gen));
    add_parameter("w2", uniform({40, 1}, -0.2, 0.2, gen));  // 40 hidden units -> y
  }
  Tensor forward_with(const Tensor& x, nn::ParamCursor& p) override {
    Tensor hidden = tanh(matmul(x, take(p, 0)) + take(p, 1));
    return matmul(hidden, take(p, 2));
  }
};

int main() {
  Generator gen(0);  // every random draw is seeded

  // 1. Check the gradient: the loss as a function of the parameters, in float64,
  //    against central differences.
  TinyMlp probe(gen);
  probe.to(DType::F64);
  Tensor x = randn({5, 1}, gen, DType::F64), y = randn({5, 1}, gen, DType::F64);
  auto loss_of = [&](const std::vector<Tensor>& theta) { return mse_loss(probe.forward(x, theta), y); };
  CheckResult check = gradcheck(loss_of, probe.parameters());
  fmt::print("gradcheck: {} (max error {:.2e})\n", check.ok ? "ok" : check.message, check.max_abs_error);

  // 2. Look at the tape: one numbered line per recorded op.
  {
    TapeScope scope;  // rewinds the tape at the closing brace
    Tensor loss = loss_of(probe.parameters());
    fmt::print("{}", dump());
  }

  // 3. Meta-train with MAML on sine waves: one inner step (lr 0.01), outer Adam (lr 0.01).
  TinyMlp model(gen);
  meta::Maml maml(model, meta::regression(), /*inner_lr=*/0.01, /*outer_lr=*/0.01, /*num_inner_steps=*/1);
  const data::SinusoidTasks train_tasks({.seed = 1}), test_tasks({.seed = 2});
  const meta::EvalOptions eval{.num_tasks = 100, .inner_steps = 1};
  const double before = maml.test(test_tasks, eval).metric.back().mean;  // test MSE after one step
  maml.train(train_tasks, 300);
  const double after = maml.test(test_tasks, eval).metric.back().mean;
  fmt::print("test MSE after one inner step: {:.3f} before meta-training, {:.3f} after\n", before, after);

  return check.ok && after < before ? 0 : 1;
}
