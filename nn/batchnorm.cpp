#include "nn/batchnorm.h"

#include "autograd/creation.h"
#include "autograd/vision.h"

namespace mg::nn {

BatchNorm2d::BatchNorm2d(std::int64_t channels, BatchNormOptions options, DType dtype)
    : Module("BatchNorm2d"), options_(options) {
  add_parameter("weight", ones({channels}, dtype));
  add_parameter("bias", zeros({channels}, dtype));
  if (options.mode == BatchNormMode::Running) {
    add_buffer("running_mean", zeros({channels}, dtype));
    add_buffer("running_var", ones({channels}, dtype));
  }
}

Tensor BatchNorm2d::forward_with(const Tensor& x, ParamCursor& params) {
  const Tensor w = take(params, 0), b = take(params, 1);
  if (options_.mode == BatchNormMode::Batch) return batch_norm(x, w, b, options_.eps);
  // Handles share the buffers' storage, so batch_norm's in-place update lands in the module.
  RunningStats running{buffer(0), buffer(1), options_.momentum};
  return training() ? batch_norm(x, w, b, options_.eps, &running)
                    : batch_norm_inference(x, w, b, running, options_.eps);
}

}  // namespace mg::nn
