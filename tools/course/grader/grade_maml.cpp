// Assignment 2's grader: MAML's inner loop.
//
// The student's θ' is compared with meta::adapt's (values after 0, 1 and 3 steps),
// and the meta-gradient through it, ∇_θ L_query(θ'), with maml_meta_gradient's, the
// library's reference, for 1 and 2 steps. A wrong answer is compared with the usual
// wrong ones to name the mistake: an uphill step, one step instead of k, every step
// at θ's gradient, a θ' cut from θ, and the first-order meta-gradient, which is what
// an inner loop without create_graph yields (meta/maml.cpp: the Hessian term
// (I − α∇²L) is then missing).
#include <fmt/format.h>

#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "meta/maml.h"
#include "meta/objective.h"
#include "tools/course/grader/compare.h"
#include "tools/course/grader/grader.h"
#include "tools/course/grader/tiny_task.h"

namespace mg::course {
namespace {

constexpr double kInnerLr = 0.05;  // α: large enough that the Hessian term is far above the tolerance

}  // namespace

Report grade_maml_inner_loop(MamlInnerLoop inner_loop) {
  Report r{"assignment 2: MAML inner loop", {}};
  TinyTask s;
  std::string error;
  // The student's θ' after `steps` steps, as values.
  const auto student = [&](int steps) {
    TapeScope scope;
    return detach_all(inner_loop(s.support_loss(), s.leaves(), kInnerLr, steps));
  };

  Check shapes{"shapes", 1, false, ""};
  std::vector<Tensor> one;
  if (runs([&] { one = student(1); }, error)) {
    shapes.passed = one.size() == s.theta.size();
    for (std::size_t j = 0; shapes.passed && j < one.size(); ++j)
      shapes.passed = one[j].defined() && one[j].shape() == s.theta[j].shape();
    shapes.feedback = shapes.passed ? "one tensor per θ_j, of θ_j's shape"
                                    : fmt::format("θ' must have one tensor per θ_j ({}) of θ_j's shape; got {} tensors",
                                                  s.theta.size(), one.size());
  } else {
    shapes.feedback = error;
  }
  r.checks.push_back(shapes);

  Check zero{"zero steps", 1, false, ""};
  if (runs([&] { zero.passed = all_close(student(0), s.theta, 0.0); }, error))
    zero.feedback = zero.passed ? "0 steps return θ" : "with steps = 0, θ' must be θ itself";
  else
    zero.feedback = error;
  r.checks.push_back(zero);

  Check step1{"one step", 2, false, ""};
  if (!shapes.passed) {
    step1.feedback = "needs the shapes check to pass";
  } else {
    step1.passed = all_close(one, s.reference(kInnerLr, 1));
    step1.feedback = step1.passed                                     ? "θ' = θ − α∇L(θ) on the support set"
                     : all_close(one, s.reference(-kInnerLr, 1))      ? "you stepped uphill: θ' = θ − α∇L, a minus"
                     : all_close(one, s.reference(kInnerLr, 0), 1e-12) ? "θ' equals θ: no step was taken"
                                                                       : "θ' differs from θ − α∇L_support(θ)";
  }
  r.checks.push_back(step1);

  Check step3{"three steps", 2, false, ""};
  std::vector<Tensor> three;
  if (!step1.passed) {
    step3.feedback = "needs the one-step check to pass";
  } else if (runs([&] { three = student(3); }, error)) {
    step3.passed = all_close(three, s.reference(kInnerLr, 3));
    step3.feedback = step3.passed ? "3 steps, each at the gradient of the current θ'"
                     : all_close(three, s.reference(kInnerLr, 1)) ? "you took one step, not `steps`"
                     : all_close(three, s.reference(3 * kInnerLr, 1))
                         ? "every step used ∇L(θ); each step needs the gradient at the current θ'"
                         : "θ' after 3 steps differs from 3 steps of θ' ← θ' − α∇L(θ')";
  } else {
    step3.feedback = error;
  }
  r.checks.push_back(step3);

  // The meta-gradient through the student's θ', for k = 1 and 2.
  Check connected{"θ' depends on θ", 1, false, ""};
  Check meta_grad{"meta-gradient", 3, false, ""};
  bool connected_all = step1.passed, second_all = step1.passed, first_all = step1.passed;
  for (int k = 1; k <= 2 && step1.passed; ++k) {
    std::vector<Tensor> g;
    const bool ran = runs([&] {
      TapeScope scope;
      const std::vector<Tensor> theta = s.leaves();
      const std::vector<Tensor> theta_i = inner_loop(s.support_loss(), theta, kInnerLr, k);
      const Tensor query = s.query_loss(theta_i);
      g = detach_all(grad({query}, theta, {.allow_unused = true}));
    }, error);
    bool defined = ran;
    for (const Tensor& t : g) defined = defined && t.defined();
    connected_all = connected_all && defined;
    const meta::MetaGradientOptions o{.inner_lr = kInnerLr, .inner_steps = k};
    second_all =
        second_all && defined && all_close(g, meta::maml_meta_gradient(s.model, s.objective, s.theta, s.task, o));
    first_all = first_all && defined &&
                all_close(g, meta::maml_meta_gradient(s.model, s.objective, s.theta, s.task,
                                                      {.inner_lr = kInnerLr, .inner_steps = k, .first_order = true}));
    if (!ran) connected.feedback = error;
  }
  connected.passed = connected_all;
  if (connected.feedback.empty())
    connected.feedback = !step1.passed ? "needs the one-step check to pass"
                         : connected_all ? "∇_θ L_query(θ') reaches every θ_j"
                                         : "the query loss at your θ' does not depend on θ: θ' was cut from the "
                                           "graph (detach() or a fresh leaf); MAML differentiates through θ'";
  r.checks.push_back(connected);
  meta_grad.passed = second_all;
  meta_grad.feedback = !connected_all ? "needs θ' to depend on θ"
                  : second_all   ? "matches maml_meta_gradient (second order) for 1 and 2 steps"
                  : first_all    ? "your meta-gradient is first order: the inner gradients were taken without "
                                   "create_graph, so the Hessian term (I − α∇²L) is missing; pass "
                                   "{.create_graph = true} to grad() in the inner loop"
                                 : "differs from maml_meta_gradient, second and first order alike";
  r.checks.push_back(meta_grad);
  return r;
}

}  // namespace mg::course
