// Vision ops: the im2col / col2im adjoint pair, and conv2d, max_pool2d and
// batch_norm composed from primitives.
//
// im2col is linear in x, so its adjoint is its backward and vice versa:
//   im2col(x) -> cols        x:    col2im(grad)
//   col2im(cols) -> x        cols: im2col(grad)
// Both are linear maps with constant (0/1) matrices, so their backward
// formulas need no saved tensors and differentiate again to each other: any
// order of derivative through a convolution costs nothing extra.
//
// conv2d = im2col + one GEMM over the whole batch (or one per image, see
// Note [conv2d layout]):
//   cols [C*kh*kw, N*L] = im2col(x)                 L = OH * OW
//   y    [F, N*L]       = W[F, C*kh*kw] @ cols      (2 F C kh kw N L flops)
//   out  [N, F, OH, OW] = permute(y) + b
// Memory: cols is kh*kw times the (padded) input, kept for the backward of
// matmul; the backward does two more GEMMs of the same size (dW = G colsᵀ,
// dcols = Wᵀ G) and one col2im.
//
// Note [conv2d as one matrix]: when an image is no larger than the window
// (H*W <= kh*kw, the 3x3 maps of conv4's last layer), conv2d skips im2col: it is
// reshape(x, [N, C*H*W]) @ conv_matrix(W)ᵀ, a GEMM with the same multiply-adds as
// im2col's (fewer for smaller images) whose result is NCHW already. Columns, their
// gather and scatter, and the permutes go; what remains is building the
// [F*OH*OW, C*H*W] matrix from W and, in the backward, folding its gradient back
// (conv_matrix_fold) — both no bigger than the columns were. conv_matrix and
// conv_matrix_fold are linear and adjoint, like im2col and col2im.
//
// Note [conv2d layout]: otherwise, with K = C*kh*kw rows of columns, conv2d picks one of
// two layouts (autograd/kernels/im2col.h) by which extra pass is cheaper:
//  * Folded, K >= L: one GEMM yields [F, N*L]; the bias is added there, as
//    [F, 1], and the result is permuted as [F, N, L] -> [N, F, L] before the
//    final reshape to NCHW. The permute (and its adjoint in backward) moves
//    N*F*L values, small next to the GEMM's N*F*L*K multiply-adds when K is large.
//    (Done on the 4-D view instead, the add, the bias's sum_to and the permute
//    would run in rows of OW elements rather than N*L or L: as slow as the GEMM.)
//  * PerImage, K < L (e.g. the first layer of a net on 1-channel images, K = 9):
//    y = matmul_shared(W, cols) is [N, F, L] = NCHW with no permute, and the
//    bias rides in the GEMM (Note [bias as a column of W]). The price is in the
//    backward: dW = sum_n G[n] cols[n]ᵀ goes through an [N, F, K] intermediate,
//    N*F*K values: cheaper than the permutes' N*F*L exactly when K < L. The N
//    GEMMs are each [F, K] x [K, L].
//
// max_pool2d(x) = max_pool_select(x, x) (Note [max-pool without indices]).
//
// batch_norm = (x - mean) / sqrt(var + eps) * weight + bias: with batch statistics
// the primitive channel_normalize (Note [batch norm in one op], ops_channel.cpp),
// with running statistics one channel_affine (Note [batch norm as one affine map]).
#include "autograd/vision.h"

#include <cstring>

#include "autograd/channel.h"
#include "autograd/creation.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/conv_gemm.h"
#include "autograd/kernels/conv_matrix.h"
#include "autograd/kernels/im2col.h"
#include "autograd/kernels/max_pool.h"
#include "autograd/op_common.h"
#include "autograd/tape.h"

