// One MAML step on linear regression, the course's worked example.
//
// L(θ) = ½‖Aθ − b‖², ∇L(θ) = Aᵀ(Aθ − b), ∇²L = AᵀA.
// Inner step on the support set:  θ' = θ − α ∇L_s(θ).
// Meta-gradient of the query loss through the step (chain rule, dθ'/dθ = I − α A_sᵀA_s):
//   d L_q(θ') / dθ = (I − α A_sᵀ A_s) ∇L_q(θ')
// First-order MAML treats ∇L_s(θ) as a constant, so dθ'/dθ = I and the
// meta-gradient is just ∇L_q(θ').
#include <doctest/doctest.h>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"

using namespace mg;

namespace {

struct Regression {
  Tensor a_s, b_s, a_q, b_q;  // support and query: A [n, d], b [n, 1]
};

Tensor loss(const Tensor& a, const Tensor& b, const Tensor& theta) {
  const Tensor r = matmul(a, theta) - b;
  return mul_scalar(sum(r * r), 0.5);
}

// The meta-gradient computed by differentiating through the inner step.
Tensor meta_gradient(const Regression& t, const Tensor& theta, double inner_lr, bool first_order) {
  TapeScope scope;
  Tensor g = grad(loss(t.a_s, t.b_s, theta), theta, {.create_graph = !first_order});
  if (first_order) g = g.detach();
  const Tensor theta_i = theta - g * inner_lr;
  return grad(loss(t.a_q, t.b_q, theta_i), theta).detach();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data<double>()[i] - b.data<double>()[i]));
  return m;
}

}  // namespace

TEST_SUITE("maml_math") {
  TEST_CASE("second-order meta-gradient equals (I - alpha As^T As) grad Lq(theta')") {
    Generator gen(21);
    const std::int64_t d = 4;
    const Regression t{randn({6, d}, gen, DType::F64), randn({6, 1}, gen, DType::F64), randn({5, d}, gen, DType::F64),
                       randn({5, 1}, gen, DType::F64)};
    const Tensor theta = randn({d, 1}, gen, DType::F64).requires_grad_();
    const double alpha = 0.05;

    // Closed form, computed without the tape.
    NoGradGuard off;
    const Tensor grad_s = matmul(t.a_s, matmul(t.a_s, theta) - t.b_s, true, false);
    const Tensor theta_i = theta - grad_s * alpha;
    const Tensor grad_q = matmul(t.a_q, matmul(t.a_q, theta_i) - t.b_q, true, false);
    Tensor eye = zeros({d, d}, DType::F64);
    for (std::int64_t i = 0; i < d; ++i) eye.set({i, i}, 1.0);
    const Tensor factor = eye - matmul(t.a_s, t.a_s, true, false) * alpha;
    const Tensor expected = matmul(factor, grad_q);
    const Tensor expected_fo = grad_q;

    EnableGradGuard on;
    const Tensor second = meta_gradient(t, theta, alpha, false);
    const Tensor first = meta_gradient(t, theta, alpha, true);
    CHECK(max_abs_diff(second, expected) < 1e-10);
    CHECK(max_abs_diff(first, expected_fo) < 1e-10);
    // The two really differ: the curvature term is not negligible here.
    CHECK(max_abs_diff(second, first) > 1e-3);
  }
}
