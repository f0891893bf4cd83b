#include "autograd/kernels/im2col.h"

#include <algorithm>
#include <cstring>

namespace mg::kernels {

namespace {

// Output columns ow whose tap j lands inside [0, W): ow in [lo, hi).
struct ValidRange {
  std::int64_t lo = 0, hi = 0;
};
ValidRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t extent, std::int64_t n_out) {
  // ow * stride + offset in [0, extent)  <=>  ow in [ceil(-offset / stride), ceil((extent - offset) / stride))
  auto ceil_div = [](std::int64_t a, std::int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  ValidRange r{ceil_div(-offset, stride), ceil_div(extent - offset, stride)};
  r.lo = std::clamp<std::int64_t>(r.lo, 0, n_out);
  r.hi = std::clamp<std::int64_t>(r.hi, r.lo, n_out);
  return r;
}

// Walks every (row of cols, image row) pair and hands `body` the matching cols run
// and image row (nullptr when the image row is padding) with the valid column range.
// im2col copies along the run, col2im accumulates back: one loop nest for both.
template <class Body>
void for_each_window_row(const ConvGeometry& g, Body&& body) {
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w();
  const std::int64_t l_n = oh_n * ow_n, rows = g.col_rows();
  const bool per_image = g.layout == ColLayout::PerImage;
  for (std::int64_t c = 0; c < g.c; ++c)
    for (std::int64_t i = 0; i < g.kh; ++i)
      for (std::int64_t j = 0; j < g.kw; ++j) {
        const std::int64_t row = (c * g.kh + i) * g.kw + j;
        const ValidRange vr = valid_range(j - g.pw, g.sw, g.w, ow_n);
        for (std::int64_t n = 0; n < g.n; ++n)
          for (std::int64_t oh = 0; oh < oh_n; ++oh) {
            const std::int64_t ih = oh * g.sh - g.ph + i;
            // Folded: element (row, n*L + oh*OW); PerImage: element (n, row, oh*OW).
            const std::int64_t col0 = per_image ? (n * rows + row) * l_n + oh * ow_n : row * (g.n * l_n) + n * l_n + oh * ow_n;
            const std::int64_t img_row = ih >= 0 && ih < g.h ? ((n * g.c + c) * g.h + ih) * g.w : -1;
            body(col0, img_row, j - g.pw, vr, ow_n);
          }
      }
}

}  // namespace

Tensor im2col(const Tensor& x, const ConvGeometry& g) {
  Tensor cols(g.cols_shape(), x.dtype());
  dispatch_float("im2col", x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    T* pc = cols.data<T>();
    const std::int64_t sw = g.sw;
    for_each_window_row(g, [&](std::int64_t col0, std::int64_t img_row, std::int64_t off, ValidRange vr,
                                  std::int64_t ow_n) {
      T* dst = pc + col0;
      if (img_row < 0) {
        std::fill(dst, dst + ow_n, T(0));
        return;
      }
      std::fill(dst, dst + vr.lo, T(0));
      const T* src = px + img_row + off;
      if (sw == 1) {
        std::memcpy(dst + vr.lo, src + vr.lo, static_cast<std::size_t>(vr.hi - vr.lo) * sizeof(T));
      } else {
        for (std::int64_t ow = vr.lo; ow < vr.hi; ++ow) dst[ow] = src[ow * sw];
      }
      std::fill(dst + vr.hi, dst + ow_n, T(0));
    });
  });
  return cols;
}

Tensor col2im(const Tensor& cols, const ConvGeometry& g) {
  Tensor img(g.image_shape(), cols.dtype());
  std::memset(img.raw_data(), 0, img.nbytes());
  dispatch_float("col2im", cols.dtype(), [&]<class T>() {
    const T* pc = cols.data<T>();
    T* pi = img.data<T>();
    const std::int64_t sw = g.sw;
    for_each_window_row(g, [&](std::int64_t col0, std::int64_t img_row, std::int64_t off, ValidRange vr,
                                  std::int64_t) {
      if (img_row < 0) return;
      const T* src = pc + col0;
      T* dst = pi + img_row + off;
      for (std::int64_t ow = vr.lo; ow < vr.hi; ++ow) dst[ow * sw] += src[ow];
    });
  });
  return img;
}

Tensor max_pool2d_indices(const Tensor& x, const ConvGeometry& g) {
  const std::int64_t oh_n = g.out_h(), ow_n = g.out_w();
  Tensor out({std::int64_t{g.n} * g.c, oh_n * ow_n}, DType::I64);
  dispatch_float("max_pool2d", x.dtype(), [&]<class T>() {
    const T* px = x.data<T>();
    std::int64_t* po = out.data<std::int64_t>();
    const std::int64_t plane = std::int64_t{g.h} * g.w;
    for (std::int64_t p = 0; p < std::int64_t{g.n} * g.c; ++p) {
      const T* img = px + p * plane;
      for (std::int64_t oh = 0; oh < oh_n; ++oh)
        for (std::int64_t ow = 0; ow < ow_n; ++ow) {
          std::int64_t best = (oh * g.sh) * g.w + ow * g.sw;
          for (std::int64_t i = 0; i < g.kh; ++i)
            for (std::int64_t j = 0; j < g.kw; ++j) {
              const std::int64_t at = (oh * g.sh + i) * g.w + ow * g.sw + j;
              if (img[at] > img[best]) best = at;
            }
          *po++ = best;
        }
    }
  });
  return out;
}

}  // namespace mg::kernels
