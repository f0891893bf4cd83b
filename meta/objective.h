// What a meta-learner optimises and what it reports, for one task family.
//
//   loss:   differentiable, drives both loops (MSE for regression, cross-entropy
//           for classification);
//   metric: what the papers report on the query set after adaptation (MSE, or
//           accuracy), computed without the tape.
#pragma once

#include <functional>
#include <string>

#include "autograd/tensor.h"

namespace mg::meta {

using LossFn = std::function<Tensor(const Tensor& prediction, const Tensor& target)>;
using MetricFn = std::function<double(const Tensor& prediction, const Tensor& target)>;

struct Objective {
  LossFn loss = {};
  MetricFn metric = {};
  std::string metric_name = {};   // "mse", "accuracy"
  bool higher_is_better = false;
};

// MSE loss, MSE metric (sinusoid regression).
Objective regression();
// Cross-entropy loss, accuracy metric (N-way classification).
Objective classification();

}  // namespace mg::meta
