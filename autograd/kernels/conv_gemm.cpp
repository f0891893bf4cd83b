#include "autograd/kernels/conv_gemm.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>

#include "autograd/kernels/blas.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/kernels/worker_pool.h"

namespace mg::kernels {

// Note [conv in chunks]: the columns of a whole batch are kh*kw times its images:
// 32 MB for the second conv4 layer over Omniglot's 75 query images, 160 MB for a
// MiniImageNet layer. Made whole, they were the largest transients of a MAML step
// (the forward GEMM's input, the input gradient's Wᵀ @ G and the weight gradient's
// recomputed columns), and a freed 32 MB block the pool keeps cannot serve the
// 14 MB activations of the layer below, so RSS paid for them twice. Here each
// GEMM runs over a chunk of images at a time with columns of at most
// conv_chunk_bytes() (a few MiB, reused by every chunk): the same FLOPs in
// GEMMs of [F, K] x [K, chunk*L], still wide enough to run at full speed.
//   Folded:   image n's columns are the column block n*L .. (n+1)*L of [K, N*L], so a
//             chunk's output is the column block of [F, N*L] at n0*L (leading
//             dimension N*L), and the chunk's columns are im2col of its images.
//   PerImage: one GEMM per image, on the chunk's columns [chunk, K, L].
// The weight gradient accumulates over chunks in a fixed order (beta = 1 after the
// first), so its bits do not depend on anything but the chunk size.

namespace {

std::atomic<std::size_t> g_chunk_bytes{std::size_t{4} << 20};

// The chunks of images [first, last) of the batch, in order.
template <class T>
struct Chunks {
  const ConvGeometry& g;
  std::int64_t first, last, k, l, per_chunk;
  Tensor cols;  // one chunk's columns, reused

  Chunks(const ConvGeometry& geom, DType dtype, std::int64_t first_image, std::int64_t last_image)
      : g(geom),
        first(first_image),
        last(last_image),
        k(geom.col_rows()),
        l(geom.out_h() * geom.out_w()),
        per_chunk(conv_chunk_images(geom, sizeof(T))) {
    cols = Tensor({std::min(per_chunk, last - first) * k * l}, dtype);
  }
  Chunks(const ConvGeometry& geom, DType dtype) : Chunks(geom, dtype, 0, geom.n) {}
  // body(first image, images in the chunk, the chunk's geometry) for every chunk, in order.
  template <class Body>
  void each(Body&& body) const {
    for (std::int64_t n0 = first; n0 < last; n0 += per_chunk) {
      ConvGeometry part = g;
      part.n = static_cast<std::int32_t>(std::min(per_chunk, last - n0));
      body(n0, std::int64_t{part.n}, part);
    }
  }
  std::int64_t image_size() const { return std::int64_t{g.c} * g.h * g.w; }
};

// Note [conv over parts]: the forward and the input gradient are independent per image,
// so with op_threads() > 1 (kernels/worker_pool.h) each part takes a block of images,
// with columns of its own, and its GEMMs run whole on its thread. Chunk boundaries do
// not change any output element's sums in metagrad's own sgemm, so the bits are those
// of one part. OpenBLAS (float32 on the generic path, and float64) gives no such
// promise: its results moved with the number of columns in a test, so those products
// keep one part. The weight gradient sums over images; it keeps one chunk loop, and its
// GEMMs split their own output (Note [Splitting a product], sgemm.cpp).
// Every part's columns are made on the calling thread before any part runs, so the peak
// holds all of them whenever the pool starts its workers: a part that ran to its end
// before the next one allocated used to leave the peak one chunk lower, at random (the
// memory prediction's test saw it in two runs of five).
template <class T>
void over_image_parts(const ConvGeometry& g, DType dtype, std::int64_t filters,
                      const std::function<void(Chunks<T>&)>& part) {
  if (!split_keeps_bits<T>()) {
    Chunks<T> whole(g, dtype, 0, g.n);
    part(whole);
    return;
  }
  const std::int64_t grain = conv_split_grain(filters * g.col_rows() * g.out_h() * g.out_w());
  const std::int64_t parts = std::max<std::int64_t>(1, split_count(g.n, grain, op_threads()));
  std::vector<Chunks<T>> chunks;
  chunks.reserve(static_cast<std::size_t>(parts));
  for (std::int64_t p = 0; p < parts; ++p)
    chunks.emplace_back(g, dtype, split_bound(g.n, parts, 1, p), split_bound(g.n, parts, 1, p + 1));
  split_for(g.n, grain, 1, [&](std::int64_t first, std::int64_t last) {
    for (Chunks<T>& c : chunks)
      if (c.first == first && c.last == last) return part(c);
    // Inside a pool job split_for runs one part, [0, n), which no chunk above covers.
    Chunks<T> other(g, dtype, first, last);
    part(other);
  });
}

int i32(std::int64_t v) { return static_cast<int>(v); }

}  // namespace

std::int64_t conv_split_grain(std::int64_t macs_per_image) {
  return std::max<std::int64_t>(1, kSplitMacs / std::max<std::int64_t>(1, macs_per_image));
}

std::size_t conv_chunk_bytes() { return g_chunk_bytes.load(std::memory_order_relaxed); }
void set_conv_chunk_bytes(std::size_t bytes) { g_chunk_bytes.store(bytes, std::memory_order_relaxed); }

std::int64_t conv_chunk_images(const ConvGeometry& g, std::size_t element_bytes) {
  const std::int64_t per_image = g.col_rows() * g.out_h() * g.out_w() * static_cast<std::int64_t>(element_bytes);
  if (per_image <= 0) return std::max<std::int64_t>(g.n, 1);
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(conv_chunk_bytes()) / per_image);
}

