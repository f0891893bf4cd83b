// The example at the top of autograd/grad.h, quoted verbatim (a Meson test checks the
// quote, tests/check_header_example.py), run on a small float64 model: the first-order
// gradient, the differentiable gradient and the Hessian-vector product it gives,
// against central differences of the gradient.
#include <doctest/doctest.h>

#include <vector>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

namespace {

// L(w, b) = sum(tanh(x w + b)) for a fixed x [4, 2]: w [2, 3], b [3].
struct Model {
  Tensor x;
  Tensor operator()(const std::vector<Tensor>& p) const { return sum(tanh(matmul(x, p[0]) + p[1])); }
  // ∇L at p as plain tensors.
  std::vector<Tensor> gradient(const std::vector<Tensor>& p) const {
    std::vector<Tensor> leaves;
    for (const Tensor& t : p) leaves.push_back(t.detach().clone().requires_grad_());
    return grad({(*this)(leaves)}, leaves);
  }
};

}  // namespace

TEST_SUITE("higher_order") {
  TEST_CASE("the example of grad.h: first order, create_graph and a Hessian-vector product") {
    TapeScope scope;
    Generator gen(3);
    const Model model{randn({4, 2}, gen, DType::F64)};
    Tensor w = randn({2, 3}, gen, DType::F64).requires_grad_();
    Tensor b = randn({3}, gen, DType::F64).requires_grad_();
    const std::vector<Tensor> params = {w, b};
    const std::vector<Tensor> v = {randn({2, 3}, gen, DType::F64), randn({3}, gen, DType::F64)};
    const Tensor loss = model(params);

    // --- grad.h ---
    Tensor dw = grad(loss, w);                              // first order
    auto g = grad({loss}, params, {.create_graph = true});  // g is differentiable:
    auto hv = grad({dot(g, v)}, params);                    //   Hessian-vector product
    // ---

    REQUIRE(g.size() == 2);
    CHECK(g[0].requires_grad());
    CHECK_FALSE(dw.requires_grad());
    CHECK(dw.to_vector<double>() == g[0].to_vector<double>());
    // H v = (∇L(θ + h v) − ∇L(θ − h v)) / 2h, to O(h²).
    const double h = 1e-5;
    std::vector<Tensor> up, down;
    for (std::size_t j = 0; j < params.size(); ++j) {
      up.push_back(params[j].detach() + v[j] * h);
      down.push_back(params[j].detach() - v[j] * h);
    }
    const std::vector<Tensor> g_up = model.gradient(up), g_down = model.gradient(down);
    REQUIRE(hv.size() == 2);
    for (std::size_t j = 0; j < hv.size(); ++j) {
      const std::vector<double> got = hv[j].to_vector<double>();
      const std::vector<double> a = g_up[j].to_vector<double>(), c = g_down[j].to_vector<double>();
      for (std::size_t k = 0; k < got.size(); ++k)
        CHECK(got[k] == doctest::Approx((a[k] - c[k]) / (2 * h)).epsilon(1e-6));
    }
  }
}
