#include "autograd/kernels/max_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "autograd/kernels/cpu.h"
#include "autograd/kernels/max_pool_pairs_isa.h"
#include "autograd/kernels/worker_pool.h"

namespace mg::kernels {

namespace {

#define MG_AVX512 __attribute__((target("avx512f")))

// Offsets of the windows' first taps and of the taps within a window, in a plane.
struct Windows {
  std::vector<std::int32_t> first;  // [OH * OW]
  std::vector<std::int32_t> taps;   // [kh * kw], row-major
  explicit Windows(const ConvGeometry& g) {
    for (std::int64_t oh = 0; oh < g.out_h(); ++oh)
      for (std::int64_t ow = 0; ow < g.out_w(); ++ow)
        first.push_back(static_cast<std::int32_t>(oh * g.sh * g.w + ow * g.sw));
    for (std::int32_t i = 0; i < g.kh; ++i)
      for (std::int32_t j = 0; j < g.kw; ++j) taps.push_back(i * g.w + j);
  }
};

// Note [arg-max by gather]: tap t of sixteen windows is one gather at first + taps[t].
// The running maximum takes a tap only when it is strictly larger, or NaN while the
// maximum is not yet NaN, as the scalar loop, so the index is exactly the scalar
// loop's: a window holding a NaN selects its first NaN, and max-pooling gives NaN
// (Note [NaN propagation] in elementwise_isa.cpp).
MG_AVX512 void plane_argmax_avx512(const float* img, const Windows& w, std::int32_t* out) {
  const std::int64_t outputs = static_cast<std::int64_t>(w.first.size());
  const int n_taps = static_cast<int>(w.taps.size());
  for (std::int64_t o = 0; o < outputs; o += 16) {
    const std::int64_t left = outputs - o;
    const __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
    const __m512i base = _mm512_maskz_loadu_epi32(m, w.first.data() + o);
    __m512 top = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, base, img, 4);
    __m512i best = base;
    for (int t = 1; t < n_taps; ++t) {
      const __m512i at = _mm512_add_epi32(base, _mm512_set1_epi32(w.taps[static_cast<std::size_t>(t)]));
      const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, at, img, 4);
      const __mmask16 nan_first = _mm512_mask_cmp_ps_mask(_mm512_cmp_ps_mask(top, top, _CMP_ORD_Q), v, v, _CMP_UNORD_Q);
      const __mmask16 more = _mm512_mask_cmp_ps_mask(m, v, top, _CMP_GT_OQ) | (nan_first & m);
      top = _mm512_mask_mov_ps(top, more, v);
      best = _mm512_mask_mov_epi32(best, more, at);
    }
    _mm512_mask_storeu_epi32(out + o, m, best);
  }
}

template <class T>
void plane_argmax_scalar(const T* img, const Windows& w, std::int32_t* out) {
  const std::size_t outputs = w.first.size();
  for (std::size_t o = 0; o < outputs; ++o) {
    std::int32_t best = w.first[o];
    T top = img[best];
    // Selects, not branches: which pixel wins is data, and unpredictable.
    for (std::size_t t = 1; t < w.taps.size(); ++t) {
      const std::int32_t at = w.first[o] + w.taps[t];
      const bool more = img[at] > top || (img[at] != img[at] && top == top);
      top = more ? img[at] : top;
      best = more ? at : best;
    }
    out[o] = best;
  }
}

// body(plane p, the arg-max of its windows [OH * OW]) for every plane of keys, in order.
template <class T, class Body>
void each_plane_argmax(const Tensor& keys, const ConvGeometry& g, Body&& body) {
  const Windows w(g);
  const std::int64_t plane = std::int64_t{g.h} * g.w, planes = std::int64_t{g.n} * g.c;
  std::vector<std::int32_t> arg(w.first.size());
  const T* pk = keys.data<T>();
  bool wide = false;
  if constexpr (std::is_same_v<T, float>)
    wide = active_isa() == Isa::Avx512 && plane <= std::numeric_limits<std::int32_t>::max();
  for (std::int64_t p = 0; p < planes; ++p) {
    if constexpr (std::is_same_v<T, float>) {
      if (wide) plane_argmax_avx512(pk + p * plane, w, arg.data());
      else plane_argmax_scalar(pk + p * plane, w, arg.data());
    } else {
      plane_argmax_scalar(pk + p * plane, w, arg.data());
    }
    body(p, static_cast<const std::int32_t*>(arg.data()));
  }
}