Tensor conv_forward(const Tensor& x, const Tensor& w, const ConvGeometry& g) {
  const std::int64_t f = w.shape()[0], l = g.out_h() * g.out_w();
  const bool per_image = g.layout == ColLayout::PerImage;
  Tensor out(per_image ? Shape{g.n, f, l} : Shape{f, g.n * l}, x.dtype());
  if (out.numel() == 0) return out;
  dispatch_float("conv_columns", x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    const T* pw = w.data<T>();
    T* po = out.mutable_data<T>();
    if (g.col_rows() == 0) {
      std::fill(po, po + out.numel(), T(0));
      return;
    }
    over_image_parts<T>(g, x.dtype(), f, [&](Chunks<T>& c) {
      T* cols = c.cols.template mutable_data<T>();
      c.each([&](std::int64_t n0, std::int64_t count, const ConvGeometry& part) {
        im2col_raw(px + n0 * c.image_size(), part, cols);
        if (per_image) {
          for (std::int64_t i = 0; i < count; ++i)
            gemm<T>(false, false, i32(f), i32(l), i32(c.k), pw, i32(c.k), cols + i * c.k * l, i32(l), T(0),
                    po + (n0 + i) * f * l, i32(l));
        } else {
          gemm<T>(false, false, i32(f), i32(count * l), i32(c.k), pw, i32(c.k), cols, i32(count * l), T(0),
                  po + n0 * l, i32(g.n * l));
        }
      });
    });
  });
  return out;
}

Tensor conv_input_grad(const Tensor& grad, const Tensor& w, const ConvGeometry& g) {
  const std::int64_t f = w.shape()[0], l = g.out_h() * g.out_w();
  const bool per_image = g.layout == ColLayout::PerImage;
  Tensor dx(g.image_shape(), grad.dtype());
  if (dx.numel() == 0) return dx;
  dispatch_float("conv_input_grad", grad.dtype(), [&]<class T>() {
    const T* pg = grad.data<T>();
    const T* pw = w.data<T>();
    T* pd = dx.mutable_data<T>();
    over_image_parts<T>(g, grad.dtype(), f, [&](Chunks<T>& c) {
      T* cols = c.cols.template mutable_data<T>();
      c.each([&](std::int64_t n0, std::int64_t count, const ConvGeometry& part) {
        const std::int64_t chunk_cols = count * c.k * l;
        if (f == 0 || l == 0) {
          std::fill(cols, cols + chunk_cols, T(0));
        } else if (per_image) {
          for (std::int64_t i = 0; i < count; ++i)
            gemm<T>(true, false, i32(c.k), i32(l), i32(f), pw, i32(c.k), pg + (n0 + i) * f * l, i32(l), T(0),
                    cols + i * c.k * l, i32(l));
        } else {
          gemm<T>(true, false, i32(c.k), i32(count * l), i32(f), pw, i32(c.k), pg + n0 * l, i32(g.n * l), T(0),
                  cols, i32(count * l));
        }
        col2im_raw(cols, part, pd + n0 * c.image_size());
      });
    });
  });
  return dx;
}

Tensor conv_weight_grad(const Tensor& x, const Tensor& grad, const ConvGeometry& g, std::int64_t filters) {
  const std::int64_t f = filters, l = g.out_h() * g.out_w();
  const bool per_image = g.layout == ColLayout::PerImage;
  Tensor dw({f, g.col_rows()}, x.dtype());
  if (dw.numel() == 0) return dw;
  dispatch_float("conv_weight_grad", x.dtype(), [&]<class T>() {
    T* pd = dw.mutable_data<T>();
    std::fill(pd, pd + dw.numel(), T(0));
    if (g.n == 0 || l == 0) return;
    Chunks<T> c(g, x.dtype());
    T* cols = c.cols.template mutable_data<T>();
    const T* px = x.data<T>();
    const T* pg = grad.data<T>();
    // Wide layers split each chunk by rows of the columns, i.e. columns of dW: a part
    // makes its rows of the columns and their block of dW (Note [conv over parts]).
    // Narrow ones (layer 1's nine rows) leave the split to the GEMM's rows of dW.
    const bool by_rows = split_keeps_bits<T>() && c.k >= 96;
    c.each([&](std::int64_t n0, std::int64_t count, const ConvGeometry& part) {
      const auto rows = [&](std::int64_t r0, std::int64_t r1) {
        im2col_rows(px + n0 * c.image_size(), part, cols, r0, r1);
        if (per_image) {
          for (std::int64_t i = 0; i < count; ++i)
            gemm<T>(false, true, i32(f), i32(r1 - r0), i32(l), pg + (n0 + i) * f * l, i32(l), cols + (i * c.k + r0) * l,
                    i32(l), T(1), pd + r0, i32(c.k));
        } else {
          gemm<T>(false, true, i32(f), i32(r1 - r0), i32(count * l), pg + n0 * l, i32(g.n * l), cols + r0 * count * l,
                  i32(count * l), T(1), pd + r0, i32(c.k));
        }
      };
      if (by_rows)
        split_for(c.k, 48, 16, rows);
      else
        rows(0, c.k);
    });
  });
  return dw;
}

}  // namespace mg::kernels
