#include "autograd/kernels/relu_grad.h"

namespace mg::kernels {

Tensor relu_grad(const Tensor& grad, const Tensor& y) {
  return dispatch_float("relu_grad", grad.dtype(), [&]<class T>() {
    Tensor out(grad.shape(), grad.dtype());
    const T* pg = grad.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    const std::int64_t n = grad.numel();
    for (std::int64_t i = 0; i < n; ++i) po[i] = py[i] > T(0) ? pg[i] : T(0);
    return out;
  });
}

}  // namespace mg::kernels
