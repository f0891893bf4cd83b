// The AVX2 + FMA path of sgemm() (sgemm.h), for CPUs without AVX-512: sgemm() calls it
// when the active CPU path (cpu.h) is avx2. Same contract as sgemm(), except that the
// caller has already handled m, n <= 0, k <= 0 and alpha == 0.
#pragma once

namespace mg::kernels {

void sgemm_avx2(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace mg::kernels
