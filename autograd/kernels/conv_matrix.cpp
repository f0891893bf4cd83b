#include "autograd/kernels/conv_matrix.h"

#include <cstring>
#include <vector>

#include "autograd/kernels/table_copy.h"

namespace mg::kernels {

namespace {

// table[q · C·H·W + (c, ih, iw)]: where in W[f] (laid out [C, kh, kw]) entry
// ((f, q), (c, ih, iw)) of M comes from, or −1 when pixel (ih, iw) is outside the
// window of output q = (oh, ow). The same for every f.
std::vector<std::int32_t> row_table(const ConvGeometry& g) {
  const std::int64_t ow_n = g.out_w(), l_n = g.out_h() * ow_n, hw = std::int64_t{g.h} * g.w;
  std::vector<std::int32_t> table(static_cast<std::size_t>(l_n * g.c * hw));
  std::int32_t* t = table.data();
  for (std::int64_t q = 0; q < l_n; ++q)
    for (std::int64_t c = 0; c < g.c; ++c)
      for (std::int64_t ih = 0; ih < g.h; ++ih)
        for (std::int64_t iw = 0; iw < g.w; ++iw) {
          const std::int64_t i = ih - (q / ow_n) * g.sh + g.ph, j = iw - (q % ow_n) * g.sw + g.pw;
          const bool inside = i >= 0 && i < g.kh && j >= 0 && j < g.kw;
          *t++ = inside ? static_cast<std::int32_t>((c * g.kh + i) * g.kw + j) : -1;
        }
  return table;
}

// body(row of M, W[f], that row's table) for every row (f, q) of M.
template <class Body>
void for_each_row(const ConvGeometry& g, std::int64_t filters, Body&& body) {
  const std::vector<std::int32_t> table = row_table(g);
  const std::int64_t l_n = g.out_h() * g.out_w(), row_len = std::int64_t{g.c} * g.h * g.w;
  const std::int64_t w_len = std::int64_t{g.c} * g.kh * g.kw;
  for (std::int64_t f = 0; f < filters; ++f)
    for (std::int64_t q = 0; q < l_n; ++q) body((f * l_n + q) * row_len, f * w_len, table.data() + q * row_len, row_len);
}

}  // namespace

Tensor conv_matrix(const Tensor& weight, const ConvGeometry& g, std::int64_t filters) {
  Tensor m({filters * g.out_h() * g.out_w(), std::int64_t{g.c} * g.h * g.w}, weight.dtype());
  dispatch_float("conv_matrix", weight.dtype(), [&]<class T>() {
    const T* w = weight.data<T>();
    T* pm = m.mutable_data<T>();
    for_each_row(g, filters, [&](std::int64_t row, std::int64_t w0, const std::int32_t* t, std::int64_t n) {
      gather_by_table(pm + row, w + w0, t, n);
    });
  });
  return m;
}

Tensor conv_matrix_fold(const Tensor& m, const ConvGeometry& g, std::int64_t filters) {
  Tensor w({filters, g.c, g.kh, g.kw}, m.dtype());
  std::memset(w.mutable_raw_data(), 0, w.nbytes());
  dispatch_float("conv_matrix_fold", m.dtype(), [&]<class T>() {
    const T* pm = m.data<T>();
    T* pw = w.mutable_data<T>();
    // Within a row each weight appears at most once (one pixel per tap and channel).
    for_each_row(g, filters, [&](std::int64_t row, std::int64_t w0, const std::int32_t* t, std::int64_t n) {
      scatter_add_by_table(pw + w0, pm + row, t, n);
    });
  });
  return w;
}

}  // namespace mg::kernels
