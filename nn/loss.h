// Losses and metrics.
//   mse_loss(pred, target)       = mean((pred - target)²)                          (regression)
//   cross_entropy(logits, y)     = -mean_i log_softmax(logits)[i, y_i]            (classification)
//   accuracy(logits, y)          = mean_i [argmax_j logits[i, j] == y_i]           (not differentiable)
// The two losses are autograd's composites (stable log-softmax), re-exported here
// so that model code reads nn::mse_loss / nn::cross_entropy.
#pragma once

#include "autograd/ops.h"

namespace mg::nn {

using mg::cross_entropy;
using mg::mse_loss;

// Fraction of rows of logits [N, C] whose largest entry is at labels[i] (int64 [N]).
double accuracy(const Tensor& logits, const Tensor& labels);

}  // namespace mg::nn
