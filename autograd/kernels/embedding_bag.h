// Raw loops of the embedding bag pair (autograd/text.h): the mean of a table's rows
// per bag, and its adjoint, the same rows scattered back. No tape; the ops check
// shapes and ids before these run.
#pragma once

#include "autograd/tensor.h"

namespace mg::kernels {

// out[i] = mean of table[ids[i, j]] over the j with ids[i, j] != 0 (zeros for a bag
// of pads only). table [V, D], ids int64 [n, L] -> [n, D].
Tensor embedding_bag(const Tensor& table, const Tensor& ids);
// out [rows, D] = zeros plus grad[i] / count_i added at row ids[i, j] for every
// non-pad id: the adjoint of embedding_bag. grad [n, D], ids int64 [n, L].
Tensor embedding_bag_scatter(const Tensor& grad, const Tensor& ids, std::int64_t rows);

}  // namespace mg::kernels
