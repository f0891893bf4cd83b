// Assignment 4's grader: a learned inner learning rate, Meta-SGD style
// (meta/meta_sgd.h): α has θ's shape, θ' = θ − α ∘ ∇L_support(θ), and the outer
// loop differentiates the query loss at θ' with respect to θ and α both.
//
// The checks: α's shape and start; the step's values; the meta-gradient with
// respect to α and θ on the tiny exact problem (grader/tiny_task.h), against the
// same step computed here with create_graph; and a training run on sinusoids that
// must reach the stated post-step MSE with α moving (a rate that is not meta-learned
// stays where it started).
#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "datasets/sinusoid.h"
#include "nn/adam.h"
#include "nn/models.h"
#include "tools/course/grader/compare.h"
#include "tools/course/grader/grader.h"
#include "tools/course/grader/tiny_task.h"

namespace mg::course {
namespace {

// θ − α ∘ ∇L(θ), second order: the library's inner step (meta/adapt.h) with per-element rates.
std::vector<Tensor> reference_step(const meta::SupportLoss& loss, std::span<const Tensor> theta,
                                   std::span<const Tensor> alpha) {
  return meta::adapt(loss, theta, meta::InnerLr{0.0, alpha}, 1, meta::AdaptMode::SecondOrder);
}

// ∇ of the tiny task's query loss after one step (student's or reference), w.r.t. θ then α.
std::vector<Tensor> meta_gradient(TinyTask& s, const std::vector<Tensor>& alpha_values, bool reference,
                                  const LearnedLr& student) {
  TapeScope scope;
  const std::vector<Tensor> theta = s.leaves();
  const std::vector<Tensor> alpha = meta::thread_aliases(alpha_values);
  const std::vector<Tensor> theta_i = reference ? reference_step(s.support_loss(), theta, alpha)
                                                : student.step(s.support_loss(), theta, alpha);
  std::vector<Tensor> wrt = theta;
  wrt.insert(wrt.end(), alpha.begin(), alpha.end());
  return detach_all(grad({s.query_loss(theta_i)}, wrt, {.allow_unused = true}));
}

struct TrainingResult {
  double mse_before = 0.0, mse_after = 0.0;  // on the test tasks, at θ and at θ'
  double alpha_change = 0.0;                 // max |α − α at the start|
};

TrainingResult train(const LearnedLr& student, const LearnedLrTraining& o) {
  Generator gen(1);
  nn::Sequential model = nn::sinusoid_mlp(gen);
  const std::vector<Tensor> theta = model.parameters();
  const std::vector<Tensor> alpha = student.init(theta, o.initial_lr);
  std::vector<Tensor> alpha_start;
  for (const Tensor& a : alpha) alpha_start.push_back(a.detach().clone());
  // A rate that does not require grad is left out: it keeps its start, which the report names.
  std::vector<Tensor> params = theta;
  for (const Tensor& a : alpha)
    if (a.requires_grad()) params.push_back(a);
  nn::Adam outer(params, {.lr = o.outer_lr});
  const meta::Objective objective = meta::regression();
  const data::SinusoidTasks train_tasks({.k_shot = 10, .q_query = 10, .seed = 1});
  const data::SinusoidTasks test_tasks({.k_shot = 10, .q_query = 10, .seed = 2});
  const auto support_loss = [&](const data::Task& task) -> meta::SupportLoss {
    return [&](std::span<const Tensor> t) { return objective.loss(model.forward(task.support_x, t), task.support_y); };
  };
  for (int it = 0; it < o.iterations; ++it) {
    std::vector<Tensor> sum(params.size());
    for (int b = 0; b < o.meta_batch; ++b) {
      const data::Task task = train_tasks.sample(static_cast<std::uint64_t>(it) * o.meta_batch + b);
      TapeScope scope;
      const std::vector<Tensor> theta_i = student.step(support_loss(task), theta, alpha);
      const Tensor query = objective.loss(model.forward(task.query_x, theta_i), task.query_y);
      const std::vector<Tensor> g = grad({query}, params, {.allow_unused = true});
      NoGradGuard no_grad;
      for (std::size_t j = 0; j < g.size(); ++j)
        if (g[j].defined()) sum[j] = sum[j].defined() ? sum[j] + g[j].detach() : g[j].detach();
    }
    NoGradGuard no_grad;
    for (std::size_t j = 0; j < sum.size(); ++j)
      sum[j] = sum[j].defined() ? sum[j] / static_cast<double>(o.meta_batch) : zeros_like(params[j]);
    outer.step(sum);
  }
  TrainingResult r;
  for (int i = 0; i < o.test_tasks; ++i) {
    const data::Task task = test_tasks.sample(static_cast<std::uint64_t>(i));
    TapeScope scope;
    r.mse_before += objective.metric(model.forward(task.query_x, theta), task.query_y) / o.test_tasks;
    const std::vector<Tensor> theta_i = student.step(support_loss(task), theta, alpha);
    r.mse_after += objective.metric(model.forward(task.query_x, theta_i), task.query_y) / o.test_tasks;
  }
  for (std::size_t j = 0; j < alpha.size(); ++j)
    for (double d : (alpha[j].detach() - alpha_start[j]).to(DType::F64).to_vector<double>())
      r.alpha_change = std::max(r.alpha_change, std::abs(d));
  return r;
}

}  // namespace

Report grade_learned_lr(const LearnedLr& student, const LearnedLrTraining& training) {
  Report r{"assignment 4: learned inner learning rate (Meta-SGD)", {}};
  TinyTask s;
  std::string error;

  Check init{"α's shape and start", 1, false, ""};
  std::vector<Tensor> alpha;
  if (runs([&] { alpha = student.init(s.leaves(), 0.02); }, error)) {
    bool shapes = alpha.size() == s.theta.size(), start = shapes, learned = shapes;
    for (std::size_t j = 0; shapes && j < alpha.size(); ++j) {
      shapes = alpha[j].defined() && alpha[j].shape() == s.theta[j].shape();
      start = start && shapes && close(alpha[j], full_like(s.theta[j], 0.02), 1e-6);
      learned = learned && shapes && alpha[j].requires_grad();
    }
    init.passed = shapes && start && learned;
    init.feedback = init.passed ? "one rate per element of θ, at initial_lr, requiring grad"
                    : !shapes   ? "Meta-SGD learns one rate per element: α_j must have θ_j's shape"
                    : !start    ? "every element of α must start at initial_lr"
                                : "α is not meta-learned: it does not require grad, so the outer loop gets no "
                                  "gradient for it (requires_grad_())";
  } else {
    init.feedback = error;
  }
  r.checks.push_back(init);

  // Rates of the step checks: positive, different per element, independent of the student's init.
  Generator gen(23);
  std::vector<Tensor> rates;
  for (const Tensor& t : s.theta) rates.push_back(uniform(t.shape(), 0.01, 0.1, gen, DType::F64));

  Check step{"one step", 2, false, ""};
  std::vector<Tensor> got;
  if (runs([&] {
        TapeScope scope;
        got = detach_all(student.step(s.support_loss(), s.leaves(), meta::thread_aliases(rates)));
      }, error)) {
    std::vector<Tensor> expected, uphill;
    {
      TapeScope scope;
      expected = detach_all(reference_step(s.support_loss(), s.leaves(), rates));
      std::vector<Tensor> negated;
      for (const Tensor& a : rates) negated.push_back(-a);
      uphill = detach_all(reference_step(s.support_loss(), s.leaves(), negated));
    }
    step.passed = all_close(got, expected);
    step.feedback = step.passed                 ? "θ' = θ − α ∘ ∇L(θ)"
                    : all_close(got, uphill)    ? "you stepped uphill: θ' = θ − α ∘ ∇L, a minus"
                    : all_close(got, s.theta)   ? "θ' equals θ: no step was taken"
                                                : "θ' differs from θ − α ∘ ∇L(θ), elementwise";
  } else {
    step.feedback = error;
  }
  r.checks.push_back(step);

  Check meta_grad{"meta-gradient", 2, false, ""};
  std::vector<Tensor> g;
  if (!step.passed) {
    meta_grad.feedback = "needs the one-step check to pass";
  } else if (runs([&] { g = meta_gradient(s, rates, false, student); }, error)) {
    const std::vector<Tensor> expected = meta_gradient(s, rates, true, student);
    const std::size_t n = s.theta.size();
    bool alpha_defined = true;
    for (std::size_t j = n; j < g.size(); ++j) alpha_defined = alpha_defined && g[j].defined();
    const bool theta_ok = all_close(std::span(g).first(n), std::span(expected).first(n));
    meta_grad.passed = alpha_defined && all_close(g, expected);
    meta_grad.feedback = meta_grad.passed ? "∂L_query/∂θ and ∂L_query/∂α match the second-order reference"
                         : !alpha_defined ? "the query loss does not depend on α: α was detached or not used in "
                                            "the step, so it cannot be meta-learned"
                         : !theta_ok      ? "∂L_query/∂θ differs: take the inner gradient with create_graph"
                                          : "∂L_query/∂α differs from −∇L_support ∘ ∇_θ'L_query";
  } else {
    meta_grad.feedback = error;
  }
  r.checks.push_back(meta_grad);

  Check reach{"sinusoid MSE", 5, false, ""};
  TrainingResult t;
  if (runs([&] { t = train(student, training); }, error)) {
    const bool moved = t.alpha_change > 0.0;
    reach.passed = moved && std::isfinite(t.mse_after) && t.mse_after <= training.target_mse;
    const std::string seen = fmt::format("after {} meta-iterations the mean MSE on {} test tasks is {:.3f} "
                                         "after one step ({:.3f} before it), target <= {}",
                                         training.iterations, training.test_tasks, t.mse_after, t.mse_before,
                                         training.target_mse);
    reach.feedback = reach.passed ? seen
                     : !moved     ? seen + "; α never changed during training: it is not meta-learned"
                                  : seen + "; hint: a large initial α or an uphill step diverges";
  } else {
    reach.feedback = error;
  }
  r.checks.push_back(reach);
  return r;
}

}  // namespace mg::course