namespace mg {
namespace {

using kernels::ConvGeometry;

std::string window_str(const ConvGeometry& g) {
  return fmt::format("kernel {}x{}, stride {}x{}, padding {}x{}", g.kh, g.kw, g.sh, g.sw, g.ph, g.pw);
}

ConvGeometry make_geometry(const Shape& image, Size2 kernel, Size2 stride, Size2 padding,
                           ColLayout layout = ColLayout::Folded) {
  auto i32 = [](std::int64_t v) { return static_cast<std::int32_t>(v); };
  ConvGeometry g;
  if (image.ndim() == 4) {
    g.n = i32(image[0]);
    g.c = i32(image[1]);
    g.h = i32(image[2]);
    g.w = i32(image[3]);
  }
  g.kh = kernel.h, g.kw = kernel.w, g.sh = stride.h, g.sw = stride.w, g.ph = padding.h, g.pw = padding.w;
  g.layout = layout;
  return g;
}

// Every rule a window must satisfy over an image of shape `image` (named `what` in messages).
void check_window(std::string_view op, const char* what, const Shape& image, const ConvGeometry& g) {
  if (image.ndim() != 4)
    throw ShapeError(fmt::format("{}: {} must be 4-D [N, C, H, W]: {} is {}", op, what, what, image.str()));
  if (g.layout != ColLayout::Folded && g.layout != ColLayout::PerImage)
    throw ValueError(fmt::format("{}: unknown column layout {}", op, static_cast<int>(g.layout)));
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.ph < 0 || g.pw < 0)
    throw ValueError(fmt::format("{}: kernel and stride must be positive and padding non-negative: {} is {} ({})",
                                 op, what, image.str(), window_str(g)));
  if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw)
    throw ShapeError(fmt::format("{}: window larger than the padded image: {} is {} ({})", op, what, image.str(),
                                 window_str(g)));
}

// im2col(x) -> [C*kh*kw, N*OH*OW] (or [N, C*kh*kw, OH*OW])
//   x: col2im(grad, x.shape, window, layout)
struct Im2col {
  static constexpr OpId id = OpId::Im2col;
  static constexpr Save save = Save::Nothing;
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& x) {
    require_floating("im2col", x.dtype());
    check_window("im2col", "x", x.shape(), g);
    return g.cols_shape();
  }
  static Tensor forward(const Attrs& g, const Tensor& x) { return kernels::im2col(x, g); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs g = s.attrs<Attrs>();
    return {col2im(grad, g.image_shape(), {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, g.layout)};
  }
};

// col2im(cols) -> [N, C, H, W]
//   cols: im2col(grad, window, layout)
struct Col2im {
  static constexpr OpId id = OpId::Col2im;
  static constexpr Save save = Save::Nothing;
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& cols) {
    require_floating("col2im", cols.dtype());
    check_window("col2im", "image", g.image_shape(), g);
    if (cols.shape() != g.cols_shape())
      throw ShapeError(fmt::format("col2im: cols do not fit the image: cols is {}, image is {} (expected cols {}; {})",
                                   cols.shape().str(), g.image_shape().str(), g.cols_shape().str(), window_str(g)));
    return g.image_shape();
  }
  static Tensor forward(const Attrs& g, const Tensor& cols) { return kernels::col2im(cols, g); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs g = s.attrs<Attrs>();
    return {im2col(grad, {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, g.layout)};
  }
};

// Attributes of conv_matrix / conv_matrix_fold: the window over one image and the filter count.
struct ConvMatrixAttrs {
  ConvGeometry g;
  std::int32_t filters = 0;
  Shape weight_shape() const { return {filters, g.c, g.kh, g.kw}; }
  Shape matrix_shape() const { return {filters * g.out_h() * g.out_w(), std::int64_t{g.c} * g.h * g.w}; }
};

