// Differentiable ops for images (NCHW): the im2col / col2im adjoint pair, the
// conv_matrix / conv_matrix_fold pair, and the composites built on them (conv2d,
// max_pool2d) plus batch_norm. Only the two pairs are primitives with backward rules (autograd/ops_vision.cpp); every
// other function here is written with differentiable ops, so it has gradients
// of every order for free (DESIGN.md, "Few primitives, many composites").
//
//   Tensor y = mg::conv2d(x, w, b, /*stride=*/1, /*padding=*/1);   // [N, F, H, W]
//   y = mg::max_pool2d(mg::relu(mg::batch_norm(y, gamma, beta)), 2);
#pragma once

#include <cstdint>

#include "autograd/geometry.h"
#include "autograd/tensor.h"

namespace mg {

// im2col(x, kernel, stride, padding): x [N, C, H, W] -> cols [C*kh*kw, N*OH*OW],
// with OH = (H + 2 ph - kh) / sh + 1 (likewise OW), row (c, i, j), column (n, oh, ow),
// zeros where a tap falls in the padding. With ColLayout::PerImage the same
// entries are laid out [N, C*kh*kw, OH*OW] instead. Its backward is col2im.
Tensor im2col(const Tensor& x, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
              ColLayout layout = ColLayout::Folded);
// col2im(cols, image_shape, kernel, stride, padding): the adjoint of im2col; every
// column entry is added to the pixel it was read from. Its backward is im2col.
Tensor col2im(const Tensor& cols, const Shape& image_shape, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
              ColLayout layout = ColLayout::Folded);

// conv_matrix(weight, image_shape, stride, padding): the convolution of images of
// shape [N, C, H, W] as one matrix M [F*OH*OW, C*H*W] built from weight [F, C, kh, kw],
// so that conv2d(x, weight) = reshape(x, [N, C*H*W]) @ Mᵀ, reshaped to [N, F, OH, OW]
// (autograd/kernels/conv_matrix.h). conv2d uses it when H*W <= kh*kw. Its backward
// is conv_matrix_fold.
Tensor conv_matrix(const Tensor& weight, const Shape& image_shape, Size2 stride = 1, Size2 padding = 0);
// conv_matrix_fold(m, weight_shape, image_shape, stride, padding): the adjoint of
// conv_matrix; each weight gets the sum of the entries of m that hold it. Its
// backward is conv_matrix.
Tensor conv_matrix_fold(const Tensor& m, const Shape& weight_shape, const Shape& image_shape, Size2 stride = 1,
                        Size2 padding = 0);

// conv_columns(x, weight, kernel, stride, padding, layout): weight [F, C*kh*kw] times
// im2col(x) — [F, N*OH*OW] for Folded columns, [N, F, OH*OW] for PerImage — as one op
// that keeps x rather than the columns for its backward (Note [conv columns not
// saved], autograd/ops_vision.cpp). conv2d uses it unless the columns are smaller
// than the output.
Tensor conv_columns(const Tensor& x, const Tensor& weight, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
                    ColLayout layout = ColLayout::Folded);
// The two gradients of conv_columns, ops of their own (each is the other's and
// conv_columns' backward), run over chunks of images so that no pass makes the
// columns of the whole batch (Note [conv in chunks], autograd/kernels/conv_gemm.cpp):
//   conv_input_grad(grad, weight, image_shape, ...) = col2im(weightᵀ @ grad) -> image_shape
//   conv_weight_grad(x, grad, ...)                  = grad @ im2col(x)ᵀ -> [F, C*kh*kw]
// grad has conv_columns' output shape for the layout.
Tensor conv_input_grad(const Tensor& grad, const Tensor& weight, const Shape& image_shape, Size2 kernel,
                       Size2 stride = 1, Size2 padding = 0, ColLayout layout = ColLayout::Folded);
Tensor conv_weight_grad(const Tensor& x, const Tensor& grad, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
                        ColLayout layout = ColLayout::Folded);

// matmul_shared(a, b, transpose_a) -> [B, M, N]: op(a) @ b[i] for each i, where a is
// 2-D [M, K] ([K, M] when transposed) and b is 3-D [B, K, N]; a is shared by the
// whole batch, so its gradient sums over it. conv2d uses it with per-image columns
// (autograd/ops_matmul.cpp).
Tensor matmul_shared(const Tensor& a, const Tensor& b, bool transpose_a = false);

// conv2d(x, weight, bias, stride, padding) -> [N, F, OH, OW]
//   x [N, C, H, W], weight [F, C, kh, kw], bias [F] or undefined (no bias).
// Cross-correlation as in PyTorch: y[n,f] = b[f] + sum_c sum_ij w[f,c,i,j] x[n,c,oh*sh+i-ph,ow*sw+j-pw].
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Size2 stride = 1, Size2 padding = 0);

// max_pool2d(x, kernel, stride) -> [N, C, OH, OW]: the largest pixel of each window
// (no padding), max_pool_select(x, x); on ties the first pixel gets the gradient. A
// window holding a NaN gives NaN (its first NaN is the arg-max).
Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride);
// Stride = kernel (non-overlapping windows).
Tensor max_pool2d(const Tensor& x, Size2 kernel);
// max_pool_select(keys, values, kernel, stride) -> [N, C, OH, OW]: values (keys' shape)
// at the arg-max of each window of keys. No gradient flows to keys: the arg-max is
// piecewise constant (Note [max-pool without indices], autograd/ops_vision.cpp).
Tensor max_pool_select(const Tensor& keys, const Tensor& values, Size2 kernel, Size2 stride);
// max_pool_scatter(keys, grad, kernel, stride) -> keys' shape: zeros with grad
// [N, C, OH, OW] added at the arg-max of each window of keys; max_pool_select's
// gradient for its values, and the other way round.
Tensor max_pool_scatter(const Tensor& keys, const Tensor& grad, Size2 kernel, Size2 stride);
// Non-differentiable: the position (ih * W + iw) of each window's maximum in its
// [H, W] plane, int64 [N*C, OH*OW] (what max_pool2d gathers).
Tensor max_pool2d_indices(const Tensor& x, Size2 kernel, Size2 stride);

// Running estimates of the per-channel mean and (unbiased) variance, [C] each.
struct RunningStats {
  Tensor mean = {};
  Tensor var = {};
  double momentum = 0.1;  // new = (1 - momentum) * old + momentum * batch statistic
};

// batch_norm(x, weight, bias, eps, running) for x [N, C, H, W] or [N, C]:
//   mu = mean over (N, H, W), var = mean((x - mu)^2) (biased), per channel,
//   y = (x - mu) / sqrt(var + eps) * weight + bias      (weight, bias [C]; undefined skips them)
// The batch statistics are part of the graph (gradients flow through mu and var).
// When `running` is given, its mean and var are updated in place (not recorded;
// the variance with Bessel's correction n / (n - 1)).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5,
                  RunningStats* running = nullptr);
// The same normalisation with fixed running statistics instead of batch statistics.
Tensor batch_norm_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const RunningStats& running,
                            double eps = 1e-5);

}  // namespace mg
