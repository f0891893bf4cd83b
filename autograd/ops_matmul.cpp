// Matrix multiply through BLAS gemm, 2-D or batched 3-D.
//
// With op(X) = X or Xᵀ (last two axes), C = op(A) op(B) has the adjoints
//   ta=0 tb=0:  dA = G Bᵀ        dB = Aᵀ G
//   ta=0 tb=1:  dA = G B         dB = Gᵀ A
//   ta=1 tb=0:  dA = B Gᵀ        dB = A G
//   ta=1 tb=1:  dA = Bᵀ Gᵀ       dB = Gᵀ Aᵀ
// each again a matmul with transpose flags, so no transpose is ever copied and
// the backward is differentiable like any other code.
//
// matmul_shared(A, B, ta) -> C[i] = op(A) B[i]: one 2-D matrix against a batch
// (conv2d's weights against per-image columns, autograd/ops_vision.cpp). A is
// used by every product, so its adjoint sums over the batch:
//   ta=0:  dA = sum_i G[i] B[i]ᵀ     dB[i] = Aᵀ G[i]
//   ta=1:  dA = sum_i B[i] G[i]ᵀ     dB[i] = A G[i]
// dA is a batched matmul followed by sum over axis 0 and dB is matmul_shared
// again (with ta flipped), so this op too is closed under differentiation.
#include "autograd/kernels/blas.h"
#include "autograd/op_common.h"
#include "autograd/vision.h"

namespace mg {
namespace {

struct MatmulAttrs {
  bool ta = false, tb = false;
};

struct Matmul {
  static constexpr OpId id = OpId::Matmul;
  static constexpr Save save = Save::Inputs;
  using Attrs = MatmulAttrs;
  static Shape infer_shape(const Attrs& at, const Tensor& a, const Tensor& b) {
    require_floating("matmul", a.dtype());
    require_floating("matmul", b.dtype());
    const int nd = a.ndim();
    if ((nd != 2 && nd != 3) || b.ndim() != nd)
      throw ShapeError(fmt::format("matmul: operands must both be 2-D or both 3-D: a is {}, b is {}",
                                   a.shape().str(), b.shape().str()));
    if (nd == 3 && a.shape()[0] != b.shape()[0])
      throw ShapeError(fmt::format("matmul: batch sizes differ: a is {}, b is {} ({} != {})", a.shape().str(),
                                   b.shape().str(), a.shape()[0], b.shape()[0]));
    const std::int64_t m = a.shape()[nd - (at.ta ? 1 : 2)], ka = a.shape()[nd - (at.ta ? 2 : 1)];
    const std::int64_t kb = b.shape()[nd - (at.tb ? 1 : 2)], n = b.shape()[nd - (at.tb ? 2 : 1)];
    if (ka != kb)
      throw ShapeError(fmt::format("matmul: inner dimensions differ: a is {}, b is {} ({} != {}){}", a.shape().str(),
                                   b.shape().str(), ka, kb,
                                   at.ta || at.tb ? fmt::format(" with transpose_a={} transpose_b={}", at.ta, at.tb)
                                                  : std::string()));
    return nd == 3 ? Shape{a.shape()[0], m, n} : Shape{m, n};
  }
  static Tensor forward(const Attrs& at, const Tensor& a, const Tensor& b) {
    return kernels::matmul(a, b, at.ta, at.tb, infer_shape(at, a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs at = s.attrs<Attrs>();
    const Tensor a = s.input(0), b = s.input(1);
    Tensor da, db;
    if (s.needs_grad(0))
      da = at.ta ? matmul(b, grad, at.tb, true) : matmul(grad, b, false, !at.tb);
    if (s.needs_grad(1))
      db = at.tb ? matmul(grad, a, true, at.ta) : matmul(a, grad, !at.ta, false);
    return {da, db};
  }
};

struct MatmulShared {
  static constexpr OpId id = OpId::MatmulShared;
  static constexpr Save save = Save::Inputs;
  using Attrs = MatmulAttrs;  // tb is always false
  static Shape infer_shape(const Attrs& at, const Tensor& a, const Tensor& b) {
    require_floating("matmul_shared", a.dtype());
    require_floating("matmul_shared", b.dtype());
    if (a.ndim() != 2 || b.ndim() != 3)
      throw ShapeError(fmt::format("matmul_shared: a must be 2-D and b 3-D: a is {}, b is {}", a.shape().str(),
                                   b.shape().str()));
    const std::int64_t m = a.shape()[at.ta ? 1 : 0], ka = a.shape()[at.ta ? 0 : 1];
    if (ka != b.shape()[1])
      throw ShapeError(fmt::format("matmul_shared: inner dimensions differ: a is {}, b is {} ({} != {}){}",
                                   a.shape().str(), b.shape().str(), ka, b.shape()[1],
                                   at.ta ? " with transpose_a=true" : ""));
    return {b.shape()[0], m, b.shape()[2]};
  }
  static Tensor forward(const Attrs& at, const Tensor& a, const Tensor& b) {
    return kernels::matmul_shared(a, b, at.ta, infer_shape(at, a, b));
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs at = s.attrs<Attrs>();
    const Tensor a = s.input(0), b = s.input(1);
    Tensor da, db;
    if (s.needs_grad(0)) da = sum(at.ta ? matmul(b, grad, false, true) : matmul(grad, b, false, true), {0});
    if (s.needs_grad(1)) db = matmul_shared(a, grad, !at.ta);
    return {da, db};
  }
};

}  // namespace

Tensor matmul_shared(const Tensor& a, const Tensor& b, bool transpose_a) {
  return apply_with<MatmulShared>(MatmulAttrs{transpose_a, false}, a, b);
}

Tensor matmul(const Tensor& a, const Tensor& b) { return apply_with<Matmul>(MatmulAttrs{}, a, b); }
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  return apply_with<Matmul>(MatmulAttrs{transpose_a, transpose_b}, a, b);
}

}  // namespace mg
