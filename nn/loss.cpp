#include "nn/loss.h"

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg::nn {

double accuracy(const Tensor& logits, const Tensor& labels) {
  if (logits.ndim() != 2 || labels.ndim() != 1 || labels.shape()[0] != logits.shape()[0])
    throw ShapeError(fmt::format("accuracy: expected logits [N, C] and labels [N]: logits is {}, labels is {}",
                                 logits.shape().str(), labels.shape().str()));
  if (labels.dtype() != DType::I64)
    throw DTypeError(fmt::format("accuracy: labels must be i64, got {}", dtype_name(labels.dtype())));
  const std::int64_t n = labels.numel();
  if (n == 0) throw ValueError("accuracy: no rows to score: logits is " + logits.shape().str());
  const Tensor predicted = argmax(logits.detach(), 1);
  const std::int64_t* p = predicted.data<std::int64_t>();
  const std::int64_t* y = labels.data<std::int64_t>();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) correct += p[i] == y[i];
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace mg::nn