ConvMatrixAttrs make_matrix_attrs(std::string_view op, const Shape& weight_shape, const Shape& image_shape,
                                  Size2 stride, Size2 padding) {
  if (weight_shape.ndim() != 4 || image_shape.ndim() != 4 || weight_shape[1] != image_shape[1])
    throw ShapeError(fmt::format("{}: weight must be [F, C, kh, kw] and the images [N, C, H, W] with the same C: "
                                 "weight is {}, images are {}",
                                 op, weight_shape.str(), image_shape.str()));
  ConvMatrixAttrs a;
  a.g = make_geometry(image_shape, {static_cast<int>(weight_shape[2]), static_cast<int>(weight_shape[3])}, stride,
                      padding);
  check_window(op, "images", image_shape, a.g);
  a.filters = static_cast<std::int32_t>(weight_shape[0]);
  return a;
}

// conv_matrix(weight) -> [F*OH*OW, C*H*W]
//   weight: conv_matrix_fold(grad)
struct ConvMatrix {
  static constexpr OpId id = OpId::ConvMatrix;
  static constexpr Save save = Save::Nothing;
  using Attrs = ConvMatrixAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& weight) {
    require_floating("conv_matrix", weight.dtype());
    return a.matrix_shape();
  }
  static Tensor forward(const Attrs& a, const Tensor& weight) { return kernels::conv_matrix(weight, a.g, a.filters); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs a = s.attrs<Attrs>();
    return {conv_matrix_fold(grad, a.weight_shape(), a.g.image_shape(), {a.g.sh, a.g.sw}, {a.g.ph, a.g.pw})};
  }
};

// conv_matrix_fold(m) -> [F, C, kh, kw]
//   m: conv_matrix(grad)
struct ConvMatrixFold {
  static constexpr OpId id = OpId::ConvMatrixFold;
  static constexpr Save save = Save::Nothing;
  using Attrs = ConvMatrixAttrs;
  static Shape infer_shape(const Attrs& a, const Tensor& m) {
    require_floating("conv_matrix_fold", m.dtype());
    if (m.shape() != a.matrix_shape())
      throw ShapeError(fmt::format("conv_matrix_fold: m must be {} for weight {} and images {}, got {}",
                                   a.matrix_shape().str(), a.weight_shape().str(), a.g.image_shape().str(),
                                   m.shape().str()));
    return a.weight_shape();
  }
  static Tensor forward(const Attrs& a, const Tensor& m) { return kernels::conv_matrix_fold(m, a.g, a.filters); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs a = s.attrs<Attrs>();
    return {conv_matrix(grad, a.g.image_shape(), {a.g.sh, a.g.sw}, {a.g.ph, a.g.pw})};
  }
};

// Note [conv columns not saved]: conv_columns(x, W) = W @ im2col(x) as one primitive that
// saves x and W, not the columns. The columns are kh*kw times the image (9x for 3x3;
// 34 MB of a conv4 layer over 75 query images, 160 MB of a MiniImageNet one) and a
// matmul would keep them alive until the backward. Its two gradients are primitives
// too, so that no pass of any order makes the columns of a whole batch: each kernel
// runs over chunks of images (Note [conv in chunks], kernels/conv_gemm.cpp). The three
// are closed under differentiation (each is linear in each input; C = im2col,
// C* = col2im its adjoint; K = C*kh*kw, L = OH*OW):
//   conv_columns(x, W)     = W C(x)       x: conv_input_grad(g, W)     W: conv_weight_grad(x, g)
//   conv_input_grad(G, W)  = C*(Wᵀ G)     G: conv_columns(g, W)        W: conv_weight_grad(g, G)
//   conv_weight_grad(x, G) = G C(x)ᵀ      x: conv_input_grad(G, g)     G: conv_columns(x, g)
// (from <g, C*(Wᵀ G)> = <W C(g), G> = <G C(g)ᵀ, W> and <g, G C(x)ᵀ> = <g C(x), G> =
// <C*(gᵀ G), x>). Layouts: Folded, the output and G are [F, N*L]; PerImage, [N, F, L].

// The output shape of conv_columns for weight rows `filters` under geometry g.
Shape conv_output_shape(const ConvGeometry& g, std::int64_t filters) {
  const std::int64_t l = g.out_h() * g.out_w();
  if (g.layout == ColLayout::PerImage) return {g.n, filters, l};
  return {filters, g.n * l};
}

