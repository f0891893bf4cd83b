#include "nn/linear.h"

#include "autograd/creation.h"
#include "autograd/ops.h"
#include "nn/init.h"

namespace mg::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, bool bias, DType dtype)
    : Module("Linear"), bias_(bias) {
  Tensor w = zeros({out_features, in_features}, dtype);
  Tensor b = bias ? zeros({out_features}, dtype) : Tensor{};
  default_init_(w, b, gen);
  add_parameter("weight", w);
  if (bias) add_parameter("bias", b);
}

Tensor Linear::forward_with(const Tensor& x, ParamCursor& params) {
  // y = x Wᵀ + b; stacked (Note [Task stacks]): y[t] = x[t] W[t]ᵀ + b[t], a batched GEMM.
  const Tensor y = matmul(x, take(params, 0), false, true);
  if (!bias_) return y;
  const Tensor b = take(params, 1);
  const std::int64_t tasks = params.tasks();
  return tasks > 0 ? y + reshape(b, {tasks, 1, b.shape()[1]}) : y + b;
}

}  // namespace mg::nn
