// BatchNorm2d: y = (x - μ) / sqrt(σ² + eps) · γ + β per channel (Ioffe & Szegedy 2015),
// for x [N, C, H, W] (or [N, C]); γ = weight (ones), β = bias (zeros), both [C], in
// float32 or float64 (Note [Models of either dtype] in nn/module.h).
//
// Two behaviours (BatchNormMode):
//  * Batch (the MAML default): μ, σ² are always the current batch's statistics,
//    in meta-training and meta-testing alike — the reference MAML code normalises
//    each task's support and query batches with their own statistics
//    (Finn et al. 2017, code; Antoniou et al. 2019, §3 "BNRS"). No running state.
//  * Running: in training mode batch statistics, and running estimates updated
//    as r = (1 - momentum) r + momentum · stat (variance unbiased); in eval mode
//    the running estimates (buffers "running_mean", "running_var").
//    Training-mode forwards write the buffers, so tasks run on worker threads must
//    use the Batch mode (or evaluation mode), which only reads the module.
//
// With options.max_pool = k the module also max-pools its result (a ReLU after it then
// gives conv4's block: relu(max_pool(bn(x))) = max_pool(relu(bn(x))), ReLU being
// monotone).
#pragma once

#include "nn/module.h"

namespace mg::nn {

enum class BatchNormMode { Batch, Running };

struct BatchNormOptions {
  BatchNormMode mode = BatchNormMode::Batch;
  double eps = 1e-5;
  double momentum = 0.1;
  // > 0: then max-pool the result in k × k windows at stride k (conv4's pooling), with
  // the arg-max found on the input while every γ > 0 (Note [pooling by the
  // normaliser's input], batchnorm.cpp): the same values and gradients as
  // max_pool2d(batch_norm(x)), without keeping the full-size normalised tensor.
  int max_pool = 0;
};

class BatchNorm2d : public Module {
 public:
  // ValueError for a negative max_pool.
  explicit BatchNorm2d(std::int64_t channels, BatchNormOptions options = {}, DType dtype = DType::F32);
  Tensor forward_with(const Tensor& x, ParamCursor& params) override;
  using Module::forward;

  Tensor& weight() { return parameter(0); }
  Tensor& bias() { return parameter(1); }
  const BatchNormOptions& options() const { return options_; }

 private:
  BatchNormOptions options_;
};

}  // namespace mg::nn
