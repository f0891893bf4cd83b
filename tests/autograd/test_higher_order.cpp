// Gradients of gradients: the backward formulas are written with
// differentiable ops, so differentiating again needs no extra code.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

namespace {

// A small float64 MLP 2-5-3-1 with tanh, and its parameters.
struct Mlp {
  Tensor w1, b1, w2, b2, w3;
  explicit Mlp(std::uint64_t seed) {
    Generator gen(seed);
    w1 = randn({2, 5}, gen, DType::F64).requires_grad_();
    b1 = randn({5}, gen, DType::F64).requires_grad_();
    w2 = randn({5, 3}, gen, DType::F64).requires_grad_();
    b2 = randn({3}, gen, DType::F64).requires_grad_();
    w3 = randn({3, 1}, gen, DType::F64).requires_grad_();
  }
  std::vector<Tensor> params() const { return {w1, b1, w2, b2, w3}; }
  Tensor operator()(const Tensor& x, const std::vector<Tensor>& p) const {
    return matmul(tanh(matmul(tanh(matmul(x, p[0]) + p[1]), p[2]) + p[3]), p[4]);
  }
};

double nth_derivative_at(double x0, int order, const std::function<Tensor(const Tensor&)>& f) {
  TapeScope scope;
  Tensor x = scalar(x0, DType::F64).requires_grad_();
  Tensor d = f(x);
  for (int k = 0; k < order; ++k) d = grad(d, x, {.create_graph = true});
  return d.item();
}

}  // namespace

TEST_SUITE("higher_order") {
  TEST_CASE("d^3/dx^3 tanh matches the closed form") {
    // t' = 1 - t^2, t'' = -2 t t', t''' = -2 t'^2 + 4 t^2 t'
    for (double x0 : {-1.3, -0.2, 0.4, 1.7}) {
      const double t = std::tanh(x0), t1 = 1 - t * t;
      const double expected = -2 * t1 * t1 + 4 * t * t * t1;
      CHECK(nth_derivative_at(x0, 3, [](const Tensor& x) { return tanh(x); }) ==
            doctest::Approx(expected).epsilon(1e-12));
    }
  }

  TEST_CASE("d^3/dx^3 of an MLP's output matches finite differences of its second derivative") {
    const Mlp net(11);
    const std::vector<Tensor> p = net.params();
    auto f = [&](const Tensor& x) {
      // the scalar input enters as the first feature, the second is fixed
      const Tensor row = concat({reshape(x, {1, 1}), full({1, 1}, 0.3, DType::F64)}, 1);
      return sum(net(row, p));
    };
    const double x0 = 0.25, h = 1e-4;
    const double third = nth_derivative_at(x0, 3, f);
    const double fd = (nth_derivative_at(x0 + h, 2, f) - nth_derivative_at(x0 - h, 2, f)) / (2 * h);
    CHECK(third == doctest::Approx(fd).epsilon(1e-6));
  }

  TEST_CASE("Hessian-vector product of an MLP loss matches finite differences of gradients") {
    const Mlp net(5);
    Generator gen(9);
    const Tensor x = randn({7, 2}, gen, DType::F64);
    const Tensor y = randn({7, 1}, gen, DType::F64);
    const std::vector<Tensor> theta = net.params();
    std::vector<Tensor> v;
    for (const Tensor& p : theta) v.push_back(randn(p.shape(), gen, DType::F64));

    // Hv = d/dθ <∇L(θ), v>
    std::vector<Tensor> hv;
    {
      TapeScope scope;
      const std::vector<Tensor> g = grad({mse_loss(net(x, theta), y)}, theta, {.create_graph = true});
      Tensor gv = zeros({}, DType::F64);
      for (std::size_t i = 0; i < g.size(); ++i) gv = gv + sum(g[i] * v[i]);
      hv = grad({gv}, theta);
    }
    // (∇L(θ + h v) - ∇L(θ - h v)) / 2h
    const double h = 1e-5;
    auto grad_at = [&](double s) {
      TapeScope scope;
      std::vector<Tensor> shifted;
      {
        NoGradGuard off;
        for (std::size_t i = 0; i < theta.size(); ++i) shifted.push_back((theta[i] + v[i] * s).detach().requires_grad_());
      }
      std::vector<Tensor> g = grad({mse_loss(net(x, shifted), y)}, shifted);
      for (Tensor& t : g) t = t.detach();
      return g;
    };
    const std::vector<Tensor> up = grad_at(h), down = grad_at(-h);
    double num = 0, den = 0;
    for (std::size_t i = 0; i < theta.size(); ++i)
      for (std::int64_t j = 0; j < theta[i].numel(); ++j) {
        const double fd = (up[i].data<double>()[j] - down[i].data<double>()[j]) / (2 * h);
        const double a = hv[i].data<double>()[j];
        num += (fd - a) * (fd - a);
        den += fd * fd;
      }
    CHECK(den > 0);
    CHECK(std::sqrt(num / den) < 1e-6);
  }
}
