// The max-pool arg-max for float32 on the AVX-512 path (active_isa(), kernels/cpu.h):
// sixteen windows at a time, one masked gather per window tap. Same result as
// the scalar loop in im2col.cpp, ties included (the first pixel in row-major tap
// order wins; a NaN in the first tap keeps it).
#pragma once

#include <cstdint>

#include "autograd/kernels/im2col.h"

namespace mg::kernels {

// Writes the arg-max (ih * W + iw) of every window of `planes` planes of g's
// [H, W] images into out [planes, OH * OW]. False when the CPU cannot run it, or
// the plane is too large for 32-bit offsets (then nothing is written).
bool max_pool2d_indices_avx512(const float* x, std::int64_t planes, const ConvGeometry& g, std::int64_t* out);

}  // namespace mg::kernels
