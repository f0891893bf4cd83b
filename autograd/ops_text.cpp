// The text ops of autograd/text.h: the embedding bag pair (primitives, each the
// other's backward) and conv1d (a composite over conv2d).
#include "autograd/kernels/embedding_bag.h"
#include "autograd/op_common.h"
#include "autograd/text.h"
#include "autograd/vision.h"

namespace mg {
namespace {

// Shape rule of both: ids int64 [n, L] with entries in [0, rows), and `x` 2-D; the
// scatter's grad also has ids' n rows.
void check_bag(std::string_view op, const Tensor& ids, std::int64_t rows, const Tensor& x, bool x_is_grad) {
  if (ids.dtype() != DType::I64)
    throw DTypeError(fmt::format("{}: ids must be i64, got {}", op, dtype_name(ids.dtype())));
  const char* name = x_is_grad ? "grad" : "table";
  if (ids.ndim() != 2 || x.ndim() != 2 || (x_is_grad && x.shape()[0] != ids.shape()[0]))
    throw ShapeError(fmt::format("{}: ids must be [n, L] and {} {}: {} is {}, ids is {}", op, name,
                                 x_is_grad ? "[n, D]" : "[V, D]", name, x.shape().str(), ids.shape().str()));
  const std::int64_t* p = ids.data<std::int64_t>();
  bool inside = true;  // one pass the compiler vectorises, the culprit only when there is one
  for (std::int64_t i = 0; i < ids.numel(); ++i) inside &= p[i] >= 0 && p[i] < rows;
  if (inside) return;
  for (std::int64_t i = 0; i < ids.numel(); ++i)
    if (p[i] < 0 || p[i] >= rows)
      throw ShapeError(fmt::format("{}: id {} is out of range [0, {})", op, p[i], rows));
}

struct RowsAttrs {
  std::int64_t rows = 0;
};

struct EmbeddingBag {
  static constexpr OpId id = OpId::EmbeddingBag;
  static constexpr Save save = Save::Inputs;
  static Shape infer_shape(const Tensor& table, const Tensor& ids) {
    require_floating("embedding_bag", table.dtype());
    check_bag("embedding_bag", ids, table.ndim() == 2 ? table.shape()[0] : 0, table, false);
    return Shape{ids.shape()[0], table.shape()[1]};
  }
  static Tensor forward(const Tensor& table, const Tensor& ids) { return kernels::embedding_bag(table, ids); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    return {embedding_bag_scatter(grad, s.input(1), s.input_shape(0)[0]), Tensor{}};
  }
};

struct EmbeddingBagScatter {
  static constexpr OpId id = OpId::EmbeddingBagScatter;
  static constexpr Save save = Save::Inputs;
  using Attrs = RowsAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& grad, const Tensor& ids) {
    require_floating("embedding_bag_scatter", grad.dtype());
    check_bag("embedding_bag_scatter", ids, a.rows, grad, true);
    return Shape{a.rows, grad.shape()[1]};
  }
  static Tensor forward(const Attrs& a, const Tensor& grad, const Tensor& ids) {
    return kernels::embedding_bag_scatter(grad, ids, a.rows);
  }
  static Grads backward(const Saved& s, const Tensor& grad) { return {embedding_bag(grad, s.input(1)), Tensor{}}; }
};

}  // namespace

Tensor embedding_bag(const Tensor& table, const Tensor& ids) { return apply<EmbeddingBag>(table, ids); }

Tensor embedding_bag_scatter(const Tensor& grad, const Tensor& ids, std::int64_t rows) {
  if (rows < 0) throw ShapeError(fmt::format("embedding_bag_scatter: rows must be >= 0, got {}", rows));
  return apply_with<EmbeddingBagScatter>(RowsAttrs{rows}, grad, ids);
}

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int padding) {
  if (x.ndim() != 3 || weight.ndim() != 3)
    throw ShapeError(fmt::format("conv1d: x must be [N, C, L] and weight [F, C, k]: x is {}, weight is {}",
                                 x.shape().str(), weight.shape().str()));
  const Shape& xs = x.shape();
  const Shape& ws = weight.shape();
  if (ws[1] != xs[1])
    throw ShapeError(fmt::format("conv1d: channels differ: x is {}, weight is {} ({} != {})", xs.str(), ws.str(), xs[1],
                                 ws[1]));
  const Tensor y = conv2d(reshape(x, {xs[0], xs[1], 1, xs[2]}), reshape(weight, {ws[0], ws[1], 1, ws[2]}), bias,
                          1, Size2(0, padding));
  return reshape(y, {y.shape()[0], y.shape()[1], y.shape()[3]});
}

}  // namespace mg
