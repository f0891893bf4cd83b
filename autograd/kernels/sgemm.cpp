// Single-precision GEMM, C = alpha · op(A) · op(B) + beta · C, row-major, AVX-512.
//
// Why: Debian's OpenBLAS 0.3.21 does not recognise this CPU family and runs its SSE
// "Prescott" kernels (~20 GFLOP/s per core where AVX-512 FMA can do several times that).
//
// The scheme is Goto's / BLIS's, written for row-major C where the vector axis is n:
//
//   for jc over n in steps of nc        B block  [kc × nc]  packed, lives in L2 (1-1.5 MiB)
//     for pc over k in steps of kc
//       pack op(B)[pc:pc+kc, jc:jc+nc] into micro-panels of kNR columns
//       for ic over m in steps of mc
//         pack op(A)[ic:ic+mc, pc:pc+kc] into micro-panels of kMR rows
//         for ir over mc in steps of kMR  A micro-panel [kMR × kc] stays in L1
//           for jr over nc in steps of kNR  B micro-panels stream from L2
//             micro-kernel: C[kMR × kNR] (+)= Ap · Bp, in kMR · kNV zmm registers
//
// Packed layouts: an A micro-panel holds element (i, p) at [p · kMR + i], a B micro-panel
// (p, j) at [p · kNR + j], so the micro-kernel reads both with unit stride: per p it loads
// kNV vectors of B and broadcasts kMR scalars of A into kMR · kNV FMAs. Panels are
// zero-padded to full kMR / kNR, so the kernel always computes a whole tile and only the
// stores to C are masked at the edges. The transposes (op) are absorbed by packing: the
// kernel never sees them. Two tiles, kMR × kNR = 8 × 48 and 12 × 32, each 24 zmm
// accumulators + 2-3 B registers + a broadcast of the 32 registers; a call takes the one
// that pads m less (8 × 48 measured up to 20 % faster on conv's m = 64, 12 × 32 ~25 %
// faster on the MLP's m = 10). The first kc block writes C (alpha, beta applied), later
// ones add.
//
// Packing buffers are thread_local and only grow, so steady-state calls do not allocate.
// All AVX-512 code carries a target attribute (the build has no -mavx flags) and is
// only reached when the active path (cpu.h) is avx512; on the avx2 path sgemm() runs
// sgemm_avx2.cpp's 6 × 16 tile, on the generic one blas.cpp calls cblas_sgemm.
#include "autograd/kernels/sgemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "autograd/kernels/block_size.h"
#include "autograd/kernels/cpu.h"
#include "autograd/kernels/sgemm_avx2.h"
#include "autograd/kernels/sgemm_small_isa.h"
#include "autograd/kernels/worker_pool.h"

#define MG_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))

