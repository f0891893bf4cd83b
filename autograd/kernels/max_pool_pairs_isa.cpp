// Max-pool 2x2 / stride 2 for one instruction set: compiled three times, with
// -DMG_ISA=generic|avx2|avx512 and that path's flags (Note [CPU dispatch] in cpu.h).
// The loops are written once, over `Lanes`: eight windows per step on the AVX2 and
// AVX-512 paths, four with SSE2 (the generic path: baseline x86-64). Sixteen-wide
// AVX-512 vectors were slower here: conv4's rows have 14, 7 and 3 windows, so every
// step was a masked part vector (Omniglot MAML2 1 step, max_pool_scatter 0.101 s
// against 0.065 s per iteration with eight, `bench_meta --profile`).
// (Beyond the rule of <cstdint> only, these include <immintrin.h>: its intrinsics are
// always-inline, never a symbol.)
//
// Note [max-pool in row pairs]
// The general kernels (max_pool.cpp) find each window's arg-max with one gather per tap
// and write the scatter one pixel at a time: on Omniglot MAML2 with five inner steps
// that was 19 % of the meta-iteration (max_pool_scatter 15 %, max_pool_select 4.5 %,
// `bench_meta --profile`). Here two input rows give a vector of windows per step: each
// row's pixels are split into the windows' left and right taps (even and odd columns,
// two permutes), the arg-max is three compares in tap order (a later tap wins only when
// it is larger, or when it is the window's first NaN, as the general loop), and the
// scatter builds the two gradient rows in registers — each output value or 0 — and
// interleaves them back: every input pixel is read once and every gradient pixel
// written once. A last odd row or column (outside every window) gets zeros.
#include "autograd/kernels/max_pool_pairs_isa.h"

#ifndef MG_ISA
#error "max_pool_pairs_isa.cpp is compiled once per path with -DMG_ISA=<path> (autograd/meson.build)"
#endif

#include <immintrin.h>

namespace mg::kernels::MG_ISA {

namespace {

using I64 = std::int64_t;

#if defined(__AVX2__)  // the AVX2 and AVX-512 paths

struct Lanes {
  static constexpr I64 width = 8;
  using Vec = __m256;
  using Mask = __m256;  // all bits set in a lane that is in
  static __m256i first(I64 n) {
    const int k = n <= 0 ? 0 : (n >= 8 ? 8 : static_cast<int>(n));
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // Masked moves only for part vectors: vmaskmovps stores are slow on some CPUs (AMD).
  static Vec load(const float* p, I64 n) { return n >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first(n)); }
  static void store(float* p, I64 n, Vec v) {
    if (n >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, first(n), v);
  }
  static void split(const float* row, I64 n, Vec& left, Vec& right) {
    const Vec lo = load(row, 2 * n), hi = load(row + 8, 2 * n - 8);
    // shuffle_ps picks within 128-bit halves ([lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6]); the
    // 64-bit permute puts the pairs in order.
    left = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0x88)), 0xD8));
    right = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(lo, hi, 0xDD)), 0xD8));
  }
  static void join(Vec left, Vec right, I64 n, float* row) {
    const Vec a = _mm256_unpacklo_ps(left, right);  // l0 r0 l1 r1 | l4 r4 l5 r5
    const Vec b = _mm256_unpackhi_ps(left, right);  // l2 r2 l3 r3 | l6 r6 l7 r7
    store(row, 2 * n, _mm256_permute2f128_ps(a, b, 0x20));
    store(row + 8, 2 * n - 8, _mm256_permute2f128_ps(a, b, 0x31));
  }
  static Mask takes_over(Vec tap, Vec top) {
    const Mask nan_first = _mm256_and_ps(_mm256_cmp_ps(tap, tap, _CMP_UNORD_Q), _mm256_cmp_ps(top, top, _CMP_ORD_Q));
    return _mm256_or_ps(_mm256_cmp_ps(tap, top, _CMP_GT_OQ), nan_first);
  }
  static Vec pick(Mask m, Vec yes, Vec no) { return _mm256_blendv_ps(no, yes, m); }
  static Vec keep(Mask m, Vec v) { return _mm256_and_ps(m, v); }
  static Mask either(Mask a, Mask b) { return _mm256_or_ps(a, b); }
  static Mask but_not(Mask a, Mask b) { return _mm256_andnot_ps(b, a); }
  static Mask all() { return _mm256_castsi256_ps(_mm256_set1_epi32(-1)); }
};

#elif defined(__SSE2__)

