// Composites: functions written entirely with differentiable primitives, so
// they need no backward of their own and get every order of derivative free.
#include "autograd/op_common.h"

namespace mg {

// logsumexp(x) = m + log(sum(exp(x - m))) with m = max(x) held constant: the
// shift cancels exactly in value and gradient, and keeps exp from overflowing.
// An infinite max (a row of -inf, or a +inf entry) is replaced by 0, since
// x - m would be inf - inf = NaN; the result is then the correct -inf or +inf.
Tensor logsumexp(const Tensor& x, int axis, bool keepdim) {
  axis = normalize_axis("logsumexp", axis, x.ndim());  // so that errors name logsumexp, not max
  Tensor m = max(x, {axis}, true).detach();
  const Tensor zero = zeros({}, x.dtype());
  m = where(equal(m - m, zero), m, zero);  // m - m is 0 exactly when m is finite
  const Tensor out = log(sum(exp(x - m), {axis}, true)) + m;
  if (keepdim) return out;
  std::vector<std::int64_t> dims = x.shape().vec();
  dims.erase(dims.begin() + axis);
  return reshape(out, Shape(dims));
}

// log_softmax(x) = x - logsumexp(x)
Tensor log_softmax(const Tensor& x, int axis) {
  return x - logsumexp(x, normalize_axis("log_softmax", axis, x.ndim()), true);
}

// softmax(x) = exp(log_softmax(x))
Tensor softmax(const Tensor& x, int axis) { return exp(log_softmax(x, normalize_axis("softmax", axis, x.ndim()))); }

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  if (pred.shape() != target.shape())
    throw ShapeError(fmt::format("mse_loss: shapes differ: pred is {}, target is {}", pred.shape().str(),
                                 target.shape().str()));
  const Tensor d = pred - target;
  return mean(d * d);
}

// cross_entropy(logits, labels) = -mean_i log_softmax(logits)[i, labels[i]]
Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  if (logits.ndim() != 2 || labels.ndim() != 1 || labels.shape()[0] != logits.shape()[0])
    throw ShapeError(fmt::format("cross_entropy: expected logits [N, C] and labels [N]: logits is {}, labels is {}",
                                 logits.shape().str(), labels.shape().str()));
  if (labels.dtype() != DType::I64)
    throw DTypeError(fmt::format("cross_entropy: labels must be i64, got {}", dtype_name(labels.dtype())));
  const Tensor picked = gather(log_softmax(logits, 1), 1, reshape(labels, {labels.shape()[0], 1}));
  return neg(mean(picked));
}

// vdot(a, b) = sum(a * b)
Tensor vdot(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw ShapeError(fmt::format("vdot: shapes differ: a is {}, b is {}", a.shape().str(), b.shape().str()));
  require_floating("vdot", a.dtype());
  require_same_dtype("vdot", a, b);
  return sum(a * b);
}

// dot(a, b) = sum_i vdot(a[i], b[i]), skipping the pairs with a symbolic zero.
Tensor dot(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size())
    throw ValueError(fmt::format("dot: lists differ in length: a has {} tensors, b has {}", a.size(), b.size()));
  Tensor total;
  const Tensor* any = nullptr;  // a defined entry, for the dtype of a zero result
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!any && (a[i].defined() || b[i].defined())) any = a[i].defined() ? &a[i] : &b[i];
    if (!a[i].defined() || !b[i].defined()) continue;
    if (a[i].shape() != b[i].shape())
      throw ShapeError(fmt::format("dot: shapes differ at position {}: a[{}] is {}, b[{}] is {}", i, i,
                                   a[i].shape().str(), i, b[i].shape().str()));
    if (a[i].dtype() != b[i].dtype())
      throw DTypeError(fmt::format("dot: mixed dtypes at position {}: a[{}] is {}, b[{}] is {}", i, i,
                                   dtype_name(a[i].dtype()), i, dtype_name(b[i].dtype())));
    const Tensor term = vdot(a[i], b[i]);
    total = total.defined() ? total + term : term;
  }
  if (total.defined()) return total;
  if (!any) throw ValueError(fmt::format("dot: no defined tensor in lists of {}", a.size()));
  return zeros({}, any->dtype());
}

}  // namespace mg
