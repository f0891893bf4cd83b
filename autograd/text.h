// Differentiable ops for text (issue 17): the embedding bag pair and 1-D convolution.
//
// Token ids arrive as padded int64 matrices [n, L], one text per row, with id 0 as
// the padding (Note [Padded token matrices] in datasets/text_episodes.h). Two
// primitives, each the other's backward, so gradients of any order flow through a
// lookup (autograd/ops_text.cpp):
//
//   embedding_bag(table, ids) -> [n, D]       out[i] = (1/c_i) Σ_{j: ids[i,j] ≠ 0} table[ids[i,j]]
//     table: embedding_bag_scatter(grad, ids, V)
//   embedding_bag_scatter(g, ids, V) -> [V, D]   out[v] = Σ_{i,j: ids[i,j] = v ≠ 0} g[i] / c_i
//     g: embedding_bag(grad, ids)
//
// with c_i the number of non-pad ids of row i (a row of pads only gives zeros). Both
// are linear in their float input, so their second derivatives are zero, as they must be.
//
// Note [Bag as one op]: the same bag is index_select(table, 0, flat ids) times a pad
// mask, then a segment mean (index_add over the row numbers, or a sum over L). That
// composite makes an [n·L, D] intermediate in the forward and again in every backward;
// with CLINC150's padded rows (L = 295, 81 ids on average) it is 3.6 times the rows
// the bag reads. The fused pair reads each id once and makes nothing but its output.
#pragma once

#include <cstdint>

#include "autograd/tensor.h"

namespace mg {

// The mean of table's rows at each row of ids, skipping the pad id 0: table [V, D]
// (floating), ids int64 [n, L] with entries in [0, V) -> [n, D].
Tensor embedding_bag(const Tensor& table, const Tensor& ids);
// The adjoint of embedding_bag: grad [n, D] scattered to a [rows, D] table.
Tensor embedding_bag_scatter(const Tensor& grad, const Tensor& ids, std::int64_t rows);

// conv1d(x, weight, bias, padding) -> [N, F, L + 2·padding − k + 1]: x [N, C, L],
// weight [F, C, k], bias [F] or undefined. Cross-correlation with stride 1, written as
// conv2d over images of height 1 (a composite: its gradients are conv2d's).
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, int padding = 0);

}  // namespace mg
