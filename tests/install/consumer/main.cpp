// A program outside the metagrad tree: d(x·x)/dx at x = 3, and one sinusoid task,
// so that it links autograd, datasets and meta. Prints "grad ok 6".
#include <cstdio>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "datasets/sinusoid.h"
#include "meta/objective.h"

int main() {
  mg::Tensor x = mg::scalar(3.0, mg::DType::F64).requires_grad_();
  const double g = mg::grad(x * x, x).item();
  const mg::data::Task task = mg::data::SinusoidTasks({.k_shot = 5}).sample(0);
  const mg::meta::Objective objective = mg::meta::regression();
  if (g != 6.0 || task.support_x.shape()[0] != 5 || objective.metric_name != "mse") {
    std::printf("grad wrong %g\n", g);
    return 1;
  }
  std::printf("grad ok %g\n", g);
  return 0;
}
