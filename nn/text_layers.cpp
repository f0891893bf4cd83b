#include "nn/text_layers.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "autograd/text.h"
#include "nn/init.h"

namespace mg::nn {

namespace {

void check_ids(const std::string& kind, const Tensor& ids) {
  if (ids.dtype() != DType::I64 || ids.ndim() != 2)
    throw ShapeError(fmt::format("{}: input must be token ids, i64 [n, L]: got {} {}", kind, dtype_name(ids.dtype()),
                                 ids.shape().str()));
}

// PyTorch's nn.Embedding default, N(0, 1): a bag averages ~80 rows, and smaller rows
// leave every text's mean close to zero, so that MAML's first inner steps see texts alike.
Tensor normal_table(std::int64_t rows, std::int64_t dim, Generator& gen, DType dtype) {
  return randn({rows, dim}, gen, dtype);
}

}  // namespace

EmbeddingBag::EmbeddingBag(std::int64_t num_ids, std::int64_t dim, Generator& gen, DType dtype)
    : Module("EmbeddingBag") {
  add_parameter("weight", normal_table(num_ids, dim, gen, dtype));
}

Tensor EmbeddingBag::forward_with(const Tensor& ids, ParamCursor& params) {
  check_ids(kind(), ids);
  return embedding_bag(take(params, 0), ids);
}

Embedding::Embedding(std::int64_t num_ids, std::int64_t dim, Generator& gen, DType dtype) : Module("Embedding") {
  add_parameter("weight", normal_table(num_ids, dim, gen, dtype));
}

Tensor Embedding::forward_with(const Tensor& ids, ParamCursor& params) {
  check_ids(kind(), ids);
  const Tensor table = take(params, 0);
  const std::int64_t n = ids.shape()[0], length = ids.shape()[1];
  // Rows [n·L, D], the pads' rows zeroed by a 0/1 mask so that padding adds nothing to a convolution.
  const Tensor rows = index_select(table, 0, reshape(ids, {n * length}));
  const Tensor mask = greater(ids.to(table.dtype()), zeros({}, table.dtype()));
  const Tensor words = reshape(rows, {n, length, table.shape()[1]}) * reshape(mask, {n, length, 1});
  return permute(words, {0, 2, 1});
}

TextConv::TextConv(std::int64_t channels, std::int64_t filters, const std::vector<int>& widths, Generator& gen,
                   DType dtype)
    : Module("TextConv"), widths_(widths) {
  if (widths.empty()) throw ValueError("TextConv: needs at least one width");
  for (int k : widths) {
    if (k < 1) throw ValueError(fmt::format("TextConv: widths must be >= 1, got {}", k));
    Tensor w = zeros({filters, channels, k}, dtype);
    Tensor b = zeros({filters}, dtype);
    default_init_(w, b, gen);
    add_parameter(fmt::format("weight{}", k), w);
    add_parameter(fmt::format("bias{}", k), b);
  }
}

Tensor TextConv::forward_with(const Tensor& x, ParamCursor& params) {
  std::vector<Tensor> pooled;
  for (std::size_t i = 0; i < widths_.size(); ++i) {
    const Tensor y = relu(conv1d(x, take(params, 2 * i), take(params, 2 * i + 1), widths_[i] - 1));
    pooled.push_back(max(y, {2}));  // max over time: [n, F]
  }
  return pooled.size() == 1 ? pooled[0] : concat(pooled, 1);
}

CountHead::CountHead(std::int64_t num_ids, std::int64_t ways, double scale, DType dtype) : Module("CountHead") {
  add_parameter("weight", zeros({num_ids, ways}, dtype));
  add_parameter("scale", full({1}, scale, dtype));
}

Tensor CountHead::forward_with(const Tensor& ids, ParamCursor& params) {
  check_ids(kind(), ids);
  const Tensor w = take(params, 0);
  return embedding_bag(w, ids) * count_norm_scale(ids, w.dtype()) * take(params, 1);
}

Tensor count_norm_scale(const Tensor& ids, DType dtype) {
  const std::int64_t n = ids.shape()[0], length = ids.shape()[1];
  const std::int64_t* p = ids.data<std::int64_t>();
  std::vector<double> out(static_cast<std::size_t>(n));
  std::vector<std::int64_t> row;
  for (std::int64_t i = 0; i < n; ++i) {
    row.assign(p + i * length, p + (i + 1) * length);
    std::sort(row.begin(), row.end());
    double c = 0, squares = 0;
    for (std::size_t j = 0; j < row.size();) {
      std::size_t end = j;
      while (end < row.size() && row[end] == row[j]) ++end;
      if (row[j] != 0) {
        const double m = static_cast<double>(end - j);
        c += m;
        squares += m * m;
      }
      j = end;
    }
    out[static_cast<std::size_t>(i)] = c > 0 ? c / std::sqrt(squares) : 0.0;
  }
  return from_vector(out, {n, 1}).to(dtype);
}

}  // namespace mg::nn
