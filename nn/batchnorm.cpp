#include "nn/batchnorm.h"

#include <fmt/format.h>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/vision.h"

namespace mg::nn {

BatchNorm2d::BatchNorm2d(std::int64_t channels, BatchNormOptions options, DType dtype)
    : Module("BatchNorm2d"), options_(options) {
  if (options.max_pool < 0)
    throw ValueError(fmt::format("BatchNorm2d: max_pool must be >= 0 (0: no pooling), got {}", options.max_pool));
  add_parameter("weight", ones({channels}, dtype));
  add_parameter("bias", zeros({channels}, dtype));
  if (options.mode == BatchNormMode::Running) {
    add_buffer("running_mean", zeros({channels}, dtype));
    add_buffer("running_var", ones({channels}, dtype));
  }
}

namespace {

// Whether every element of t is > 0 (false for NaN).
bool all_positive(const Tensor& t) {
  for (double v : t.to_vector<double>())
    if (!(v > 0.0)) return false;
  return true;
}

}  // namespace

// Note [pooling by the normaliser's input]
// conv4's block is conv, batch norm, ReLU, 2 × 2 max-pool. Composed op by op, the
// backward keeps three tensors per block: the normaliser's input x (full size), the
// ReLU's output (full size, also the pool's keys) and the pooled output. But per
// channel batch norm is y = s·x + t with s = γ / sqrt(σ² + ε), and when s > 0 (every
// γ > 0, as from γ's initial 1) rounding keeps it monotone: x_i >= x_j gives y_i >= y_j,
// and a NaN in x is a NaN in y. So the first largest x of a window marks a largest y,
// and max_pool_select(keys = x, values = y) is max_pool2d(y) exactly. Its backward needs
// only the keys (Save::FirstInput), which batch norm keeps anyway, so y is freed after
// the forward. The ReLU then runs on the pooled tensor (max and ReLU commute), and the
// block keeps x and a quarter-size output: conv4's activations for the meta-gradient
// fall by about 40 %. With some γ <= 0 (or NaN), the keys are y, as before. Against
// the composite the values and gradients are the same bits; only among exactly equal
// y of a window whose x differ can the gradient go to another of the tied pixels.
Tensor BatchNorm2d::forward_with(const Tensor& x, ParamCursor& params) {
  const Tensor w = take(params, 0), b = take(params, 1);
  Tensor y;
  if (options_.mode == BatchNormMode::Batch) {
    y = batch_norm(x, w, b, options_.eps);
  } else {
    // Handles share the buffers' storage, so batch_norm's in-place update lands in the module.
    RunningStats running{buffer(0), buffer(1), options_.momentum};
    y = training() ? batch_norm(x, w, b, options_.eps, &running) : batch_norm_inference(x, w, b, running, options_.eps);
  }
  if (options_.max_pool == 0) return y;
  const Size2 window(options_.max_pool, options_.max_pool);
  return max_pool_select(all_positive(w) ? x : y, y, window, window);
}

}  // namespace mg::nn
