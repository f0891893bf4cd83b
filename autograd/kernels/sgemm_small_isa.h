// Small single-precision products without packing, compiled once per instruction set
// (Note [CPU dispatch] in cpu.h; Note [Small products without packing] in
// sgemm_small_isa.cpp). sgemm() (sgemm.h) sends the products that small_sgemm_fits()
// here; the results are those of its packed kernels, bit for bit.
#pragma once

#include <cstdint>

namespace mg::kernels {

// The deepest product the small kernels take: the packed kernels' depth block (kKC in
// sgemm.cpp and sgemm_avx2.cpp), so that both sum each element of C in one chain.
inline constexpr int kSmallSgemmMaxK = 256;

// Whether sgemm() runs an m × n × k product without packing: k within one depth block
// and op(B) small enough to stay in L1 while every row block of A streams past it. Wide
// products pack: conv4's first layer (64 × 784 × 10) ran 12 % slower unpacked, while
// 64 × 64 × 64 ran 13 % faster (bench_gemm, each against cblas_sgemm in the same run).
inline bool small_sgemm_fits(int m, int n, int k) {
  return k <= kSmallSgemmMaxK && n <= 128 && static_cast<std::int64_t>(n) * k <= 8192 && m <= 256;
}

struct SmallSgemmKernels {
  // C = alpha · op(A) · op(B) + beta · C, row-major, as sgemm() (sgemm.h) with m, n, k >= 1
  // and k <= kSmallSgemmMaxK. `scratch` holds at least k · n floats when trans_b
  // (op(B) is copied there as [k, n]); it may be null otherwise. Null on the generic
  // path, which multiplies with cblas_sgemm (blas.cpp).
  void (*run)(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
              const float* b, int ldb, float beta, float* c, int ldc, float* scratch);
};

namespace generic {
extern const SmallSgemmKernels small_sgemm;
}  // namespace generic
namespace avx2 {
extern const SmallSgemmKernels small_sgemm;
}  // namespace avx2
namespace avx512 {
extern const SmallSgemmKernels small_sgemm;
}  // namespace avx512

}  // namespace mg::kernels
