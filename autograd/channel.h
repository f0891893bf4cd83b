// Per-channel primitives: the pieces batch normalisation is made of.
//
// x is [N, C] or [N, C, H, W] (any rank >= 2; channel axis 1); a per-channel
// tensor is [C]. "Summed over a channel" means over every axis but 1.
//
// batch_norm (autograd/vision.h) is channel_normalize(x, weight, bias), which is
//   [mu; var] = channel_moments(x)
//   scale = weight / sqrt(var + eps),  shift = bias - mu * scale     ([C] ops)
//   y = channel_affine(x, scale, shift)
// as one op: two passes over x forward instead of the six of the elementwise
// composite, and a backward with one full-size result (channel_affine2). Every backward is written with these same
// primitives (plus broadcast_to), so batch norm keeps gradients of every order
// (second-order MAML) for free.
//
//   channel_affine(x, s, t) = x * s[c] + t[c]
//     x: channel_affine(grad, s, 0)     s: channel_dot(grad, x)     t: channel_sum(grad)
//   channel_dot(a, b) = sum over each channel of a * b
//     a: channel_affine(b, grad, 0)     b: channel_affine(a, grad, 0)
//   channel_sum(x) = sum over each channel of x
//     x: broadcast_to(grad as [1, C, 1, 1], x.shape)
//   channel_moments(x) = [mu; var],  mu = sum(x) / n,  var = sum((x - mu)^2) / n  (n values per channel)
//     x: channel_affine(x, 2 g_var / n, g_mu / n - 2 g_var mu / n)
//        (d mu / dx = 1/n; d var / dx = 2 (x - mu) / n, the terms through mu summing to zero)
#pragma once

#include "autograd/tensor.h"

namespace mg {

// [2, C]: the mean (row 0) and the biased variance (row 1) of every channel of x.
Tensor channel_moments(const Tensor& x);
// x * scale[c] + shift[c]; scale and shift are [C] (an undefined shift means 0).
Tensor channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift = {});
// [C]: sum over each channel of a * b; a and b have the same shape.
Tensor channel_dot(const Tensor& a, const Tensor& b);
// [C]: sum over each channel of x.
Tensor channel_sum(const Tensor& x);
// u * s[c] + v * t[c] + b[c]: u and v of one shape, s, t and b [C].
Tensor channel_affine2(const Tensor& u, const Tensor& s, const Tensor& v, const Tensor& t, const Tensor& b);
// (x - mu[c]) / sqrt(var[c] + eps) * weight[c] + bias[c] with mu and var the batch
// statistics of x (as channel_moments): batch norm in training mode as one op, whose
// backward makes one full-size tensor (Note [batch norm in one op] in
// autograd/ops_channel.cpp). weight and bias are [C]. When `moments` is given, it is
// set to the statistics used ([2, C], no gradient: for running estimates).
Tensor channel_normalize(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps,
                         Tensor* moments = nullptr);

}  // namespace mg
