// Single-precision GEMM on AVX2 + FMA, C = alpha · op(A) · op(B) + beta · C, row-major:
// the path for CPUs without AVX-512, which would otherwise run Debian's OpenBLAS (its
// Prescott SSE kernels on CPUs it does not recognise).
//
// The blocking is sgemm.cpp's (Goto / BLIS, see the scheme there) with one register
// tile of kMR × kNR = 6 × 16: per depth step p it loads two 8-float vectors of the B
// micro-panel and broadcasts six scalars of the A micro-panel into 12 FMAs on 12 ymm
// accumulators; with the two B vectors and the broadcast that is 15 of the 16 ymm
// registers. Panels are zero-padded to whole tiles, so the kernel always computes a
// whole tile and only its loads and stores of C are masked at the edges.
//
// Packing is plain loops along whichever axis is contiguous in memory, which the
// compiler vectorises: it costs O(m·k + k·n) against the kernel's O(m·n·k). The
// functions with AVX2 code carry a target attribute (the build has no -m flags);
// sgemm() reaches them only when the active path is avx2.
#include "autograd/kernels/sgemm_avx2.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <vector>

#include "autograd/kernels/block_size.h"

#define MG_AVX2 __attribute__((target("avx2,fma")))

namespace mg::kernels {

// Named (with an unnamed one inside) because CI's unity builds compile this file in one
// unit with sgemm.cpp, whose own kKC, lane_mask and pack_a would collide.
namespace gemm_avx2 {
namespace {

constexpr int kMR = 6;           // rows of a micro-tile (broadcast operand, A)
constexpr int kNR = 16;          // columns of a micro-tile (two ymm vectors of B)
constexpr int kKC = 256;         // depth of a block: an A micro-panel of 6 KiB stays in L1
constexpr int kMC = kMR * 24;    // rows of A per packed block: 144 KiB at kc = 256, in L2
constexpr int kNC = kNR * 64;    // columns of a packed B block: 1 MiB at kc = 256

// The first `lanes` (clamped to 0..8) of eight, as a maskload / maskstore mask.
MG_AVX2 __m256i lane_mask(int lanes) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// op(A)[i0 : i0+mc, p0 : p0+kc] into micro-panels of kMR rows at ap (panel r at ap + r·kc):
// element (i, p) of a panel at [p · kMR + i], rows past mc zero.
void pack_a(bool ta, const float* a, int lda, int i0, int mc, int p0, int kc, float* ap) {
  for (int r = 0; r < mc; r += kMR) {
    const int mr = std::min(kMR, mc - r);
    float* dst = ap + static_cast<std::ptrdiff_t>(r) * kc;
    if (ta) {  // op(A)(i, p) = a[p · lda + i]: rows of the panel are contiguous
      for (int p = 0; p < kc; ++p) {
        const float* src = a + static_cast<std::ptrdiff_t>(p0 + p) * lda + i0 + r;
        for (int i = 0; i < kMR; ++i) dst[p * kMR + i] = i < mr ? src[i] : 0.0f;
      }
    } else {  // op(A)(i, p) = a[i · lda + p]: columns of the panel are contiguous
      for (int i = 0; i < kMR; ++i) {
        if (i >= mr) {
          for (int p = 0; p < kc; ++p) dst[p * kMR + i] = 0.0f;
          continue;
        }
        const float* src = a + static_cast<std::ptrdiff_t>(i0 + r + i) * lda + p0;
        for (int p = 0; p < kc; ++p) dst[p * kMR + i] = src[p];
      }
    }
  }
}

// op(B)[p0 : p0+kc, j0 : j0+nc] into micro-panels of kNR columns at bp (panel s at bp + s·kc):
// element (p, j) of a panel at [p · kNR + j], columns past nc zero. With m small (conv's
// 64 rows) this copy is a large share of the work, so the untransposed copy is two
// vector loads and stores per row, masked at the right edge, panel by panel (walking
// row by row across the panels instead writes to addresses kc·kNR·4 = 12-16 KiB apart,
// all in one L1 set: measured ~20 % slower on the conv forward products).
MG_AVX2 void pack_b(bool tb, const float* b, int ldb, int p0, int kc, int j0, int nc, float* bp) {
  for (int s = 0; s < nc; s += kNR) {
    const int nr = std::min(kNR, nc - s);
    float* dst = bp + static_cast<std::ptrdiff_t>(s) * kc;
    if (!tb) {  // op(B)(p, j) = b[p · ldb + j]
      const float* src = b + static_cast<std::ptrdiff_t>(p0) * ldb + j0 + s;
      if (nr == kNR) {
        for (int p = 0; p < kc; ++p, src += ldb) {
          _mm256_storeu_ps(dst + p * kNR, _mm256_loadu_ps(src));
          _mm256_storeu_ps(dst + p * kNR + 8, _mm256_loadu_ps(src + 8));
        }
      } else {  // masked loads read zeros past nc and never touch memory there
        const __m256i lo = lane_mask(nr), hi = lane_mask(nr - 8);
        for (int p = 0; p < kc; ++p, src += ldb) {
          _mm256_storeu_ps(dst + p * kNR, _mm256_maskload_ps(src, lo));
          _mm256_storeu_ps(dst + p * kNR + 8, _mm256_maskload_ps(src + 8, hi));
        }
      }
    } else if (nr == kNR) {  // op(B)(p, j) = b[j · ldb + p], a whole panel: kNR rows in step
      const float* src = b + static_cast<std::ptrdiff_t>(j0 + s) * ldb + p0;
      for (int p = 0; p < kc; ++p)
        for (int j = 0; j < kNR; ++j) dst[p * kNR + j] = src[static_cast<std::ptrdiff_t>(j) * ldb + p];
    } else {
      for (int j = 0; j < kNR; ++j) {
        if (j >= nr) {
          for (int p = 0; p < kc; ++p) dst[p * kNR + j] = 0.0f;
          continue;
        }
        const float* src = b + static_cast<std::ptrdiff_t>(j0 + s + j) * ldb + p0;
        for (int p = 0; p < kc; ++p) dst[p * kNR + j] = src[p];
      }
    }
  }
}

// C[mr × nr] at c (row stride ldc) gets alpha · Ap · Bp over depth kc; with `first` it is
// C = that + beta · C (C unread when beta == 0), otherwise C += that. The rules of
// sgemm.cpp's AVX-512 micro-kernel, with masked loads and stores at the edges.
MG_AVX2 void micro_kernel(int kc, const float* __restrict ap, const float* __restrict bp, float* c,
                          std::ptrdiff_t ldc, int mr, int nr, float alpha, float beta, bool first) {
  __m256 acc[kMR][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();

  for (int p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(bp + p * kNR), b1 = _mm256_loadu_ps(bp + p * kNR + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMR; ++i) {
      const __m256 av = _mm256_broadcast_ss(ap + p * kMR + i);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
  }

  const __m256i mask[2] = {lane_mask(nr), lane_mask(nr - 8)};
  const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
  for (int i = 0; i < kMR; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
    for (int v = 0; v < 2; ++v) {
      __m256 r = alpha == 1.0f ? acc[i][v] : _mm256_mul_ps(va, acc[i][v]);
      if (!first)
        r = _mm256_add_ps(r, _mm256_maskload_ps(row + 8 * v, mask[v]));
      else if (beta != 0.0f)
        r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(row + 8 * v, mask[v]), r);
      _mm256_maskstore_ps(row + 8 * v, mask[v], r);
    }
  }
}

// Grow-only per-thread packing buffers: steady-state calls do not allocate.
float* scratch(std::vector<float>& buffer, std::size_t floats) {
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

void run(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
         float beta, float* c, int ldc) {
  thread_local std::vector<float> a_buffer, b_buffer;
  const int nc_step = block_size(n, kNC, kNR);
  const int kc_step = block_size(k, kKC, 8);
  const int mc_step = block_size(m, kMC, kMR);
  const auto kc_max = static_cast<std::size_t>(std::min(kc_step, k));
  float* bp = scratch(b_buffer, kc_max * static_cast<std::size_t>((std::min(nc_step, n) + kNR - 1) / kNR * kNR));
  float* ap = scratch(a_buffer, kc_max * static_cast<std::size_t>((std::min(mc_step, m) + kMR - 1) / kMR * kMR));
  for (int jc = 0; jc < n; jc += nc_step) {
    const int nc = std::min(nc_step, n - jc);
    for (int pc = 0; pc < k; pc += kc_step) {
      const int kc = std::min(kc_step, k - pc);
      pack_b(tb, b, ldb, pc, kc, jc, nc, bp);
      for (int ic = 0; ic < m; ic += mc_step) {
        const int mc = std::min(mc_step, m - ic);
        pack_a(ta, a, lda, ic, mc, pc, kc, ap);
        for (int ir = 0; ir < mc; ir += kMR) {
          const float* a_panel = ap + static_cast<std::ptrdiff_t>(ir) * kc;
          float* c_rows = c + static_cast<std::ptrdiff_t>(ic + ir) * ldc + jc;
          const int mr = std::min(kMR, mc - ir);
          for (int jr = 0; jr < nc; jr += kNR)
            micro_kernel(kc, a_panel, bp + static_cast<std::ptrdiff_t>(jr) * kc, c_rows + jr, ldc, mr,
                         std::min(kNR, nc - jr), alpha, beta, pc == 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace gemm_avx2

void sgemm_avx2(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
                float beta, float* c, int ldc) {
  gemm_avx2::run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace mg::kernels
