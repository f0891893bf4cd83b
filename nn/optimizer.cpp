#include "nn/optimizer.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/tape.h"

namespace mg::nn {

void require_finite_lr(std::string_view kind, double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr))
    throw ValueError(fmt::format("{}: learning rate must be finite and non-negative, got {}", kind, lr));
}

Optimizer::Optimizer(std::string kind, std::vector<Tensor> params, double lr)
    : steps_(params.size(), 0), kind_(std::move(kind)), params_(std::move(params)), lr_(lr) {
  require_finite_lr(kind_, lr);
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (!params_[i].defined() || !params_[i].is_leaf() || !is_floating(params_[i].dtype()))
      throw ValueError(fmt::format("{}: parameter {} must be a floating leaf tensor", kind_, i));
}

void Optimizer::set_lr(double lr) {
  require_finite_lr(kind_, lr);
  lr_ = lr;
}

void Optimizer::step() {
  std::vector<Tensor> grads;
  grads.reserve(params_.size());
  for (const Tensor& p : params_) grads.push_back(p.grad());
  step(grads);
}

void Optimizer::step(const std::vector<Tensor>& grads) {
  if (grads.size() != params_.size())
    throw ValueError(fmt::format("{}: step got {} gradients for {} parameters", kind_, grads.size(), params_.size()));
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    if (grads[i].shape() != params_[i].shape())
      throw ShapeError(fmt::format("{}: gradient {} does not fit its parameter: parameter is {}, gradient is {}", kind_,
                                   i, params_[i].shape().str(), grads[i].shape().str()));
    if (grads[i].dtype() != params_[i].dtype())
      throw DTypeError(fmt::format("{}: gradient {} is {}, its parameter is {}", kind_, i,
                                   dtype_name(grads[i].dtype()), dtype_name(params_[i].dtype())));
  }
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined()) continue;
    ++steps_[i];
    update(i, params_[i], grads[i].detach());
    params_[i].bump_version();
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

OptimizerState Optimizer::state() const {
  OptimizerState s{kind_, {}, {{"lr", lr_}}};
  for (std::size_t i = 0; i < params_.size(); ++i) {
    s.scalars.emplace_back(fmt::format("step.{}", i), static_cast<double>(steps_[i]));
    for (const auto& [name, slot] : slots_)
      if ((*slot)[i].defined()) s.tensors.push_back({fmt::format("{}.{}", name, i), (*slot)[i].clone()});
  }
  return s;
}

void Optimizer::load_state(const OptimizerState& s) {
  if (s.kind != kind_)
    throw ValueError(fmt::format("{}: cannot load the state of a '{}' optimizer", kind_, s.kind));
  std::vector<std::vector<Tensor>> fresh(slots_.size(), std::vector<Tensor>(params_.size()));
  std::vector<std::int64_t> steps(params_.size(), 0);
  double lr = lr_;
  for (const auto& [name, value] : s.scalars) {
    std::size_t i = 0;
    if (name == "lr") lr = value;
    else if (std::sscanf(name.c_str(), "step.%zu", &i) == 1 && i < params_.size()) {
      // A count read from a file: converting a double outside int64's range is undefined
      // behaviour (found by tests/fuzz/fuzz_checkpoint), so check before converting.
      if (!(value >= 0.0 && value < 0x1p63 && std::floor(value) == value))
        throw ValueError(fmt::format("{}: state entry '{}' must be a whole number in [0, 2^63), got {}", kind_, name,
                                     value));
      steps[i] = static_cast<std::int64_t>(value);
    } else throw ValueError(fmt::format("{}: unknown state entry '{}'", kind_, name));
  }
  for (const NamedTensor& t : s.tensors) {
    bool known = false;
    for (std::size_t k = 0; k < slots_.size() && !known; ++k) {
      const std::string& prefix = slots_[k].first;
      std::size_t i = 0;
      if (t.name.rfind(prefix + ".", 0) != 0 || std::sscanf(t.name.c_str() + prefix.size() + 1, "%zu", &i) != 1 ||
          i >= params_.size())
        continue;
      if (t.tensor.shape() != params_[i].shape() || t.tensor.dtype() != params_[i].dtype())
        throw ShapeError(fmt::format("{}: state '{}' must be {} {}, got {} {}", kind_, t.name,
                                     params_[i].shape().str(), dtype_name(params_[i].dtype()), t.tensor.shape().str(),
                                     dtype_name(t.tensor.dtype())));
      fresh[k][i] = t.tensor.clone();
      known = true;
    }
    if (!known) throw ValueError(fmt::format("{}: unknown state entry '{}'", kind_, t.name));
  }
  set_lr(lr);
  steps_ = steps;
  for (std::size_t k = 0; k < slots_.size(); ++k) *slots_[k].second = std::move(fresh[k]);
}

}  // namespace mg::nn
