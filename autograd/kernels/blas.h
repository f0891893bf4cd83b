// The BLAS floor: the only place metagrad calls cblas (and the only file that
// includes <cblas.h> is blas.cpp).
#pragma once

#include <cstdint>

#include "autograd/tensor.h"

namespace mg::kernels {

// op(a) @ op(b) for 2-D [M, K] x [K, N] or batched 3-D [B, M, K] x [B, K, N],
// where op transposes the last two axes when asked (passed to gemm, not copied).
// `out` is the result shape computed by the op.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b, const Shape& out);

// op(a) @ b[i] for every i: a 2-D [M, K] (or [K, M] transposed), b 3-D [B, K, N],
// out [B, M, N]. The shared left operand is read by B gemm calls, never copied.
Tensor matmul_shared(const Tensor& a, const Tensor& b, bool transpose_a, const Shape& out);

// C = op(A) @ op(B) + beta · C on raw row-major matrices (float or double), for
// kernels that multiply parts of tensors (kernels/conv_gemm.cpp). Counted in
// gemm_flop_count(); with beta = 0, C is not read.
template <class T>
void gemm(bool trans_a, bool trans_b, int m, int n, int k, const T* a, int lda, const T* b, int ldb, T beta, T* c,
          int ldc);

// Floating-point operations (2·M·N·K per product) done by matmul and matmul_shared
// in this process so far, over all threads: benchmarks divide it by time for GFLOP/s.
std::uint64_t gemm_flop_count();

// Which single-precision GEMM matmul uses: "avx512" or "avx2" (metagrad's own, sgemm.h)
// on those CPU paths (cpu.h), else "openblas" (cblas_sgemm). Benchmarks print it.
const char* sgemm_backend();

// cblas_sgemm, row-major, for benchmarks and tests that compare against OpenBLAS
// without including <cblas.h> (C = alpha · op(A) · op(B) + beta · C).
void sgemm_cblas(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc);

// Sets the number of threads OpenBLAS may use (worker threads use 1).
void set_blas_threads(int n);
int blas_threads();
// The BLAS build (openblas_get_config()), for benchmark reports.
const char* blas_config();

}  // namespace mg::kernels
