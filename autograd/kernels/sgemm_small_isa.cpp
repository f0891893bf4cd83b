// Small single-precision products for one instruction set: compiled three times, with
// -DMG_ISA=generic|avx2|avx512 and that path's flags (Note [CPU dispatch] in cpu.h).
// The loops are written once over `Lanes`: sixteen floats per vector with AVX-512,
// eight with AVX2. The generic path has no kernel here (its table holds null): it
// multiplies with cblas_sgemm, which rounds differently anyway.
// (Beyond the rule of <cstdint> only, this includes <immintrin.h>: its intrinsics are
// always-inline, never a symbol.)
//
// Note [Small products without packing]
// The packed kernels (sgemm.cpp, sgemm_avx2.cpp) copy op(A) and op(B) into zero-padded
// micro-panels before multiplying, which pays for itself when each packed element is used
// many times. In the sinusoid MLP's products (10 × 40 × 40 and smaller, per task of a
// stack) it does not: packing, transposing and the padded tiles (12 × 32 tiles for
// 10 × 40) were 40 % of the GEMM time and the GEMMs 45 % of a meta-iteration (`perf
// record` of `bench_meta --workload sinusoid --algo maml --steps 1`). Here op(B) is read
// in place — its rows are the vector operand, and a k × n block of at most 8192 floats
// stays in L1 — and op(A) is broadcast straight from memory, one scalar per row and depth
// step, whichever way A is stored. Only a transposed B is copied, once per call, into a
// [k, n] scratch (8 × 8 blocks transposed in registers). Each tile of C (up to
// Lanes::rows rows × 3 vectors) keeps its sums in registers over the whole depth.
//
// Every element of C is the packed kernels' chain, bit for bit: acc = 0, then acc =
// fma(op(A)(i, p), op(B)(p, j), acc) for p = 0, 1, …, k − 1, then alpha · acc (when alpha
// != 1) and fma(beta, C, ·) (when beta != 0). The packed kernels sum over p in one chain
// when k fits one depth block (kSmallSgemmMaxK), so the results do not depend on which
// kernel sgemm() took (tests/autograd/test_sgemm.cpp checks equality on every path).
#include "autograd/kernels/sgemm_small_isa.h"

#ifndef MG_ISA
#error "sgemm_small_isa.cpp is compiled once per path with -DMG_ISA=<path> (autograd/meson.build)"
#endif

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace mg::kernels::MG_ISA {

#if defined(__AVX2__)  // the AVX2 and AVX-512 paths

namespace {

using I64 = std::int64_t;

#if defined(__AVX512F__)

struct Lanes {
  static constexpr int width = 16;
  // Accumulators: rows × 3 vectors of the 32 zmm registers, plus 3 of B and a broadcast.
  static constexpr int rows = 8;
  using Vec = __m512;
  static __mmask16 first(int n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1); }
  static Vec zero() { return _mm512_setzero_ps(); }
  static Vec load(const float* p) { return _mm512_loadu_ps(p); }
  static Vec load(const float* p, int n) { return _mm512_maskz_loadu_ps(first(n), p); }
  static void store(float* p, int n, Vec v) { _mm512_mask_storeu_ps(p, first(n), v); }
  static Vec broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
  static Vec mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
};

#else

struct Lanes {
  static constexpr int width = 8;
  // Accumulators: rows × 3 vectors of the 16 ymm registers, plus 3 of B and a broadcast.
  static constexpr int rows = 4;
  using Vec = __m256;
  static __m256i first(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Vec zero() { return _mm256_setzero_ps(); }
  static Vec load(const float* p) { return _mm256_loadu_ps(p); }
  static Vec load(const float* p, int n) { return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first(n)); }
  // Masked stores only for part vectors: vmaskmovps stores are slow on some CPUs (AMD).
  static void store(float* p, int n, Vec v) {
    if (n >= 8)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, first(n), v);
  }
  static Vec broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
  static Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
};

#endif

using Vec = Lanes::Vec;
constexpr int W = Lanes::width;
constexpr int kMaxVectors = 3;  // vectors across a tile

// The operands of one call, op(B) already in place as [k, n] with row stride ldb.
struct Product {
  bool ta;
  int k;
  float alpha, beta;
  const float* a;
  I64 lda;
  const float* b;
  I64 ldb;
  float* c;
  I64 ldc;
};

