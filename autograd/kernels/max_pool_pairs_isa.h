// Max pooling's commonest case, 2x2 windows at stride 2 (conv4's pooling), on float32,
// compiled once per instruction set (Note [CPU dispatch] in cpu.h; Note [max-pool in
// row pairs] in max_pool_pairs_isa.cpp). kernels/max_pool.cpp calls these for such
// windows; the results are exactly those of its general loops, on every path.
#pragma once

#include <cstdint>

namespace mg::kernels {

struct MaxPoolPairsKernels {
  // planes × [h, w] images (h, w >= 2): out [planes, h/2, w/2] = values at the arg-max of
  // keys in each 2x2 window (the first largest tap in row-major order; the first NaN).
  void (*select)(const float* keys, const float* values, float* out, std::int64_t planes, std::int64_t h,
                 std::int64_t w);
  // out [planes, h, w] = grad [planes, h/2, w/2] at the arg-max of keys' windows, 0 elsewhere
  // (also in a last odd row or column, which no window covers).
  void (*scatter)(const float* keys, const float* grad, float* out, std::int64_t planes, std::int64_t h,
                  std::int64_t w);
};

namespace generic {
extern const MaxPoolPairsKernels max_pool_pairs;
}  // namespace generic
namespace avx2 {
extern const MaxPoolPairsKernels max_pool_pairs;
}  // namespace avx2
namespace avx512 {
extern const MaxPoolPairsKernels max_pool_pairs;
}  // namespace avx512

}  // namespace mg::kernels