struct Lanes {
  static constexpr I64 width = 4;
  using Vec = __m128;
  using Mask = __m128;  // all bits set in a lane that is in
  // No masked loads and stores in SSE2: a part vector goes through a small buffer.
  static Vec load(const float* p, I64 n) {
    if (n >= 4) return _mm_loadu_ps(p);
    float b[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (I64 i = 0; i < n; ++i) b[i] = p[i];
    return _mm_loadu_ps(b);
  }
  static void store(float* p, I64 n, Vec v) {
    if (n >= 4) return _mm_storeu_ps(p, v);
    float b[4];
    _mm_storeu_ps(b, v);
    for (I64 i = 0; i < n; ++i) p[i] = b[i];
  }
  static void split(const float* row, I64 n, Vec& left, Vec& right) {
    const Vec lo = load(row, 2 * n), hi = load(row + 4, 2 * n - 4);
    left = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    right = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
  }
  static void join(Vec left, Vec right, I64 n, float* row) {
    store(row, 2 * n, _mm_unpacklo_ps(left, right));
    store(row + 4, 2 * n - 4, _mm_unpackhi_ps(left, right));
  }
  static Mask takes_over(Vec tap, Vec top) {
    const Mask nan_first = _mm_and_ps(_mm_cmpunord_ps(tap, tap), _mm_cmpord_ps(top, top));
    return _mm_or_ps(_mm_cmpgt_ps(tap, top), nan_first);
  }
  static Vec pick(Mask m, Vec yes, Vec no) { return _mm_or_ps(_mm_and_ps(m, yes), _mm_andnot_ps(m, no)); }
  static Vec keep(Mask m, Vec v) { return _mm_and_ps(m, v); }
  static Mask either(Mask a, Mask b) { return _mm_or_ps(a, b); }
  static Mask but_not(Mask a, Mask b) { return _mm_andnot_ps(b, a); }
  static Mask all() { return _mm_castsi128_ps(_mm_set1_epi32(-1)); }
};

#else
#error "max_pool_pairs_isa.cpp: x86-64 has at least SSE2"
#endif

using Vec = Lanes::Vec;
using Mask = Lanes::Mask;

// Which tap wins in a vector of windows: taps in row-major order (top left, top right,
// bottom left, bottom right), each later one taking over as Lanes::takes_over says.
struct Winners {
  Mask over1, over2, over3;
};

inline Winners arg_max(const float* row0, const float* row1, I64 n) {
  Vec t0, t1, t2, t3;
  Lanes::split(row0, n, t0, t1);
  Lanes::split(row1, n, t2, t3);
  Winners w{};
  Vec top = t0;
  w.over1 = Lanes::takes_over(t1, top);
  top = Lanes::pick(w.over1, t1, top);
  w.over2 = Lanes::takes_over(t2, top);
  top = Lanes::pick(w.over2, t2, top);
  w.over3 = Lanes::takes_over(t3, top);
  return w;
}

// body(plane, row pair, first window, windows) for every vector of windows of every
// row pair (rows 2·oh and 2·oh + 1) of every plane, in memory order.
template <class Body>
inline void each_vector(I64 planes, I64 h, I64 w, Body&& body) {
  for (I64 p = 0; p < planes; ++p)
    for (I64 oh = 0; oh < h / 2; ++oh)
      for (I64 ow = 0; ow < w / 2; ow += Lanes::width)
        body(p, oh, ow, w / 2 - ow < Lanes::width ? w / 2 - ow : Lanes::width);
}

void select(const float* keys, const float* values, float* out, I64 planes, I64 h, I64 w) {
  const I64 ow_n = w / 2;
  each_vector(planes, h, w, [&](I64 p, I64 oh, I64 ow, I64 n) {
    const I64 r0 = p * h * w + 2 * oh * w + 2 * ow, r1 = r0 + w;
    const Winners win = arg_max(keys + r0, keys + r1, n);
    Vec v0, v1, v2, v3;
    Lanes::split(values + r0, n, v0, v1);
    Lanes::split(values + r1, n, v2, v3);
    Vec best = Lanes::pick(win.over1, v1, v0);
    best = Lanes::pick(win.over2, v2, best);
    best = Lanes::pick(win.over3, v3, best);
    Lanes::store(out + (p * (h / 2) + oh) * ow_n + ow, n, best);
  });
}

void scatter(const float* keys, const float* grad, float* out, I64 planes, I64 h, I64 w) {
  const I64 ow_n = w / 2;
  each_vector(planes, h, w, [&](I64 p, I64 oh, I64 ow, I64 n) {
    const I64 r0 = p * h * w + 2 * oh * w + 2 * ow, r1 = r0 + w;
    const Winners win = arg_max(keys + r0, keys + r1, n);
    const Vec g = Lanes::load(grad + (p * (h / 2) + oh) * ow_n + ow, n);
    // The last tap that took over is the window's arg-max.
    const Mask at3 = win.over3;
    const Mask at2 = Lanes::but_not(win.over2, at3);
    const Mask at1 = Lanes::but_not(Lanes::but_not(win.over1, win.over2), at3);
    const Mask at0 = Lanes::but_not(Lanes::all(), Lanes::either(Lanes::either(win.over1, win.over2), at3));
    Lanes::join(Lanes::keep(at0, g), Lanes::keep(at1, g), n, out + r0);
    Lanes::join(Lanes::keep(at2, g), Lanes::keep(at3, g), n, out + r1);
  });
  // A last odd column or row is in no window.
  for (I64 p = 0; p < planes; ++p) {
    float* o = out + p * h * w;
    if (w % 2 != 0)
      for (I64 r = 0; r < h; ++r) o[r * w + w - 1] = 0.0f;
    if (h % 2 != 0)
      for (I64 i = 0; i < w; ++i) o[(h - 1) * w + i] = 0.0f;
  }
}

}  // namespace

extern const MaxPoolPairsKernels max_pool_pairs{select, scatter};

}  // namespace mg::kernels::MG_ISA