// Checks a weight [F, C*kh*kw] for the window g over x (named `what` in messages).
void check_conv_weight(std::string_view op, const ConvGeometry& g, const Tensor& w) {
  if (w.ndim() != 2 || w.shape()[1] != g.col_rows())
    throw ShapeError(fmt::format("{}: weight must be [F, {}] (C*kh*kw): images are {}, weight is {} ({})", op,
                                 g.col_rows(), g.image_shape().str(), w.shape().str(), window_str(g)));
}

// Checks an output gradient against the output shape for `filters` filters.
void check_conv_grad(std::string_view op, const ConvGeometry& g, const Tensor& grad, std::int64_t filters) {
  const Shape want = conv_output_shape(g, filters);
  if (grad.shape() != want)
    throw ShapeError(fmt::format("{}: grad must be {} (the output for images {} and {} filters), got {} ({})", op,
                                 want.str(), g.image_shape().str(), filters, grad.shape().str(), window_str(g)));
}

// The filter count a gradient of conv_columns' output implies (its F axis).
std::int64_t grad_filters(const ConvGeometry& g, const Tensor& grad) {
  const int axis = g.layout == ColLayout::PerImage ? 1 : 0;
  return grad.ndim() > axis ? grad.shape()[axis] : 0;
}

// The three ops under a geometry already checked: each backward below calls the
// others over the same images (defined after the ops).
Tensor conv_columns_at(const ConvGeometry& g, const Tensor& x, const Tensor& w);
Tensor conv_input_grad_at(const ConvGeometry& g, const Tensor& grad, const Tensor& w);
Tensor conv_weight_grad_at(const ConvGeometry& g, const Tensor& x, const Tensor& grad);

struct ConvColumns {
  static constexpr OpId id = OpId::ConvColumns;
  static constexpr Save save = Save::Inputs;
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& x, const Tensor& w) {
    require_floating("conv_columns", x.dtype());
    require_floating("conv_columns", w.dtype());
    check_window("conv_columns", "x", x.shape(), g);
    check_conv_weight("conv_columns", g, w);
    return conv_output_shape(g, w.shape()[0]);
  }
  static Tensor forward(const Attrs& g, const Tensor& x, const Tensor& w) { return kernels::conv_forward(x, w, g); }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs g = s.attrs<Attrs>();
    Tensor dx, dw;
    if (s.needs_grad(0)) dx = conv_input_grad_at(g, grad, s.input(1));
    if (s.needs_grad(1)) dw = conv_weight_grad_at(g, s.input(0), grad);
    return {dx, dw};
  }
};

// conv_input_grad(G, W) -> [N, C, H, W] (Note [conv columns not saved])
struct ConvInputGrad {
  static constexpr OpId id = OpId::ConvInputGrad;
  static constexpr Save save = Save::Inputs;
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& grad, const Tensor& w) {
    require_floating("conv_input_grad", grad.dtype());
    require_floating("conv_input_grad", w.dtype());
    check_window("conv_input_grad", "image", g.image_shape(), g);
    check_conv_weight("conv_input_grad", g, w);
    check_conv_grad("conv_input_grad", g, grad, w.shape()[0]);
    return g.image_shape();
  }
  static Tensor forward(const Attrs& g, const Tensor& grad, const Tensor& w) {
    return kernels::conv_input_grad(grad, w, g);
  }
  static Grads backward(const Saved& s, const Tensor& gx) {
    const Attrs g = s.attrs<Attrs>();
    Tensor dg, dw;
    if (s.needs_grad(0)) dg = conv_columns_at(g, gx, s.input(1));
    if (s.needs_grad(1)) dw = conv_weight_grad_at(g, gx, s.input(0));
    return {dg, dw};
  }
};

