// Assignment 3's grader: Reptile's outer update θ ← θ + ε · (1/n) Σ_i (W_i − θ)
// (meta/reptile.h). The student's result is compared with the rule on random
// weights (one task, then four), and with its closed form for one inner SGD step on
// linear regression, where Reptile is θ − εα∇L(θ) (STYLE.md's worked examples). A
// wrong answer is compared with the usual wrong ones to name the mistake.
#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "tools/course/grader/compare.h"
#include "tools/course/grader/grader.h"

namespace mg::course {
namespace {

using Weights = std::vector<Tensor>;

Weights random_weights(Generator& gen) {
  return {randn({3, 2}, gen, DType::F64), randn({2}, gen, DType::F64)};
}

Weights clones(const Weights& w) {
  Weights out;
  for (const Tensor& t : w) out.push_back(t.clone());
  return out;
}

// θ + ε · combine_j(W_i,j − θ_j) with `combine` the mean (the rule) or a wrong variant.
enum class Combine { Mean, Sum, First, Last };
Weights rule(const Weights& theta, const std::vector<Weights>& w, double epsilon, Combine combine) {
  NoGradGuard no_grad;
  Weights out;
  for (std::size_t j = 0; j < theta.size(); ++j) {
    Tensor d = zeros_like(theta[j]);
    for (std::size_t i = 0; i < w.size(); ++i) {
      const bool take = combine == Combine::Mean || combine == Combine::Sum || (combine == Combine::First && i == 0) ||
                        (combine == Combine::Last && i + 1 == w.size());
      if (take) d = d + (w[i][j] - theta[j]);
    }
    if (combine == Combine::Mean) d = d / static_cast<double>(w.size());
    out.push_back(theta[j] + d * epsilon);
  }
  return out;
}

}  // namespace

Report grade_reptile_outer_update(ReptileOuterUpdate update) {
  Report r{"assignment 3: Reptile outer update", {}};
  Generator gen(17);
  const Weights theta = random_weights(gen);
  std::vector<Weights> four;
  for (int i = 0; i < 4; ++i) four.push_back(random_weights(gen));
  std::string error;

  Check shapes{"shapes", 1, false, ""};
  Weights got1;
  if (runs([&] { got1 = update(theta, {four[0]}, 1.0); }, error)) {
    shapes.passed = got1.size() == theta.size();
    for (std::size_t j = 0; shapes.passed && j < got1.size(); ++j)
      shapes.passed = got1[j].defined() && got1[j].shape() == theta[j].shape();
    shapes.feedback = shapes.passed ? "one tensor per θ_j, of θ_j's shape"
                                    : fmt::format("the new θ must have one tensor per θ_j ({}) of θ_j's shape; got {}",
                                                  theta.size(), got1.size());
  } else {
    shapes.feedback = error;
  }
  r.checks.push_back(shapes);

  Check one{"one task, ε = 1", 2, false, ""};
  if (shapes.passed) {
    one.passed = all_close(got1, four[0]);
    one.feedback = one.passed ? "θ moves all the way to W"
                   : all_close(got1, rule(theta, {four[0]}, -1.0, Combine::Mean))
                       ? "θ moved away from the adapted weights: the direction is W − θ, not θ − W"
                   : all_close(got1, theta) ? "θ did not move"
                                            : "with one task and ε = 1 the new θ must be W";
  } else {
    one.feedback = "needs the shapes check to pass";
  }
  r.checks.push_back(one);

  Check many{"four tasks, ε = 0.5", 3, false, ""};
  Weights got4;
  const Weights theta_before = clones(theta);
  std::vector<Weights> four_before;
  for (const Weights& w : four) four_before.push_back(clones(w));
  if (!shapes.passed) {
    many.feedback = "needs the shapes check to pass";
  } else if (runs([&] { got4 = update(theta, four, 0.5); }, error)) {
    many.passed = all_close(got4, rule(theta_before, four_before, 0.5, Combine::Mean));
    many.feedback = many.passed ? "θ + ε · mean_i(W_i − θ)"
                    : all_close(got4, rule(theta_before, four_before, 0.5, Combine::Sum))
                        ? "you summed the task directions; Reptile takes their mean (1/n) Σ_i (W_i − θ)"
                    : all_close(got4, rule(theta_before, four_before, 1.0, Combine::Mean))
                        ? "ε was ignored: the step is ε times the mean direction"
                    : all_close(got4, rule(theta_before, four_before, 0.5, Combine::First)) ||
                            all_close(got4, rule(theta_before, four_before, 0.5, Combine::Last))
                        ? "only one task's W_i was used; average over all n tasks"
                        : "differs from θ + ε · (1/n) Σ_i (W_i − θ)";
  } else {
    many.feedback = error;
  }
  r.checks.push_back(many);

  Check pure{"inputs unchanged", 1, false, ""};
  bool unchanged = all_close(theta, theta_before, 0.0);
  for (std::size_t i = 0; i < four.size(); ++i) unchanged = unchanged && all_close(four[i], four_before[i], 0.0);
  pure.passed = shapes.passed && unchanged;
  pure.feedback = !shapes.passed ? "needs the shapes check to pass"
                  : unchanged    ? "θ and the W_i are left as they were"
                                 : "you wrote into θ or a W_i: return new tensors (the caller still reads θ, and "
                                   "in place under the tape breaks saved tensors)";
  r.checks.push_back(pure);

  // Linear regression, L(θ) = ½‖Aθ − b‖²: one SGD step W = θ − α∇L(θ), so the update is θ − εα∇L(θ).
  Check worked{"k = 1 on linear regression", 3, false, ""};
  const Tensor a = randn({6, 3}, gen, DType::F64), b = randn({6, 1}, gen, DType::F64);
  const Tensor t0 = randn({3, 1}, gen, DType::F64).requires_grad_();
  const double alpha = 0.1, epsilon = 0.3;
  Tensor g;
  {
    TapeScope scope;
    const Tensor residual = matmul(a, t0) - b;
    g = grad(sum(residual * residual) * 0.5, t0).detach();
  }
  Tensor expected, w;
  {
    NoGradGuard no_grad;
    w = t0.detach() - g * alpha;
    expected = t0.detach() - g * (alpha * epsilon);
  }
  Weights got;
  if (!shapes.passed) {
    worked.feedback = "needs the shapes check to pass";
  } else if (runs([&] { got = update(Weights{t0.detach()}, {{w}}, epsilon); }, error)) {
    worked.passed = got.size() == 1 && close(got[0], expected);
    worked.feedback = worked.passed ? "θ − εα∇L(θ): with one inner step Reptile is SGD on the task loss"
                                    : "with W = θ − α∇L(θ) the update must be θ − εα∇L(θ)";
  } else {
    worked.feedback = error;
  }
  r.checks.push_back(worked);
  return r;
}

}  // namespace mg::course
