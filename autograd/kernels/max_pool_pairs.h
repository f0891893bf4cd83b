// Max pooling's commonest case, 2x2 windows at stride 2 (conv4's pooling), on float32
// with AVX-512 or AVX2, row pair by row pair. Used by kernels/max_pool.cpp when the geometry
// and the path fit (max_pool_pairs_fit); the results are exactly those of its general
// loops, which the tests compare on every path.
//
// Note [max-pool in row pairs]
// The general kernels find each window's arg-max with one gather per tap and write the
// scatter one pixel at a time: on Omniglot MAML2 with five inner steps that was 19 %
// of the meta-iteration (max_pool_scatter 15 %, max_pool_select 4.5 %, `bench_meta
// --profile`). Here two input rows give sixteen windows per step (eight with AVX2):
// each row's pixels are split into the windows' left and right taps by two permutes
// (even and odd columns), the arg-max is three compares in tap order (a later tap wins
// only when it is larger, or when it is the window's first NaN, as the general loop),
// and the scatter builds the two gradient rows in registers — each output value or 0 —
// and interleaves them back with two more permutes: every input pixel is read once and
// every gradient pixel written once. A last odd row or column (outside every window)
// gets zeros.
#pragma once

#include "autograd/kernels/cpu.h"
#include "autograd/kernels/im2col.h"

namespace mg::kernels {

// 2x2 windows, stride 2, no padding: what the two kernels below take.
bool max_pool_pairs_fit(const ConvGeometry& g);

// out [N, C, OH, OW] = values at the arg-max of keys' windows (keys, values [N, C, H, W]),
// with the instructions of `isa` (kernels/cpu.h); false, and nothing done, on the
// generic path (the general loops serve it).
bool max_pool_pairs_select(Isa isa, const float* keys, const float* values, float* out, const ConvGeometry& g);
// out [N, C, H, W] = grad [N, C, OH, OW] at the arg-max of keys' windows, 0 elsewhere;
// false on the generic path, as above.
bool max_pool_pairs_scatter(Isa isa, const float* keys, const float* grad, float* out, const ConvGeometry& g);

}  // namespace mg::kernels