// conv_weight_grad(x, G) -> [F, C*kh*kw] (Note [conv columns not saved])
struct ConvWeightGrad {
  static constexpr OpId id = OpId::ConvWeightGrad;
  static constexpr Save save = Save::Inputs;
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& x, const Tensor& grad) {
    require_floating("conv_weight_grad", x.dtype());
    require_floating("conv_weight_grad", grad.dtype());
    check_window("conv_weight_grad", "x", x.shape(), g);
    check_conv_grad("conv_weight_grad", g, grad, grad_filters(g, grad));
    return {grad_filters(g, grad), g.col_rows()};
  }
  static Tensor forward(const Attrs& g, const Tensor& x, const Tensor& grad) {
    return kernels::conv_weight_grad(x, grad, g, grad_filters(g, grad));
  }
  static Grads backward(const Saved& s, const Tensor& gw) {
    const Attrs g = s.attrs<Attrs>();
    Tensor dx, dg;
    if (s.needs_grad(0)) dx = conv_input_grad_at(g, s.input(1), gw);
    if (s.needs_grad(1)) dg = conv_columns_at(g, s.input(0), gw);
    return {dx, dg};
  }
};

Tensor conv_columns_at(const ConvGeometry& g, const Tensor& x, const Tensor& w) {
  return apply_with<ConvColumns>(g, x, w);
}
Tensor conv_input_grad_at(const ConvGeometry& g, const Tensor& grad, const Tensor& w) {
  return apply_with<ConvInputGrad>(g, grad, w);
}
Tensor conv_weight_grad_at(const ConvGeometry& g, const Tensor& x, const Tensor& grad) {
  return apply_with<ConvWeightGrad>(g, x, grad);
}

// Note [max-pool without indices]: max_pool2d(x) = max_pool_select(x, x), values
// at the arg-max of the keys' windows. The arg-max is a constant of the graph (no
// gradient flows to the keys), so max_pool_select is linear in its values, and its
// gradient is max_pool_scatter(keys, g), whose gradient is max_pool_select(keys, gg):
// the pair is closed under differentiation. Each kernel finds the arg-max again from
// the keys, which the graph holds anyway (conv4's are batch norm's saved input, Note
// [pooling by the normaliser's input] in nn/batchnorm.cpp), instead of an int64 index
// per output (10 MB over an Omniglot conv4's query images); both ops save only the
// keys (Save::FirstInput), and the scatter writes into fresh zeros (scatter_add copied
// the zeros it was given: 14 MB more at the peak of a MAML step).
struct MaxPoolSelect {
  static constexpr OpId id = OpId::MaxPoolSelect;
  static constexpr Save save = Save::FirstInput;  // the keys: the backward needs only the arg-max
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& keys, const Tensor& values) {
    require_floating("max_pool_select", keys.dtype());
    check_window("max_pool_select", "keys", keys.shape(), g);
    if (values.shape() != keys.shape())
      throw ShapeError(fmt::format("max_pool_select: values must have the keys' shape: keys are {}, values are {}",
                                   keys.shape().str(), values.shape().str()));
    return {g.n, g.c, g.out_h(), g.out_w()};
  }
  static Tensor forward(const Attrs& g, const Tensor& keys, const Tensor& values) {
    return kernels::max_pool_select(keys, values, g);
  }
  static Grads backward(const Saved& s, const Tensor& grad) {
    const Attrs g = s.attrs<Attrs>();
    if (!s.needs_grad(1)) return {};
    return {Tensor{}, max_pool_scatter(s.input(0), grad, {g.kh, g.kw}, {g.sh, g.sw})};
  }
};

