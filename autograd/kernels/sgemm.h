// metagrad's own single-precision GEMM for CPUs with AVX-512 (see sgemm.cpp for the
// blocking scheme) or AVX2 + FMA (sgemm_avx2.cpp). blas.cpp routes float32 products
// here when sgemm_supported(), and to cblas_sgemm otherwise; nothing else needs to
// call it directly.
#pragma once

#include <cstdint>
#include <type_traits>

namespace mg::kernels {

// True when sgemm() may run: the active CPU path (active_isa() in cpu.h) is avx512 or
// avx2, which sgemm() follows; false on the generic path (or METAGRAD_CPU=generic).
bool sgemm_supported();

// A product of at least this many multiply-adds is worth splitting over op threads
// (Note [Splitting a product] in sgemm.cpp); the conv kernels split their images by it too.
inline constexpr std::int64_t kSplitMacs = std::int64_t{1} << 18;

// True when products of T go to sgemm(), whose bits do not depend on where a block of C
// starts, so a kernel may split its output over op threads and keep one thread's bits.
// OpenBLAS (float64, and float32 on the generic path) gives no such promise.
template <class T>
bool split_keeps_bits() {
  return std::is_same_v<T, float> && sgemm_supported();
}

// C = alpha · op(A) · op(B) + beta · C, all row-major, C of shape [m, n]:
// op(A) is [m, k] (A is [k, m] with leading dimension lda when trans_a),
// op(B) is [k, n] (B is [n, k] with leading dimension ldb when trans_b).
// As in BLAS, C is not read when beta == 0 (NaNs in it do not propagate), and
// k == 0 gives C = beta · C. Single-threaded; safe to call from many threads at
// once (the packing buffers are per thread). Throws std::logic_error (an internal
// error) unless sgemm_supported().
// Products that small_sgemm_fits() (sgemm_small_isa.h) skip the packing (Note [Small
// products without packing]); the bits are the same either way.
void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);

// sgemm() always through the packed kernels, whatever the size: for the tests that hold
// the small-product kernels to the packed ones' bits, and for benchmarks.
void sgemm_packed(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                  const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace mg::kernels
