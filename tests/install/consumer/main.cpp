// A program outside the metagrad tree: d(x·x)/dx at x = 3; a float64 model built as
// float64, a second derivative through dot over its parameter list, and its parameters
// set from a list; one sinusoid task in float64. It links autograd, nn, datasets and
// meta, and the aggregates it fills by field must not warn (run.sh compiles it with
// -Werror=missing-field-initializers). Prints "grad ok 6".
#include <cstdio>
#include <vector>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "datasets/sinusoid.h"
#include "meta/objective.h"
#include "nn/models.h"

int main() {
  mg::Tensor x = mg::scalar(3.0, mg::DType::F64).requires_grad_();
  const double g = mg::grad(x * x, x).item();
  const mg::data::Task task = mg::data::SinusoidTasks({.k_shot = 5}).sample(0).to(mg::DType::F64);
  const mg::meta::Objective objective = mg::meta::regression();

  mg::Generator gen(0);
  mg::nn::Sequential net = mg::nn::sinusoid_mlp(gen, mg::DType::F64);
  const std::vector<mg::Tensor> theta = net.parameters();
  const mg::Tensor loss = objective.loss(net(task.support_x), task.support_y);
  const std::vector<mg::Tensor> dtheta = mg::grad({loss}, theta, {.create_graph = true});
  const std::vector<mg::Tensor> hv = mg::grad({mg::dot(dtheta, dtheta)}, theta);  // 2 H ∇L
  std::vector<mg::Tensor> adapted;
  for (std::size_t j = 0; j < theta.size(); ++j) adapted.push_back((theta[j] - dtheta[j] * 0.01).detach());
  net.set_parameters(adapted);
  const double after = objective.loss(net(task.support_x), task.support_y).item();

  if (g != 6.0 || task.support_x.shape()[0] != 5 || objective.metric_name != "mse" || hv.size() != theta.size() ||
      !(after < loss.item())) {
    std::printf("grad wrong %g (loss %g -> %g)\n", g, loss.item(), after);
    return 1;
  }
  std::printf("grad ok %g\n", g);
  return 0;
}