struct MaxPoolScatter {
  static constexpr OpId id = OpId::MaxPoolScatter;
  static constexpr Save save = Save::FirstInput;  // the keys: the backward needs only the arg-max
  using Attrs = ConvGeometry;
  static Shape infer_shape(const Attrs& g, const Tensor& keys, const Tensor& grad) {
    require_floating("max_pool_scatter", keys.dtype());
    check_window("max_pool_scatter", "keys", keys.shape(), g);
    const Shape want{g.n, g.c, g.out_h(), g.out_w()};
    if (grad.shape() != want)
      throw ShapeError(fmt::format("max_pool_scatter: grad must be {} (one value per window of keys {}), got {} ({})",
                                   want.str(), keys.shape().str(), grad.shape().str(), window_str(g)));
    return keys.shape();
  }
  static Tensor forward(const Attrs& g, const Tensor& keys, const Tensor& grad) {
    return kernels::max_pool_scatter(keys, grad, g);
  }
  static Grads backward(const Saved& s, const Tensor& gx) {
    const Attrs g = s.attrs<Attrs>();
    if (!s.needs_grad(1)) return {};
    return {Tensor{}, max_pool_select(s.input(0), gx, {g.kh, g.kw}, {g.sh, g.sw})};
  }
};

void check_channels(std::string_view op, const char* what, const Tensor& t, std::int64_t channels,
                    const Tensor& x) {
  if (t.defined() && t.shape() != Shape{channels})
    throw ShapeError(fmt::format("{}: {} must be [{}] (one per channel): x is {}, {} is {}", op, what, channels,
                                 x.shape().str(), what, t.shape().str()));
}

// Writes src's values into dst's storage (a running statistic), as an in-place update.
void assign(Tensor& dst, const Tensor& src) {
  std::memcpy(dst.mutable_raw_data(), src.raw_data(), dst.nbytes());
}

void check_batch(std::string_view op, const Tensor& x) {
  if (x.ndim() != 2 && x.ndim() != 4)
    throw ShapeError(fmt::format("{}: x must be [N, C] or [N, C, H, W]: x is {}", op, x.shape().str()));
}

// Note [batch norm as one affine map]: with fixed statistics per channel (the running
// estimates, at inference), batch norm is
// y = x * scale + shift per channel, scale = weight / sqrt(var + eps) and shift =
// bias - mu * scale: [C]-sized arithmetic, then one pass over x (channel_affine).
// The composite (x - mu) * inv_std * weight + bias made three full-size passes and
// saved their intermediates; the gradient is the same function either way.
Tensor normalize(const Tensor& x, const Tensor& mu, const Tensor& var, const Tensor& weight, const Tensor& bias,
                 double eps) {
  Tensor scale = pow(var + eps, -0.5);
  if (weight.defined()) scale = scale * weight;
  const Tensor shift = bias.defined() ? bias - mu * scale : neg(mu * scale);
  return channel_affine(x, scale, shift);
}

void check_running(std::string_view op, const RunningStats& r, std::int64_t channels, const Tensor& x) {
  if (!r.mean.defined() || !r.var.defined())
    throw ValueError(fmt::format("{}: running statistics must hold a mean and a var tensor", op));
  check_channels(op, "running mean", r.mean, channels, x);
  check_channels(op, "running var", r.var, channels, x);
  if (r.mean.dtype() != x.dtype() || r.var.dtype() != x.dtype())
    throw DTypeError(fmt::format("{}: running statistics must have x's dtype: x is {}, mean is {}, var is {}", op,
                                 dtype_name(x.dtype()), dtype_name(r.mean.dtype()), dtype_name(r.var.dtype())));
}

}  // namespace

Tensor im2col(const Tensor& x, Size2 kernel, Size2 stride, Size2 padding, ColLayout layout) {
  return apply_with<Im2col>(make_geometry(x.shape(), kernel, stride, padding, layout), x);
}

Tensor col2im(const Tensor& cols, const Shape& image_shape, Size2 kernel, Size2 stride, Size2 padding,
              ColLayout layout) {
  return apply_with<Col2im>(make_geometry(image_shape, kernel, stride, padding, layout), cols);
}

Tensor conv_matrix(const Tensor& weight, const Shape& image_shape, Size2 stride, Size2 padding) {
  return apply_with<ConvMatrix>(make_matrix_attrs("conv_matrix", weight.shape(), image_shape, stride, padding), weight);
}

