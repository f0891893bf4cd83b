// How the packed GEMMs (sgemm.cpp, sgemm_avx2.cpp) cut a dimension into cache blocks.
#pragma once

namespace mg::kernels {

// Splits `total` into ceil(total / step) near-equal blocks, each a multiple of `unit`
// except perhaps the last, so that k = 257 does not give a 256 block and a 1 block.
constexpr int block_size(int total, int step, int unit) {
  const int blocks = (total + step - 1) / step;
  const int even = (total + blocks - 1) / blocks;
  return (even + unit - 1) / unit * unit;
}

}  // namespace mg::kernels
