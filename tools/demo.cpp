// Fit y = sin(x) on x in [-5, 5] with a 1-40-40-1 tanh MLP and Adam.
//
// The model is three matmuls written directly with autograd ops; each step
// runs inside a TapeScope, so the tape is rewound and its memory returned
// after every update, and the update itself runs under NoGradGuard.
#include "tools/demo.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

namespace mg::tools {

namespace {

struct Mlp {
  std::vector<Tensor> params;  // w1 [1,40], b1 [40], w2 [40,40], b2 [40], w3 [40,1], b3 [1]

  explicit Mlp(Generator& gen) {
    const std::vector<std::pair<Shape, double>> layout = {
        {{1, 40}, 1.0}, {{40}, 1.0}, {{40, 40}, 1.0 / std::sqrt(40.0)}, {{40}, 1.0 / std::sqrt(40.0)},
        {{40, 1}, 1.0 / std::sqrt(40.0)}, {{1}, 1.0 / std::sqrt(40.0)}};
    for (const auto& [shape, bound] : layout) params.push_back(uniform(shape, -bound, bound, gen).requires_grad_());
  }

  Tensor operator()(const Tensor& x) const {
    const Tensor h1 = tanh(matmul(x, params[0]) + params[1]);
    const Tensor h2 = tanh(matmul(h1, params[2]) + params[3]);
    return matmul(h2, params[4]) + params[5];
  }
};

// Adam (Kingma & Ba 2015, Algorithm 1) on plain tensors, under no-grad.
struct Adam {
  explicit Adam(double learning_rate) : lr(learning_rate) {}
  double lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int t = 0;
  std::vector<Tensor> m, v;

  void step(std::vector<Tensor>& params, const std::vector<Tensor>& grads) {
    NoGradGuard no_grad;
    if (m.empty())
      for (const Tensor& p : params) {
        m.push_back(zeros_like(p));
        v.push_back(zeros_like(p));
      }
    ++t;
    const double c1 = 1.0 - std::pow(beta1, t), c2 = 1.0 - std::pow(beta2, t);
    for (std::size_t i = 0; i < params.size(); ++i) {
      m[i] = m[i] * beta1 + grads[i] * (1.0 - beta1);
      v[i] = v[i] * beta2 + grads[i] * grads[i] * (1.0 - beta2);
      const Tensor update = (m[i] / c1) / (sqrt(v[i] / c2) + eps);
      params[i] = (params[i] - update * lr).detach().requires_grad_();
    }
  }
};

}  // namespace

DemoResult run_demo(const DemoOptions& options, std::FILE* out) {
  Generator gen(options.seed);
  Mlp net(gen);
  std::vector<float> xs(100), ys(100);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    xs[i] = -5.0f + 10.0f * static_cast<float>(i) / 99.0f;
    ys[i] = std::sin(xs[i]);
  }
  const Tensor x = from_vector(xs, {100, 1});
  const Tensor y = from_vector(ys, {100, 1});
  Adam adam(options.lr);
  DemoResult result;
  for (int step = 0; step <= options.steps; ++step) {
    TapeScope scope;
    const Tensor loss = mse_loss(net(x), y);
    if (step == 0) result.first_loss = loss.item();
    result.final_loss = loss.item();
    if (step % options.print_every == 0 || step == options.steps)
      fmt::print(out, "step {:>5}  loss {:.5f}\n", step, loss.item());
    if (step == options.steps) break;
    adam.step(net.params, grad({loss}, net.params));
  }
  return result;
}

}  // namespace mg::tools
