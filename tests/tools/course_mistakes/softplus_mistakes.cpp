#include "autograd/ops.h"
#include "tests/tools/course_mistakes/mistakes.h"

namespace mg::course::mistakes {

Tensor softplus_wrong_sign(const Tensor& x, const Tensor&, const Tensor& grad) { return -(grad * sigmoid(x)); }
// Right values, but cut from the tape: no second derivative.
Tensor softplus_detached(const Tensor& x, const Tensor&, const Tensor& grad) { return grad * sigmoid(x.detach()); }
Tensor softplus_no_grad(const Tensor& x, const Tensor&, const Tensor&) { return sigmoid(x); }
// e^x / (1 + e^x): right for small x, inf / inf = nan for x > 709.
Tensor softplus_overflows(const Tensor& x, const Tensor&, const Tensor& grad) {
  const Tensor e = exp(x);
  return grad * e / (e + 1.0);
}

}  // namespace mg::course::mistakes