Tensor conv_matrix_fold(const Tensor& m, const Shape& weight_shape, const Shape& image_shape, Size2 stride,
                        Size2 padding) {
  return apply_with<ConvMatrixFold>(make_matrix_attrs("conv_matrix_fold", weight_shape, image_shape, stride, padding),
                                    m);
}

Tensor conv_columns(const Tensor& x, const Tensor& weight, Size2 kernel, Size2 stride, Size2 padding,
                    ColLayout layout) {
  return conv_columns_at(make_geometry(x.shape(), kernel, stride, padding, layout), x, weight);
}

Tensor conv_input_grad(const Tensor& grad, const Tensor& weight, const Shape& image_shape, Size2 kernel, Size2 stride,
                       Size2 padding, ColLayout layout) {
  check_window("conv_input_grad", "image_shape", image_shape, make_geometry(image_shape, kernel, stride, padding, layout));
  return conv_input_grad_at(make_geometry(image_shape, kernel, stride, padding, layout), grad, weight);
}

Tensor conv_weight_grad(const Tensor& x, const Tensor& grad, Size2 kernel, Size2 stride, Size2 padding,
                        ColLayout layout) {
  return conv_weight_grad_at(make_geometry(x.shape(), kernel, stride, padding, layout), x, grad);
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding) {
  if (x.ndim() != 4 || weight.ndim() != 4)
    throw ShapeError(fmt::format("conv2d: x must be [N, C, H, W] and weight [F, C, kh, kw]: x is {}, weight is {}",
                                 x.shape().str(), weight.shape().str()));
  const std::int64_t f = weight.shape()[0];
  if (weight.shape()[1] != x.shape()[1])
    throw ShapeError(fmt::format("conv2d: channels differ: x is {}, weight is {} ({} != {})", x.shape().str(),
                                 weight.shape().str(), x.shape()[1], weight.shape()[1]));
  check_channels("conv2d", "bias", bias, f, x);
  const Size2 kernel(static_cast<int>(weight.shape()[2]), static_cast<int>(weight.shape()[3]));
  const ConvGeometry g = make_geometry(x.shape(), kernel, stride, padding);
  const std::int64_t l = g.out_h() * g.out_w();
  if (std::int64_t{g.h} * g.w <= std::int64_t{g.kh} * g.kw) {
    // Note [conv2d as one matrix].
    const Tensor m = conv_matrix(weight, x.shape(), stride, padding);
    Tensor y = reshape(matmul(reshape(x, {g.n, -1}), m, false, true), {g.n, f, l});
    if (bias.defined()) y = y + reshape(bias, {f, 1});
    return reshape(y, {g.n, f, g.out_h(), g.out_w()});
  }
  const Tensor w2 = reshape(weight, {f, -1});
  if (g.col_rows() < l && 2 * g.col_rows() < f) {
    // Per-image columns (Note [conv2d layout]) under half the size of the output (a
    // first layer over 1-channel images): W @ cols[n] is image n's [F, L] output, and
    // the bias rides in the GEMM.
    Tensor cols = im2col(x, kernel, stride, padding, ColLayout::PerImage);
    Tensor w_aug = w2;
    if (bias.defined()) {
      // Note [bias as a column of W]: [W | b] @ [cols; 1] = W cols + b, so one more row
      // of ones in the columns lets the GEMM add the bias, and the backward's
      // dW GEMM yields db = sum of G as its last column. That replaces a full pass
      // over the [N, F, L] output in each direction by a copy of the columns, which
      // are the smaller of the two here (2K < F).
      cols = concat({cols, ones({g.n, 1, l}, x.dtype())}, 1);
      w_aug = concat({w2, reshape(bias, {f, 1})}, 1);
    }
    return reshape(matmul_shared(w_aug, cols), {g.n, f, g.out_h(), g.out_w()});
  }
  if (g.col_rows() < l) {
    // Per-image columns at least half the size of the output (MiniImageNet's layers:
    // 27 or 288 rows against 32 filters): not saved (Note [conv columns not saved]);
    // the bias is one pass over the output.
    Tensor y = conv_columns(x, w2, kernel, stride, padding, ColLayout::PerImage);
    if (bias.defined()) y = y + reshape(bias, {f, 1});
    return reshape(y, {g.n, f, g.out_h(), g.out_w()});
  }
  Tensor y = conv_columns(x, w2, kernel, stride, padding);  // Note [conv columns not saved]
  // Bias and permute on the [F, N*L] / [F, N, L] views: long contiguous runs for the
  // broadcast add, its sum_to backward and the copy (see Note [conv2d layout]).
  if (bias.defined()) y = y + reshape(bias, {f, 1});
  return reshape(permute(reshape(y, {f, g.n, l}), {1, 0, 2}), {g.n, f, g.out_h(), g.out_w()});
}

