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
//
// Runs are made as long as possible first: size-1 axes are dropped and adjacent
// axes that every operand walks as one (stride[d] == stride[d+1] · extent[d+1],
// which includes two broadcast axes) are merged, so [N, C, H, W] against a
// per-channel [1, C, 1, 1] runs over H·W at a time, not W.
template <std::size_t N, class Body>
void for_each_run(const Shape& shape, const std::array<Strides, N>& strides_in, Body&& body) {
  std::array<std::int64_t, N> inner{};
  if (shape.ndim() == 0) {
    body(std::int64_t{0}, std::array<std::int64_t, N>{}, std::int64_t{1}, inner);
    return;
  }
  if (shape.numel() == 0) return;
  std::array<std::int64_t, kMaxDims> out{};
  std::array<Strides, N> strides{};
  int nd = 0;
  for (int d = 0; d < shape.ndim(); ++d) {
    const auto du = static_cast<std::size_t>(d);
    if (shape[d] == 1) continue;
    bool merge = nd > 0;
    for (std::size_t k = 0; k < N && merge; ++k)
      merge = strides[k][static_cast<std::size_t>(nd - 1)] == strides_in[k][du] * shape[d];
    const auto slot = static_cast<std::size_t>(merge ? nd - 1 : nd);
    out[slot] = merge ? out[slot] * shape[d] : shape[d];
    for (std::size_t k = 0; k < N; ++k) strides[k][slot] = strides_in[k][du];
    if (!merge) ++nd;
  }
  if (nd == 0) {  // every extent is 1
    body(std::int64_t{0}, std::array<std::int64_t, N>{}, std::int64_t{1}, inner);
    return;
  }
  const std::int64_t n_inner = out[static_cast<std::size_t>(nd - 1)];
  for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][static_cast<std::size_t>(nd - 1)];
  const std::int64_t outer = shape.numel() / n_inner;
  std::array<std::int64_t, kMaxDims> idx{};
  std::array<std::int64_t, N> off{};
  for (std::int64_t o = 0; o < outer; ++o) {
    body(o * n_inner, off, n_inner, inner);
    // Advance the multi-index over dims [0, nd-1).
    for (int d = nd - 2; d >= 0; --d) {
      const auto du = static_cast<std::size_t>(d);
      ++idx[du];
      for (std::size_t k = 0; k < N; ++k) off[k] += strides[k][du];
      if (idx[du] < out[du]) break;
      for (std::size_t k = 0; k < N; ++k) off[k] -= strides[k][du] * out[du];
      idx[du] = 0;
    }
  }
}

}  // namespace mg::kernels