// C[i0 : i0 + R, j0 : j0 + cols] where (NV − 1) · W < cols <= NV · W.
template <bool TA, int R, int NV>
void tile(const Product& q, int i0, int j0, int cols) {
  Vec acc[R][NV];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = Lanes::zero();
  const int last = cols - (NV - 1) * W;  // lanes of the last vector
  // op(A)(i0 + i, p) = a[(i0 + i) · lda + p], or a[p · lda + i0 + i] when TA.
  const float* a = TA ? q.a + i0 : q.a + i0 * q.lda;
  const float* b = q.b + j0;
  for (int p = 0; p < q.k; ++p) {
    Vec bv[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV - 1; ++v) bv[v] = Lanes::load(b + v * W);
    bv[NV - 1] = last < W ? Lanes::load(b + (NV - 1) * W, last) : Lanes::load(b + (NV - 1) * W);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const Vec av = Lanes::broadcast(TA ? a + i : a + i * q.lda);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = Lanes::fma(av, bv[v], acc[i][v]);
    }
    a += TA ? q.lda : 1;
    b += q.ldb;
  }
  const Vec va = Lanes::broadcast(&q.alpha), vb = Lanes::broadcast(&q.beta);
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    float* row = q.c + (i0 + i) * q.ldc + j0;
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      const int n = v == NV - 1 ? last : W;
      Vec r = q.alpha == 1.0f ? acc[i][v] : Lanes::mul(va, acc[i][v]);
      if (q.beta != 0.0f) r = Lanes::fma(vb, Lanes::load(row + v * W, n), r);
      Lanes::store(row + v * W, n, r);
    }
  }
}

// tile<TA, rows, NV> for a run-time rows in [1, R].
template <bool TA, int NV, int R = Lanes::rows>
void tile_rows(int rows, const Product& q, int i0, int j0, int cols) {
  if constexpr (R > 1) {
    if (rows < R) return tile_rows<TA, NV, R - 1>(rows, q, i0, j0, cols);
  }
  tile<TA, R, NV>(q, i0, j0, cols);
}

template <bool TA>
void tiles(const Product& q, int m, int n) {
  // Rows in near-equal blocks (10 as 5 + 5, not 8 + 2): fewer vectors of B per FMA.
  const int blocks = (m + Lanes::rows - 1) / Lanes::rows;
  for (int j0 = 0; j0 < n; j0 += kMaxVectors * W) {
    const int cols = n - j0 < kMaxVectors * W ? n - j0 : kMaxVectors * W;
    const int nv = (cols + W - 1) / W;
    for (int blk = 0, i0 = 0; blk < blocks; ++blk) {
      const int rows = (m - i0 + (blocks - blk) - 1) / (blocks - blk);
      if (nv == 3)
        tile_rows<TA, 3>(rows, q, i0, j0, cols);
      else if (nv == 2)
        tile_rows<TA, 2>(rows, q, i0, j0, cols);
      else
        tile_rows<TA, 1>(rows, q, i0, j0, cols);
      i0 += rows;
    }
  }
}

// dst[p · ldd + j] = src[j · lds + p] for j, p < 8: an 8 × 8 block transposed in ymm registers
// (AVX2 instructions, which the AVX-512 path has too).
void transpose8(const float* src, I64 lds, float* dst, I64 ldd) {
  __m256 r[8], t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {  // pairs of rows interleaved
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {  // pairs of pairs: each 128-bit half holds a column's four values
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // rows 0-3 and 4-7 of each column joined
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// op(B) of a transposed B ([n, k], row stride ldb) into dst as [k, n] with row stride ldd >= n.
void transpose_b(const float* b, I64 ldb, int n, int k, float* dst, I64 ldd) {
  const int n8 = n / 8 * 8, k8 = k / 8 * 8;
  for (int j = 0; j < n8; j += 8) {
    for (int p = 0; p < k8; p += 8) transpose8(b + j * ldb + p, ldb, dst + p * ldd + j, ldd);
    for (int jj = j; jj < j + 8; ++jj)
      for (int p = k8; p < k; ++p) dst[p * ldd + jj] = b[jj * ldb + p];
  }
  for (int j = n8; j < n; ++j)
    for (int p = 0; p < k; ++p) dst[p * ldd + j] = b[j * ldb + p];
}

void run(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
         float beta, float* c, int ldc, float* scratch) {
  Product q{ta, k, alpha, beta, a, lda, b, ldb, c, ldc};
  if (tb) {  // op(B)(p, j) = b[j · ldb + p]: copied as [k, n]
    transpose_b(b, ldb, n, k, scratch, n);
    q.b = scratch;
    q.ldb = n;
  }
  if (ta)
    tiles<true>(q, m, n);
  else
    tiles<false>(q, m, n);
}

}  // namespace

const SmallSgemmKernels small_sgemm{run};

#else  // the generic path: cblas_sgemm multiplies (blas.cpp)

const SmallSgemmKernels small_sgemm{nullptr};

#endif

}  // namespace mg::kernels::MG_ISA
