// The differentiable functions of metagrad: what user code, nn/ and every
// backward formula are written with. Each is recorded on this thread's tape
// when an input requires grad (see apply.h); the formulas are in the .cpp
// file of each group, next to the forward.
//
// Broadcasting follows numpy: shapes are aligned at the right and extents of 1
// stretch. Shape errors are ShapeError, mixed element types DTypeError, and
// every message names the op and the operands' shapes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "autograd/tensor.h"

namespace mg {

// --- elementwise, binary (broadcasting) --------- autograd/ops_binary.cpp
// a + b
Tensor add(const Tensor& a, const Tensor& b);
// a - b
Tensor sub(const Tensor& a, const Tensor& b);
// a * b, elementwise
Tensor mul(const Tensor& a, const Tensor& b);
// a / b, elementwise
Tensor div(const Tensor& a, const Tensor& b);
// cond ? a : b, with cond a non-differentiable 0/1 mask (any dtype); all three broadcast.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// --- elementwise, unary ------------------------ autograd/ops_unary.cpp
// -x
Tensor neg(const Tensor& x);
// x + c
Tensor add_scalar(const Tensor& x, double c);
// x * c
Tensor mul_scalar(const Tensor& x, double c);
// x ** p for a scalar exponent p.
Tensor pow(const Tensor& x, double p);
// e^x
Tensor exp(const Tensor& x);
// Natural logarithm.
Tensor log(const Tensor& x);
// Square root.
Tensor sqrt(const Tensor& x);
// |x|; the gradient at 0 is 0.
Tensor abs(const Tensor& x);
// Hyperbolic tangent.
Tensor tanh(const Tensor& x);
// 1 / (1 + e^-x)
Tensor sigmoid(const Tensor& x);
// max(x, 0). Like every op that compares, relu, leaky_relu, clamp, max, argmax,
// sign and max_pool2d give NaN (argmax: the NaN's index) where a NaN goes in, as in
// PyTorch (Note [NaN propagation] in kernels/elementwise_isa.cpp).
Tensor relu(const Tensor& x);
// g * [y > 0] (y a relu's output): relu's backward in one pass; differentiable in g.
Tensor relu_grad(const Tensor& g, const Tensor& y);
// x where x > 0, slope * x elsewhere.
Tensor leaky_relu(const Tensor& x, double slope = 0.01);
// min(max(x, lo), hi); the gradient is 1 inside [lo, hi] and 0 outside.
Tensor clamp(const Tensor& x, double lo, double hi);

// --- reductions -------------------------------- autograd/ops_reduce.cpp
// Sum over all elements (a rank-0 result), or over `axes` (negative allowed).
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// Mean over all elements (rank 0), or over `axes`.
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// Maximum (NaN when a reduced entry is NaN); where several entries tie, the gradient
// is shared equally between them.
Tensor max(const Tensor& x);
Tensor max(const Tensor& x, const std::vector<int>& axes, bool keepdim = false);
// Repeats x along broadcast dimensions to `shape` (the adjoint of sum_to).
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// Sums x down to `shape`, which x's shape must broadcast from (the adjoint of broadcast_to).
Tensor sum_to(const Tensor& x, const Shape& shape);

// --- shapes and indexing ----------------------- autograd/ops_shape.cpp, ops_index.cpp
// Same elements, new shape (one extent may be -1); shares storage.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, std::initializer_list<std::int64_t> shape);
// Reorders the axes: result axis i is input axis perm[i].
Tensor permute(const Tensor& x, const std::vector<int>& perm);
// Swaps two axes (default: the last two).
Tensor transpose(const Tensor& x, int axis0 = -2, int axis1 = -1);
// Joins tensors end to end along an existing axis (other extents equal). Any one dtype,
// int64 included (Note [Int64 in task stacks], ops_shape.cpp); DTypeError for mixed dtypes.
Tensor concat(const std::vector<Tensor>& xs, int axis);
// Stacks equal-shaped tensors of one dtype (int64 included) along a new axis.
Tensor stack(const std::vector<Tensor>& xs, int axis = 0);
// Elements [start, end) along `axis`.
Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end);
// The adjoint of slice: grad placed at [start, start + grad.size(axis)) in zeros of `shape`.
Tensor slice_backward(const Tensor& grad, const Shape& shape, int axis, std::int64_t start);
// Rows of x along `axis` chosen by a 1-D int64 `index` (repeats allowed).
Tensor index_select(const Tensor& x, int axis, const Tensor& index);
// base with src's rows added at `index` along `axis` (the adjoint of index_select).
Tensor index_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);
// out[i][j] = x[i][index[i][j]] for axis 1 (numpy take_along_axis); index is int64.
Tensor gather(const Tensor& x, int axis, const Tensor& index);
// base plus src added at `index` along `axis` (the adjoint of gather).
Tensor scatter_add(const Tensor& base, int axis, const Tensor& index, const Tensor& src);

