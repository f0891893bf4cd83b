// Second order through a whole conv4 network (conv2d, batch_norm, relu,
// max_pool2d, linear, cross-entropy): the Hessian-vector product from two
// reverse sweeps (the second over the create_graph gradient) must match
// central finite differences of the gradient, in float64.
//
//   Hv = d/dθ <∇L(θ), v>          vs        (∇L(θ + εv) - ∇L(θ - εv)) / 2ε
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "nn/loss.h"
#include "nn/models.h"

using namespace mg;
using namespace mg::nn;

namespace {

std::vector<Tensor> axpy(const std::vector<Tensor>& theta, double a, const std::vector<Tensor>& v) {
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < theta.size(); ++k) out.push_back((theta[k].detach() + v[k] * a).detach().requires_grad_());
  return out;
}

std::vector<Tensor> loss_grad(Sequential& net, const std::vector<Tensor>& theta, const Tensor& x, const Tensor& y) {
  TapeScope scope;
  return grad({cross_entropy(net.forward(x, theta), y)}, theta);
}

void check_hvp(const ConvNetOptions& options) {
  Generator gen(21);
  Sequential net = conv_net(options, gen);
  net.to(DType::F64);
  const Tensor x = randn({3, options.in_channels, options.image_size, options.image_size}, gen, DType::F64);
  const Tensor y = from_vector(std::vector<std::int64_t>{0, 2, 1}, {3});
  const std::vector<Tensor> theta = net.parameters();
  std::vector<Tensor> v;
  for (const Tensor& p : theta) v.push_back(randn(p.shape(), gen, DType::F64));

  std::vector<Tensor> hv;
  {
    TapeScope scope;
    const std::vector<Tensor> g = grad({cross_entropy(net.forward(x), y)}, theta, {.create_graph = true});
    Tensor gv = zeros({}, DType::F64);
    for (std::size_t k = 0; k < g.size(); ++k) gv = gv + sum(g[k] * v[k]);
    hv = grad({gv}, theta);
  }
  const double eps = 1e-5;
  const std::vector<Tensor> up = loss_grad(net, axpy(theta, eps, v), x, y);
  const std::vector<Tensor> down = loss_grad(net, axpy(theta, -eps, v), x, y);
  double max_err = 0.0, max_ref = 0.0;
  for (std::size_t k = 0; k < theta.size(); ++k) {
    const auto a = hv[k].to_vector<double>(), u = up[k].to_vector<double>(), d = down[k].to_vector<double>();
    for (std::size_t j = 0; j < a.size(); ++j) {
      const double numeric = (u[j] - d[j]) / (2 * eps);
      max_err = std::max(max_err, std::abs(numeric - a[j]));
      max_ref = std::max(max_ref, std::abs(numeric));
    }
  }
  CAPTURE(max_err);
  CAPTURE(max_ref);
  CHECK(max_ref > 1e-3);  // the product is not trivially zero
  CHECK(max_err <= 1e-6 * std::max(1.0, max_ref));
}

}  // namespace

TEST_SUITE("nn_second_order") {
  TEST_CASE("conv4 Hessian-vector product matches finite differences (max-pool)") {
    check_hvp({.in_channels = 1, .image_size = 16, .channels = 4, .n_way = 3});
  }
  TEST_CASE("conv4 Hessian-vector product matches finite differences (stride-2 convolutions)") {
    check_hvp({.in_channels = 2, .image_size = 9, .channels = 3, .n_way = 3, .strided = true});
  }
}
