#include "nn/sgd.h"

#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/errors.h"

namespace mg::nn {

Sgd::Sgd(std::vector<Tensor> params, const SgdOptions& options)
    : Optimizer("sgd", std::move(params), options.lr), options_(options), momentum_(this->params().size()) {
  if (options.momentum < 0.0 || options.weight_decay < 0.0)
    throw ValueError(fmt::format("sgd: momentum and weight decay must be non-negative, got {} and {}",
                                 options.momentum, options.weight_decay));
  if (options.nesterov && (options.momentum <= 0.0 || options.dampening != 0.0))
    throw ValueError("sgd: Nesterov momentum needs momentum > 0 and dampening 0");
  slots_.emplace_back("momentum_buffer", &momentum_);
}

void Sgd::update(std::size_t i, Tensor& param, const Tensor& grad) {
  const SgdOptions& o = options_;
  const bool first = o.momentum != 0.0 && !momentum_[i].defined();
  if (first) momentum_[i] = zeros_like(param);
  dispatch_float("sgd", param.dtype(), [&]<class T>() {
    T* theta = param.mutable_data<T>();
    const T* g = grad.data<T>();
    T* b = o.momentum != 0.0 ? momentum_[i].mutable_data<T>() : nullptr;
    const std::int64_t n = param.numel();
    const double lr_now = lr();
    for (std::int64_t j = 0; j < n; ++j) {
      double d = static_cast<double>(g[j]) + o.weight_decay * static_cast<double>(theta[j]);
      if (b) {
        const double buf = first ? d : o.momentum * static_cast<double>(b[j]) + (1.0 - o.dampening) * d;
        b[j] = static_cast<T>(buf);
        d = o.nesterov ? d + o.momentum * buf : buf;
      }
      theta[j] = static_cast<T>(static_cast<double>(theta[j]) - lr_now * d);
    }
  });
}

}  // namespace mg::nn
