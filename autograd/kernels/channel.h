// Per-channel kernels for batch normalisation: raw loops, no tape.
//
// x is read as [N, C, L] (channel axis 1, L = product of the trailing axes, 1
// for [N, C]): each channel's values are N contiguous runs of L. Sums are
// accumulated in double (one accumulator per channel, in (n, l) order), so a
// result does not depend on how the work is split.
#pragma once

#include "autograd/tensor.h"

namespace mg::kernels {

// [2, C]: row 0 the mean of each channel, row 1 its biased variance, by two passes
// (mean first, then the mean of squared deviations).
Tensor channel_moments(const Tensor& x);
// x * scale[c] + shift[c] for every value of channel c; scale and shift are [C].
Tensor channel_affine(const Tensor& x, const Tensor& scale, const Tensor& shift);
// u * s[c] + v * t[c] + b[c]; u and v of one shape, s, t and b [C].
// With in_place, the result is written into u's storage (Note [donated gradients]).
Tensor channel_affine2(const Tensor& u, const Tensor& s, const Tensor& v, const Tensor& t, const Tensor& b,
                       bool in_place = false);
// [C]: the sum over each channel of a * b (a and b of one shape).
Tensor channel_dot(const Tensor& a, const Tensor& b);
// [C]: the sum over each channel of x.
Tensor channel_sum(const Tensor& x);

}  // namespace mg::kernels