// 2x2 windows at stride 2, unpadded: Note [max-pool in row pairs] (max_pool_pairs_isa.cpp),
// float32 on every path.
bool in_row_pairs(const ConvGeometry& g) {
  return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 && g.h >= 2 && g.w >= 2;
}

const MaxPoolPairsKernels& row_pairs() {
  return pick_isa(generic::max_pool_pairs, avx2::max_pool_pairs, avx512::max_pool_pairs);
}

// body(p0, p1) over blocks of the N·C planes, split over op_threads() (kernels/worker_pool.h)
// when there are many values: each plane is one part's alone.
void over_planes(const ConvGeometry& g, const std::function<void(std::int64_t, std::int64_t)>& body) {
  constexpr std::int64_t kValuesPerPart = std::int64_t{1} << 12;
  const std::int64_t plane = std::max<std::int64_t>(1, std::int64_t{g.h} * g.w);
  split_for(std::int64_t{g.n} * g.c, std::max<std::int64_t>(1, kValuesPerPart / plane), 1, body);
}

}  // namespace

Tensor max_pool2d_indices(const Tensor& x, const ConvGeometry& g) {
  const std::int64_t outputs = g.out_h() * g.out_w();
  Tensor out({std::int64_t{g.n} * g.c, outputs}, DType::I64);
  dispatch_float("max_pool2d", x.dtype(), [&]<class T>() {
    std::int64_t* po = out.mutable_data<std::int64_t>();
    each_plane_argmax<T>(x, g, [&](std::int64_t p, const std::int32_t* arg) {
      for (std::int64_t o = 0; o < outputs; ++o) po[p * outputs + o] = arg[o];
    });
  });
  return out;
}

Tensor max_pool_select(const Tensor& keys, const Tensor& values, const ConvGeometry& g) {
  const std::int64_t outputs = g.out_h() * g.out_w(), plane = std::int64_t{g.h} * g.w;
  Tensor out({g.n, g.c, g.out_h(), g.out_w()}, values.dtype());
  dispatch_float("max_pool_select", values.dtype(), [&]<class T>() {
    const T* pv = values.data<T>();
    T* po = out.mutable_data<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (in_row_pairs(g)) {
        const float* pk = keys.data<float>();
        return over_planes(g, [&](std::int64_t p0, std::int64_t p1) {
          row_pairs().select(pk + p0 * plane, pv + p0 * plane, po + p0 * outputs, p1 - p0, g.h, g.w);
        });
      }
    }
    each_plane_argmax<T>(keys, g, [&](std::int64_t p, const std::int32_t* arg) {
      const T* v = pv + p * plane;
      T* o = po + p * outputs;
      for (std::int64_t i = 0; i < outputs; ++i) o[i] = v[arg[i]];
    });
  });
  return out;
}

Tensor max_pool_scatter(const Tensor& keys, const Tensor& grad, const ConvGeometry& g) {
  const std::int64_t outputs = g.out_h() * g.out_w(), plane = std::int64_t{g.h} * g.w;
  Tensor out(g.image_shape(), grad.dtype());
  // Windows that tile the plane exactly (conv4's 2x2, stride 2, on even sides) write
  // every pixel once, the gradient or 0, in one pass; otherwise zeros first, then sums.
  const bool tiled = g.sh == g.kh && g.sw == g.kw && g.h == g.out_h() * g.kh && g.w == g.out_w() * g.kw;
  dispatch_float("max_pool_scatter", grad.dtype(), [&]<class T>() {
    const T* pg = grad.data<T>();
    T* po = out.mutable_data<T>();
    if constexpr (std::is_same_v<T, float>) {
      if (in_row_pairs(g)) {
        const float* pk = keys.data<float>();
        return over_planes(g, [&](std::int64_t p0, std::int64_t p1) {
          row_pairs().scatter(pk + p0 * plane, pg + p0 * outputs, po + p0 * plane, p1 - p0, g.h, g.w);
        });
      }
    }
    if (!tiled) std::memset(po, 0, out.nbytes());
    const Windows w(g);
    each_plane_argmax<T>(keys, g, [&](std::int64_t p, const std::int32_t* arg) {
      const T* gp = pg + p * outputs;
      T* o = po + p * plane;
      if (tiled) {
        for (std::int64_t i = 0; i < outputs; ++i) {
          const std::int32_t first = w.first[static_cast<std::size_t>(i)];
          for (const std::int32_t t : w.taps) o[first + t] = first + t == arg[i] ? gp[i] : T(0);
        }
      } else {
        for (std::int64_t i = 0; i < outputs; ++i) o[arg[i]] += gp[i];
      }
    });
  });
  return out;
}

}  // namespace mg::kernels