// --- linear algebra ---------------------------- autograd/ops_matmul.cpp
// [M, K] @ [K, N] -> [M, N], or batched [B, M, K] @ [B, K, N] -> [B, M, N] (BLAS gemm).
Tensor matmul(const Tensor& a, const Tensor& b);
// op(a) @ op(b) where op transposes the last two axes when asked; the transposes are
// passed to BLAS, never copied. The backward of matmul is written with it.
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b);

// --- composites (no backward of their own) ---- autograd/composites.cpp
// log(sum(exp(x))) along `axis`, computed stably (max subtracted first).
Tensor logsumexp(const Tensor& x, int axis, bool keepdim = false);
// x - logsumexp(x) along `axis`.
Tensor log_softmax(const Tensor& x, int axis = -1);
// exp(x) / sum(exp(x)) along `axis`.
Tensor softmax(const Tensor& x, int axis = -1);
// mean((pred - target)^2)
Tensor mse_loss(const Tensor& pred, const Tensor& target);
// mean over rows of -log_softmax(logits)[i, labels[i]]; logits [N, C], labels int64 [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);
// sum(a * b) over every element (numpy's vdot for real tensors): a rank-0 result. a and b
// have the same shape (no broadcasting) and the same floating dtype.
Tensor vdot(const Tensor& a, const Tensor& b);
// The inner product of two tensor lists, sum_i vdot(a[i], b[i]): a gradient against a
// direction (a Hessian-vector product, grad.h), or two parameter lists. An undefined
// entry (grad() with allow_unused) is a symbolic zero. ValueError when the lengths
// differ or no entry is defined; ShapeError or DTypeError naming the position.
Tensor dot(const std::vector<Tensor>& a, const std::vector<Tensor>& b);

// --- non-differentiable helpers ---------------- autograd/ops_compare.cpp
// 0/1 masks in x's dtype (never require grad).
Tensor greater(const Tensor& a, const Tensor& b);
Tensor equal(const Tensor& a, const Tensor& b);
Tensor sign(const Tensor& x);  // -1, 0 or 1, NaN for NaN
// 1 where lo <= x <= hi, else 0.
Tensor between(const Tensor& x, double lo, double hi);
// Index of the largest entry along `axis`, as int64 (first one on ties; a NaN counts
// as the largest).
Tensor argmax(const Tensor& x, int axis);

// --- operators -----------------------------------------------------------
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double c) { return add_scalar(x, c); }
inline Tensor operator+(double c, const Tensor& x) { return add_scalar(x, c); }
inline Tensor operator-(const Tensor& x, double c) { return add_scalar(x, -c); }
inline Tensor operator-(double c, const Tensor& x) { return add_scalar(neg(x), c); }
inline Tensor operator*(const Tensor& x, double c) { return mul_scalar(x, c); }
inline Tensor operator*(double c, const Tensor& x) { return mul_scalar(x, c); }
inline Tensor operator/(const Tensor& x, double c) { return mul_scalar(x, 1.0 / c); }

}  // namespace mg
