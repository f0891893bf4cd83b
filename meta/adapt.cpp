#include "meta/adapt.h"

#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "nn/adam.h"

namespace mg::meta {

namespace {

// θ_j − α_j g_j for every tensor j.
std::vector<Tensor> descend(std::span<const Tensor> theta, const std::vector<Tensor>& g, const InnerLr& lr) {
  std::vector<Tensor> next(theta.size());
  for (std::size_t j = 0; j < theta.size(); ++j)
    next[j] = lr.per_tensor.empty() ? theta[j] - g[j] * lr.value : theta[j] - g[j] * lr.per_tensor[j];
  return next;
}

// Checks a kept Adam state against the weights it starts: one v_j of each θ_j's shape.
void check_carried_state(const std::vector<Tensor>& weights, const InnerLrSetting& rule) {
  if (rule.adam_v.size() != weights.size())
    throw ValueError(fmt::format("adaptation: {} second-moment tensors for {} parameter tensors", rule.adam_v.size(),
                                 weights.size()));
  for (std::size_t j = 0; j < weights.size(); ++j)
    if (rule.adam_v[j].shape() != weights[j].shape())
      throw ShapeError(fmt::format("adaptation: second moment {} is {}, its weights are {}", j,
                                   rule.adam_v[j].shape().str(), weights[j].shape().str()));
}

}  // namespace

std::vector<Tensor> adapt(nn::Module& model, const LossFn& loss, std::span<const Tensor> theta, const Tensor& x,
                          const Tensor& y, const InnerLr& lr, int steps, AdaptMode mode) {
  return adapt([&](std::span<const Tensor> t) { return loss(model.forward(x, t), y); }, theta, lr, steps, mode);
}

std::vector<Tensor> adapt(const SupportLoss& support_loss, std::span<const Tensor> theta, const InnerLr& lr,
                          int steps, AdaptMode mode) {
  if (steps < 0) throw ValueError(fmt::format("adapt: the number of inner steps must be >= 0, got {}", steps));
  if (!lr.per_tensor.empty() && lr.per_tensor.size() != theta.size())
    throw ValueError(fmt::format("adapt: {} learned inner learning rates for {} parameter tensors",
                                 lr.per_tensor.size(), theta.size()));
  std::vector<Tensor> theta_i(theta.begin(), theta.end());
  if (mode == AdaptMode::Detached) {
    for (Tensor& t : theta_i) t = t.detach().requires_grad_();
    for (int k = 0; k < steps; ++k) {
      TapeScope scope;  // rewound after every step: memory does not grow with k
      const std::vector<Tensor> g = grad({support_loss(theta_i)}, theta_i);
      NoGradGuard no_grad;
      std::vector<Tensor> next = descend(theta_i, g, lr);
      for (std::size_t j = 0; j < next.size(); ++j) theta_i[j] = next[j].detach().requires_grad_();
    }
    return theta_i;
  }
  const bool second_order = mode == AdaptMode::SecondOrder;
  for (int k = 0; k < steps; ++k) {
    // Groups the step's nodes in pictures of the tape (tools/graph.h); costs one name lookup per step.
    TapeLabel label(fmt::format("inner step {}", k + 1));
    std::vector<Tensor> g;
    if (second_order) {
      g = grad({support_loss(theta_i)}, theta_i, {.create_graph = true});
    } else {
      // First order: g is a constant, so nothing of this step's forward is needed once
      // g is known. Rewinding it here keeps a FOMAML task's memory flat in the number of
      // steps: one support pass alive at a time, as in the detached loop.
      TapeScope step;
      g = grad({support_loss(theta_i)}, theta_i);
    }
    theta_i = descend(theta_i, g, lr);
  }
  return theta_i;
}

std::vector<Tensor> thread_aliases(std::span<const Tensor> theta) {
  std::vector<Tensor> out;
  out.reserve(theta.size());
  for (const Tensor& t : theta) out.push_back(t.detach().requires_grad_());
  return out;
}

Adaptation::Adaptation(std::span<const Tensor> theta, const InnerLrSetting& rule) : rule_(rule) {
  if (!rule.per_tensor.empty() && rule.per_tensor.size() != theta.size())
    throw ValueError(fmt::format("adaptation: {} learned inner learning rates for {} parameter tensors",
                                 rule.per_tensor.size(), theta.size()));
  if (!rule.per_tensor.empty() && rule.optimizer == InnerOptimizer::Adam)
    throw ValueError("adaptation: learned per-tensor inner learning rates work with SGD only, not Adam");
  if (rule.optimizer == InnerOptimizer::Sgd) {
    weights_ = thread_aliases(theta);  // adapt() never writes θ: aliases suffice
    return;
  }
  {
    NoGradGuard no_grad;
    for (const Tensor& t : theta) weights_.push_back(t.clone().requires_grad_());
  }
  optimizer_ = std::make_unique<nn::Adam>(weights_, nn::AdamOptions{.lr = rule.value, .beta1 = rule.adam_beta1});
  if (rule.adam_v.empty()) return;
  check_carried_state(weights_, rule);
  optimizer_->restart_from(rule.adam_v, rule.adam_step);
}

std::vector<Tensor> Adaptation::second_moments() const {
  if (!optimizer_) throw ValueError("adaptation: second moments exist for Adam only, this is SGD");
  return optimizer_->second_moments();
}

void Adaptation::run(const SupportLoss& loss, int steps) {
  if (steps < 0) throw ValueError(fmt::format("adaptation: the number of inner steps must be >= 0, got {}", steps));
  if (!optimizer_) {
    weights_ = adapt(loss, weights_, {rule_.value, rule_.per_tensor}, steps, AdaptMode::Detached);
    return;
  }
  for (int k = 0; k < steps; ++k) {
    TapeScope scope;  // rewound after every step, as in adapt()
    optimizer_->step(grad({loss(weights_)}, weights_));
  }
}

}  // namespace mg::meta
