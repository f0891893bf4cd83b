// Broadcast iteration for elementwise kernels: walks an output shape and, for
// each run of the innermost dimension, hands the loop body the offsets of
// every input (stride 0 along broadcast dimensions). The body does the inner
// loop itself, so the common contiguous case compiles to a plain vector loop.
#pragma once

#include <array>
#include <cstdint>

#include "autograd/shape.h"

namespace mg::kernels {

using Strides = std::array<std::int64_t, kMaxDims>;

// Strides of `in` read as if broadcast to `out` (0 where broadcast), right-aligned.
inline Strides broadcast_strides(const Shape& in, const Shape& out) {
  Strides s{};
  const Strides own = in.strides();
  const int shift = out.ndim() - in.ndim();
  for (int i = 0; i < in.ndim(); ++i)
    s[static_cast<std::size_t>(i + shift)] = in[i] == 1 ? 0 : own[static_cast<std::size_t>(i)];
  return s;
}

// body(out_offset, offsets, n, inner_strides) is called once per innermost run.
template <std::size_t N, class Body>
void for_each_run(const Shape& out, const std::array<Strides, N>& strides, Body&& body) {
  const int nd = out.ndim();
  std::array<std::int64_t, N> inner{};
  if (nd == 0) {
    body(std::int64_t{0}, std::array<std::int64_t, N>{}, std::int64_t{1}, inner);
    return;
  }
  const std::int64_t n_inner = out[nd - 1];
  if (out.numel() == 0) return;
  for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][static_cast<std::size_t>(nd - 1)];
  const std::int64_t outer = out.numel() / n_inner;
  std::array<std::int64_t, kMaxDims> idx{};
  std::array<std::int64_t, N> off{};
  for (std::int64_t o = 0; o < outer; ++o) {
    body(o * n_inner, off, n_inner, inner);
    // Advance the multi-index over dims [0, nd-1).
    for (int d = nd - 2; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      ++idx[du];
      for (std::size_t k = 0; k < N; ++k) off[k] += strides[k][du];
      if (idx[du] < out[d]) break;
      for (std::size_t k = 0; k < N; ++k) off[k] -= strides[k][du] * out[d];
      idx[du] = 0;
    }
  }
}

}  // namespace mg::kernels
