// A custom model meta-trained with MAML in under 20 lines: the tutorial's promise.
#include <doctest/doctest.h>

#include "autograd/creation.h"
#include "autograd/ops.h"
#include "datasets/sinusoid.h"
#include "meta/maml.h"
#include "nn/module.h"

using namespace mg;

namespace {
// --- the user's code: a model with a learned frequency, y = a·tanh(w x + b) ---
class Wave : public nn::Module {
 public:
  explicit Wave(Generator& gen) : Module("Wave") {
    add_parameter("w", uniform({1, 16}, -1, 1, gen));
    add_parameter("b", uniform({16}, -1, 1, gen));
    add_parameter("a", uniform({16, 1}, -0.5, 0.5, gen));
  }
  Tensor forward_with(const Tensor& x, nn::ParamCursor& p) override {
    return matmul(tanh(matmul(x, take(p, 0)) + take(p, 1)), take(p, 2));
  }
};
}  // namespace

TEST_SUITE("maml") {
  TEST_CASE("a custom module meta-trains with MAML in a few lines") {
    Generator gen(0);
    Wave model(gen);
    meta::Maml maml(model, meta::regression(), /*inner_lr=*/0.01, /*outer_lr=*/0.01, /*num_inner_steps=*/1);
    const data::SinusoidTasks train_tasks({.seed = 1}), test_tasks({.seed = 2});
    const meta::EvalOptions eval{.num_tasks = 100, .inner_steps = 1};
    const double before = maml.test(test_tasks, eval).metric.back().mean;
    maml.train(train_tasks, 300);
    const double after = maml.test(test_tasks, eval).metric.back().mean;
    CHECK(after < 0.8 * before);
  }
}