namespace mg::kernels {

namespace {

// Two register tiles, chosen per call by which wastes fewer padded rows of A
// (sgemm_avx512): 8 × 48 (24 accumulators + 3 B registers) fits m = 64 (conv) exactly,
// 12 × 32 (24 + 2) fits the MLP's m = 10 in one tile.
template <int MR, int NV>
struct Tile {
  static constexpr int kMR = MR;           // rows of a micro-tile (broadcast operand, A)
  static constexpr int kNV = NV;           // zmm vectors across a micro-tile
  static constexpr int kNR = 16 * NV;      // columns of a micro-tile (vector operand, B)
  static constexpr int kMC = MR * 16;      // rows of A per packed block (128 or 192)
  static constexpr int kNC = kNR * 32;     // columns of a packed B block: 1.5 or 1 MiB at kc = 256, in L2 (2 MiB)
};
using Tile8x48 = Tile<8, 3>;
using Tile12x32 = Tile<12, 2>;
constexpr int kKC = 256;  // depth of a block: an A micro-panel of 8-12 KiB stays in L1 (48 KiB)

// Grow-only 64-byte-aligned buffer.
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { std::free(data_); }
  float* get(std::size_t floats) {
    if (floats > capacity_) {
      // One vector of slack past the panels, as a guard (the packing stores are masked).
      const std::size_t bytes = ((floats + 16) * sizeof(float) + 63) / 64 * 64;
      void* p = std::aligned_alloc(64, bytes);
      if (p == nullptr) throw std::bad_alloc();
      std::free(data_);
      data_ = static_cast<float*>(p);
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

struct Scratch {
  Buffer a, b;
};
thread_local Scratch scratch;

MG_AVX512 inline __mmask16 lane_mask(int lanes) {
  return lanes >= 16 ? __mmask16(0xFFFF) : lanes <= 0 ? __mmask16(0) : __mmask16((1u << lanes) - 1);
}

// --- packing ---------------------------------------------------------------

// Transposes the 16 × 16 block src (row stride lds; rows >= rows read as zero, columns
// >= cols not read) into dst (row stride ldd): dst[j · ldd + i] = src[i · lds + j] for
// j < cols and the lanes i in `store` (no row at or past cols is written).
MG_AVX512 void transpose16(const float* src, std::ptrdiff_t lds, int rows, int cols, float* dst, std::ptrdiff_t ldd,
                           __mmask16 store) {
  // The maskz forms with a full mask are the plain instructions; the plain intrinsics
  // trip g++ 12's -Wuninitialized on their internal _mm512_undefined_ps().
  constexpr __mmask16 kAll = 0xFFFF;
  const __mmask16 m = lane_mask(cols);
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * lds) : _mm512_setzero_ps();
  // Interleave pairs of rows, then pairs of pairs, then 128-bit lanes twice.
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_ps(kAll, r[i], r[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_ps(kAll, r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_maskz_shuffle_ps(kAll, t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_maskz_shuffle_ps(kAll, t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_maskz_shuffle_ps(kAll, t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_maskz_shuffle_ps(kAll, t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_maskz_shuffle_f32x4(kAll, r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_maskz_shuffle_f32x4(kAll, r[i], r[i + 4], 0xDD);
    t[i + 8] = _mm512_maskz_shuffle_f32x4(kAll, r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_maskz_shuffle_f32x4(kAll, r[i + 8], r[i + 12], 0xDD);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_maskz_shuffle_f32x4(kAll, t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_maskz_shuffle_f32x4(kAll, t[i], t[i + 8], 0xDD);
  }
  // r[j] now holds column j of src.
  for (int j = 0; j < cols; ++j) _mm512_mask_storeu_ps(dst + j * ldd, store, r[j]);
}

// op(A)[i0 : i0+mc, p0 : p0+kc] into micro-panels of kMR rows at ap (panel r at ap + r·kc).
template <int kMR>
MG_AVX512 void pack_a(bool ta, const float* a, int lda, int i0, int mc, int p0, int kc, float* ap) {
  for (int r = 0; r < mc; r += kMR) {
    const int mr = std::min(kMR, mc - r);
    float* dst = ap + static_cast<std::ptrdiff_t>(r) * kc;
    if (ta) {
      // op(A)(i, p) = a[p · lda + i]: a row of the panel is contiguous in memory.
      const __mmask16 load = lane_mask(mr), store = lane_mask(kMR);
      const float* src = a + static_cast<std::ptrdiff_t>(p0) * lda + i0 + r;
      for (int p = 0; p < kc; ++p)
        _mm512_mask_storeu_ps(dst + p * kMR, store, _mm512_maskz_loadu_ps(load, src + static_cast<std::ptrdiff_t>(p) * lda));
    } else {
      // op(A)(i, p) = a[i · lda + p]: transpose 16-column tiles of the mr rows in registers.
      const float* src = a + static_cast<std::ptrdiff_t>(i0 + r) * lda + p0;
      for (int p = 0; p < kc; p += 16)
        transpose16(src + p, lda, mr, std::min(16, kc - p), dst + p * kMR, kMR, lane_mask(kMR));
    }
  }
}

// op(B)[p0 : p0+kc, j0 : j0+nc] into micro-panels of kNR = 16 · kNV columns at bp (panel s at bp + s·kc).
template <int kNV>
MG_AVX512 void pack_b(bool tb, const float* b, int ldb, int p0, int kc, int j0, int nc, float* bp) {
  constexpr int kNR = 16 * kNV;
  for (int s = 0; s < nc; s += kNR) {
    float* dst = bp + static_cast<std::ptrdiff_t>(s) * kc;
    if (!tb) {
      // op(B)(p, j) = b[p · ldb + j]: each row of the panel is a masked vector copy.
      __mmask16 mask[kNV];
      for (int v = 0; v < kNV; ++v) mask[v] = lane_mask(nc - s - 16 * v);
      const float* src = b + static_cast<std::ptrdiff_t>(p0) * ldb + j0 + s;
      for (int p = 0; p < kc; ++p)
        for (int v = 0; v < kNV; ++v)
          _mm512_store_ps(dst + p * kNR + 16 * v,
                          _mm512_maskz_loadu_ps(mask[v], src + static_cast<std::ptrdiff_t>(p) * ldb + 16 * v));
    } else {
      // op(B)(p, j) = b[j · ldb + p]: transpose 16 × 16 tiles in registers.
      for (int v = 0; v < kNV; ++v) {
        const int rows = std::max(0, std::min(16, nc - s - 16 * v));
        const float* src = b + static_cast<std::ptrdiff_t>(j0 + s + 16 * v) * ldb + p0;
        for (int p = 0; p < kc; p += 16)
          transpose16(src + p, ldb, rows, std::min(16, kc - p), dst + p * kNR + 16 * v, kNR, lane_mask(16));
      }
    }
  }
}

// --- micro-kernel ----------------------------------------------------------

// C[mr × nr] at c (row stride ldc) gets alpha · Ap · Bp over depth kc; with `first` it
// is C = that + beta · C (C unread when beta == 0), otherwise C += that. Ap and Bp are
// full zero-padded micro-panels (kMR rows, kNR columns); NV (<= kNR / 16) vectors of
// each Bp row are used.
template <int kMR, int kNR, int NV>
MG_AVX512 void micro_kernel(int kc, const float* __restrict ap, const float* __restrict bp, float* c,
                            std::ptrdiff_t ldc, int mr, int nr, float alpha, float beta, bool first) {
  static_assert(NV * 16 <= kNR);
  __m512 acc[kMR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();

  for (int p = 0; p < kc; ++p) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(bp + p * kNR + 16 * v);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const __m512 av = _mm512_set1_ps(ap[p * kMR + i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }

  __mmask16 mask[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) mask[v] = lane_mask(nr - 16 * v);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) {
    if (i >= mr) break;
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m512 r = alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(va, acc[i][v]);
      if (!first)
        r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask[v], row + 16 * v));
      else if (beta != 0.0f)
        r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], row + 16 * v), r);
      _mm512_mask_storeu_ps(row + 16 * v, mask[v], r);
    }
  }
}

// C = beta · C, for k == 0 or alpha == 0 (beta == 0 writes zeros without reading C).
void scale_c(int m, int n, float beta, float* c, int ldc) {
  for (int i = 0; i < m; ++i) {
    float* row = c + static_cast<std::ptrdiff_t>(i) * ldc;
    for (int j = 0; j < n; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
  }
}

template <class T>
MG_AVX512 void sgemm_blocked(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda,
                             const float* b, int ldb, float beta, float* c, int ldc) {
  constexpr int kMR = T::kMR, kNR = T::kNR;
  const int nc_step = block_size(n, T::kNC, kNR);
  const int kc_step = block_size(k, kKC, 16);
  const int mc_step = block_size(m, T::kMC, kMR);
  float* bp = scratch.b.get(static_cast<std::size_t>(std::min(kc_step, k)) * ((std::min(nc_step, n) + kNR - 1) / kNR * kNR));
  float* ap = scratch.a.get(static_cast<std::size_t>(std::min(kc_step, k)) * ((std::min(mc_step, m) + kMR - 1) / kMR * kMR));
  for (int jc = 0; jc < n; jc += nc_step) {
    const int nc = std::min(nc_step, n - jc);
    for (int pc = 0; pc < k; pc += kc_step) {
      const int kc = std::min(kc_step, k - pc);
      pack_b<T::kNV>(tb, b, ldb, pc, kc, jc, nc, bp);
      for (int ic = 0; ic < m; ic += mc_step) {
        const int mc = std::min(mc_step, m - ic);
        pack_a<kMR>(ta, a, lda, ic, mc, pc, kc, ap);
        for (int ir = 0; ir < mc; ir += kMR) {
          const float* a_panel = ap + static_cast<std::ptrdiff_t>(ir) * kc;
          float* c_rows = c + static_cast<std::ptrdiff_t>(ic + ir) * ldc + jc;
          const int mr = std::min(kMR, mc - ir);
          for (int jr = 0; jr < nc; jr += kNR) {
            const int nr = std::min(kNR, nc - jr);
            const float* b_panel = bp + static_cast<std::ptrdiff_t>(jr) * kc;
            // At the right edge, only the vectors that hold columns of C.
            if constexpr (T::kNV == 3) {
              if (nr > 32) {
                micro_kernel<kMR, kNR, 3>(kc, a_panel, b_panel, c_rows + jr, ldc, mr, nr, alpha, beta, pc == 0);
                continue;
              }
            }
            if (nr > 16)
              micro_kernel<kMR, kNR, 2>(kc, a_panel, b_panel, c_rows + jr, ldc, mr, nr, alpha, beta, pc == 0);
            else
              micro_kernel<kMR, kNR, 1>(kc, a_panel, b_panel, c_rows + jr, ldc, mr, nr, alpha, beta, pc == 0);
          }
        }
      }
    }
  }
}

// The tile that pads m to fewer rows (8 × 48 on ties: it measured faster on the conv shapes).
void sgemm_avx512(bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                  int ldb, float beta, float* c, int ldc) {
  const int rows8 = (m + 7) / 8 * 8, rows12 = (m + 11) / 12 * 12;
  if (rows8 <= rows12)
    sgemm_blocked<Tile8x48>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    sgemm_blocked<Tile12x32>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

bool sgemm_supported() { return active_isa() != Isa::Generic; }

namespace {

// sgemm() and sgemm_packed(): the checks and the trivial cases, then `multiply` on the path.
template <class F>
void guarded(const char* name, int m, int n, int k, float alpha, float beta, float* c, int ldc, F multiply) {
  const Isa isa = active_isa();
  if (isa == Isa::Generic)
    throw std::logic_error(std::string(name) + ": internal error: the active CPU path is generic; call cblas_sgemm");
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(m, n, beta, c, ldc);
    return;
  }
  multiply(isa);
}

void packed(Isa isa, bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
            int ldb, float beta, float* c, int ldc) {
  if (isa == Isa::Avx512)
    sgemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else
    sgemm_avx2(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

namespace {

// One thread's product: the small kernels when the product fits them, else the packed ones.
void multiply(Isa isa, bool ta, bool tb, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
              int ldb, float beta, float* c, int ldc) {
  if (small_sgemm_fits(m, n, k)) {  // Note [Small products without packing]
    const SmallSgemmKernels& small = isa == Isa::Avx512 ? avx512::small_sgemm : avx2::small_sgemm;
    float* transposed_b = tb ? scratch.b.get(static_cast<std::size_t>(k) * n) : nullptr;
    small.run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, transposed_b);
  } else {
    packed(isa, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// Note [Splitting a product]: with op_threads() > 1 (kernels/worker_pool.h), a product of
// at least kSplitMacs multiply-adds runs as one product per part: column blocks of C
// (multiples of 48, the AVX-512 tile's width) when C is wide, else row blocks (multiples
// of 8). Every element of C is still the packed kernels' chain of FMAs over the same
// depth blocks (the small kernels give the same bits, and neither depends on where a
// block starts), so C's bits do not depend on the number of parts. Each part packs
// its own panels: the shared operand is packed once per part, a small cost next to the
// product (it is the narrow one: conv weights, or layer 1's nine columns). kSplitMacs
// is in sgemm.h.

}  // namespace

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
           int ldb, float beta, float* c, int ldc) {
  guarded("sgemm", m, n, k, alpha, beta, c, ldc, [&](Isa isa) {
    const std::int64_t macs = std::int64_t{m} * n * k;
    if (op_threads() == 1 || macs < kSplitMacs || (n < 96 && m < 16)) {
      multiply(isa, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    } else if (n >= 96) {
      split_for(n, 48, 48, [&](std::int64_t j0, std::int64_t j1) {
        const float* bj = trans_b ? b + j0 * ldb : b + j0;
        multiply(isa, trans_a, trans_b, m, static_cast<int>(j1 - j0), k, alpha, a, lda, bj, ldb, beta, c + j0, ldc);
      });
    } else {
      split_for(m, 8, 8, [&](std::int64_t i0, std::int64_t i1) {
        const float* ai = trans_a ? a + i0 : a + i0 * lda;
        multiply(isa, trans_a, trans_b, static_cast<int>(i1 - i0), n, k, alpha, ai, lda, b, ldb, beta, c + i0 * ldc,
                 ldc);
      });
    }
  });
}

void sgemm_packed(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
                  const float* b, int ldb, float beta, float* c, int ldc) {
  guarded("sgemm_packed", m, n, k, alpha, beta, c, ldc,
          [&](Isa isa) { packed(isa, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); });
}

}  // namespace mg::kernels
