// Copies through an index table, the inner loop of im2col / col2im and of
// conv_matrix / conv_matrix_fold: entry l of a run reads (or adds to) position
// t[l] of an array, or is zero (skipped) where t[l] < 0. On the avx512 path
// (active_isa() in cpu.h) the float32 forms run sixteen entries at a time as a
// masked gather, or a masked gather-add-scatter.
#pragma once

#include <cstdint>

namespace mg::kernels {

// dst[l] = t[l] >= 0 ? src[t[l]] : 0, for l < n.
template <class T>
void gather_by_table(T* dst, const T* src, const std::int32_t* t, std::int64_t n);

// dst[t[l]] += src[l] wherever t[l] >= 0, for l < n. The non-negative entries of t
// must be distinct (the vector form adds all lanes at once).
template <class T>
void scatter_add_by_table(T* dst, const T* src, const std::int32_t* t, std::int64_t n);

}  // namespace mg::kernels
