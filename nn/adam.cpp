#include "nn/adam.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/kernels/adam.h"

namespace mg::nn {

Adam::Adam(std::vector<Tensor> params, const AdamOptions& o)
    : Optimizer("adam", std::move(params), o.lr), options_(o), m_(this->params().size()), v_(this->params().size()) {
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0 && o.beta2 >= 0.0 && o.beta2 < 1.0) || !(o.eps > 0.0) ||
      o.weight_decay < 0.0)
    throw ValueError(fmt::format("adam: need 0 <= beta1, beta2 < 1, eps > 0, weight_decay >= 0; got beta1 {}, "
                                 "beta2 {}, eps {}, weight_decay {}",
                                 o.beta1, o.beta2, o.eps, o.weight_decay));
  slots_.emplace_back("m", &m_);
  slots_.emplace_back("v", &v_);
}

std::vector<Tensor> Adam::second_moments() const {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < v_.size(); ++i)
    out.push_back(v_[i].defined() ? v_[i].clone() : zeros_like(params()[i].detach()));
  return out;
}

void Adam::restart_from(std::span<const Tensor> v, std::int64_t step) {
  if (v.size() != params().size() || step < 0)
    throw ValueError(fmt::format("adam: a restart needs one second moment per parameter and a step >= 0; got {} for {} "
                                 "parameters, step {}",
                                 v.size(), params().size(), step));
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i].shape() != params()[i].shape() || v[i].dtype() != params()[i].dtype())
      throw ShapeError(fmt::format("adam: second moment {} must be {} {}, got {} {}", i, params()[i].shape().str(),
                                   dtype_name(params()[i].dtype()), v[i].shape().str(), dtype_name(v[i].dtype())));
  for (std::size_t i = 0; i < v.size(); ++i) {
    m_[i] = Tensor{};
    v_[i] = v[i].clone();
    steps_[i] = step;
  }
}

void Adam::update(std::size_t i, Tensor& param, const Tensor& grad) {
  const AdamOptions& o = options_;
  if (!m_[i].defined()) m_[i] = zeros_like(param);
  if (!v_[i].defined()) v_[i] = zeros_like(param);
  const double t = static_cast<double>(steps_[i]);
  kernels::AdamStep s;
  s.beta1 = o.beta1;
  s.beta2 = o.beta2;
  s.c1 = 1.0 - std::pow(o.beta1, t);
  s.c2 = 1.0 - std::pow(o.beta2, t);
  s.l2 = o.decoupled_weight_decay ? 0.0 : o.weight_decay;
  s.shrink = o.decoupled_weight_decay ? 1.0 - lr() * o.weight_decay : 1.0;
  s.lr = lr();
  s.eps = o.eps;
  kernels::adam_update(param, grad, m_[i], v_[i], s);
}

}  // namespace mg::nn