Tensor max_pool2d_indices(const Tensor& x, Size2 kernel, Size2 stride) {
  require_floating("max_pool2d", x.dtype());
  const ConvGeometry g = make_geometry(x.shape(), kernel, stride, 0);
  check_window("max_pool2d", "x", x.shape(), g);
  return kernels::max_pool2d_indices(x, g);
}

Tensor max_pool_select(const Tensor& keys, const Tensor& values, Size2 kernel, Size2 stride) {
  return apply_with<MaxPoolSelect>(make_geometry(keys.shape(), kernel, stride, 0), keys, values);
}

Tensor max_pool_scatter(const Tensor& keys, const Tensor& grad, Size2 kernel, Size2 stride) {
  return apply_with<MaxPoolScatter>(make_geometry(keys.shape(), kernel, stride, 0), keys, grad);
}

Tensor max_pool2d(const Tensor& x, Size2 kernel, Size2 stride) {
  require_floating("max_pool2d", x.dtype());
  check_window("max_pool2d", "x", x.shape(), make_geometry(x.shape(), kernel, stride, 0));
  return max_pool_select(x, x, kernel, stride);
}

Tensor max_pool2d(const Tensor& x, Size2 kernel) { return max_pool2d(x, kernel, kernel); }

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, RunningStats* running) {
  check_batch("batch_norm", x);
  const std::int64_t c = x.shape()[1];
  check_channels("batch_norm", "weight", weight, c, x);
  check_channels("batch_norm", "bias", bias, c, x);
  if (running) check_running("batch_norm", *running, c, x);
  const std::int64_t count = x.numel() / std::max<std::int64_t>(c, 1);  // values per channel
  if (count < 2)
    throw ValueError(fmt::format("batch_norm: batch statistics need more than one value per channel: x is {}",
                                 x.shape().str()));
  // Note [batch norm in one op] (autograd/ops_channel.cpp).
  Tensor moments;
  const Tensor y = channel_normalize(x, weight.defined() ? weight : ones({c}, x.dtype()),
                                     bias.defined() ? bias : zeros({c}, x.dtype()), eps, &moments);
  if (running) {
    NoGradGuard no_grad;
    const Tensor mu = reshape(slice(moments, 0, 0, 1), {c}), var = reshape(slice(moments, 0, 1, 2), {c});
    const double m = running->momentum, bessel = static_cast<double>(count) / static_cast<double>(count - 1);
    assign(running->mean, mu * m + running->mean * (1.0 - m));
    assign(running->var, var * (m * bessel) + running->var * (1.0 - m));
  }
  return y;
}

Tensor batch_norm_inference(const Tensor& x, const Tensor& weight, const Tensor& bias, const RunningStats& running,
                            double eps) {
  check_batch("batch_norm", x);
  const std::int64_t c = x.shape()[1];
  check_channels("batch_norm", "weight", weight, c, x);
  check_channels("batch_norm", "bias", bias, c, x);
  check_running("batch_norm", running, c, x);
  return normalize(x, running.mean.detach(), running.var.detach(), weight, bias, eps);
}

}  // namespace mg
