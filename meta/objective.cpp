#include "meta/objective.h"

#include "nn/loss.h"

namespace mg::meta {

Objective regression() {
  return {[](const Tensor& p, const Tensor& t) { return nn::mse_loss(p, t); },
          [](const Tensor& p, const Tensor& t) { return nn::mse_loss(p, t).item(); }, "mse", false};
}

Objective classification() {
  return {[](const Tensor& p, const Tensor& t) { return nn::cross_entropy(p, t); },
          [](const Tensor& p, const Tensor& t) { return nn::accuracy(p, t); }, "accuracy", true};
}

}  // namespace mg::meta
