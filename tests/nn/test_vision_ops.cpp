// The vision ops: op-table cases (gradcheck + gradgradcheck in f64) for im2col,
// col2im, conv2d, max_pool2d and batch_norm, and forward values against naive
// loops written straight from the definitions.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/kernels/conv_gemm.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/kernels/im2col.h"
#include "autograd/kernels/cpu.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "autograd/vision.h"
#include "tests/autograd/isa_guard.h"
#include "tests/op_cases.h"

using namespace mg;
using mg::test::f64_leaves;
using mg::test::Inputs;

namespace {

// The results of run(1) and run(T) for T = 2, 3 (op threads) are the same bits.
template <class Run>
void check_same_bits_over_op_threads(Run run) {
  const std::vector<Tensor> one = run(1);
  for (const int threads : {2, 3}) {
    const std::vector<Tensor> many = run(threads);
    for (std::size_t i = 0; i < one.size(); ++i) {
      CAPTURE(threads);
      CAPTURE(i);
      CHECK(std::memcmp(one[i].raw_data(), many[i].raw_data(), one[i].nbytes()) == 0);
    }
  }
}


// --- op-table cases -------------------------------------------------------
MG_OP_CASE("im2col", "3x3, stride 1, padding 1", [](const Inputs& x) { return im2col(x[0], 3, 1, 1); },
           [] { return f64_leaves({{2, 2, 4, 4}}); });
MG_OP_CASE("im2col", "2x3, stride 2x1, padding 0x1", [](const Inputs& x) { return im2col(x[0], {2, 3}, {2, 1}, {0, 1}); },
           [] { return f64_leaves({{1, 2, 5, 4}}); });
MG_OP_CASE("col2im", "3x3, stride 2, padding 1 (overlapping windows)",
           [](const Inputs& x) { return col2im(x[0], {2, 2, 5, 5}, 3, 2, 1); },
           [] { return f64_leaves({{18, 18}}); });
MG_OP_CASE("im2col", "per-image layout, 3x3, stride 2, padding 1",
           [](const Inputs& x) { return im2col(x[0], 3, 2, 1, ColLayout::PerImage); },
           [] { return f64_leaves({{2, 2, 5, 5}}); });
MG_OP_CASE("col2im", "per-image layout, 2x2, stride 1",
           [](const Inputs& x) { return col2im(x[0], {2, 1, 4, 3}, 2, 1, 0, ColLayout::PerImage); },
           [] { return f64_leaves({{2, 4, 6}}); });
MG_OP_CASE("conv_matrix", "3x3 window over 3x3 images, padding 1",
           [](const Inputs& x) { return conv_matrix(x[0], {1, 2, 3, 3}, 1, 1); },
           [] { return f64_leaves({{3, 2, 3, 3}}); });
MG_OP_CASE("conv_matrix", "2x3 window, stride 2x1, padding 0x1",
           [](const Inputs& x) { return conv_matrix(x[0], {1, 2, 4, 3}, {2, 1}, {0, 1}); },
           [] { return f64_leaves({{2, 2, 2, 3}}); });
MG_OP_CASE("conv_matrix_fold", "3x3 window over 2x2 images, padding 1",
           [](const Inputs& x) { return conv_matrix_fold(x[0], {3, 2, 3, 3}, {4, 2, 2, 2}, 1, 1); },
           [] { return f64_leaves({{12, 8}}); });
MG_OP_CASE("matmul_shared", "a [3, 4] against b [2, 4, 5]",
           [](const Inputs& x) { return matmul_shared(x[0], x[1]); },
           [] { return f64_leaves({{3, 4}, {2, 4, 5}}); });
MG_OP_CASE("matmul_shared", "transposed a [4, 3] against b [2, 4, 5]",
           [](const Inputs& x) { return matmul_shared(x[0], x[1], true); },
           [] { return f64_leaves({{4, 3}, {2, 4, 5}}); });
// C*kh*kw = 2 < OH*OW = 30 and 2 * 2 < F = 5: per-image columns with the bias as a row of
// ones (Note [conv2d layout], Note [bias as a column of W]).
MG_OP_CASE("conv2d", "1 channel 1x2, padding 1 (per-image columns, bias in the GEMM)",
           [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 1, 1); },
           [] { return f64_leaves({{2, 1, 4, 4}, {5, 1, 1, 2}, {5}}); });
// C*kh*kw = 4 < OH*OW = 16, 2 * 4 >= F = 3: per-image columns through conv_columns.
MG_OP_CASE("conv2d", "1 channel 2x2, padding 1 (per-image columns, not saved), bias",
           [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 1, 1); },
           [] { return f64_leaves({{2, 1, 3, 3}, {3, 1, 2, 2}, {3}}); });
MG_OP_CASE("conv2d", "3 filters 3x3, padding 1, bias", [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 1, 1); },
           [] { return f64_leaves({{2, 2, 5, 5}, {3, 2, 3, 3}, {3}}); });
// H*W = 9 <= kh*kw = 9: conv2d is one GEMM with conv_matrix (Note [conv2d as one matrix]).
MG_OP_CASE("conv2d", "3x3 images, 3x3 filters, padding 1 (one matrix), bias",
           [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 1, 1); },
           [] { return f64_leaves({{2, 2, 3, 3}, {3, 2, 3, 3}, {3}}); });
MG_OP_CASE("conv2d", "stride 2, no bias", [](const Inputs& x) { return conv2d(x[0], x[1], {}, 2, 0); },
           [] { return f64_leaves({{2, 2, 5, 5}, {3, 2, 2, 2}}); });
MG_OP_CASE("conv_columns", "3x3, stride 1, padding 1", [](const Inputs& x) { return conv_columns(x[0], x[1], 3, 1, 1); },
           [] { return f64_leaves({{2, 2, 3, 4}, {3, 18}}); });
MG_OP_CASE("conv_columns", "2x3, stride 2x1, padding 0x1",
           [](const Inputs& x) { return conv_columns(x[0], x[1], {2, 3}, {2, 1}, {0, 1}); },
           [] { return f64_leaves({{1, 2, 5, 4}, {2, 12}}); });
MG_OP_CASE("conv_columns", "per-image layout, 2x2, stride 1, padding 1",
           [](const Inputs& x) { return conv_columns(x[0], x[1], 2, 1, 1, ColLayout::PerImage); },
           [] { return f64_leaves({{2, 2, 3, 3}, {3, 8}}); });
// Output [F, N*L] = [3, 2*3*4] and [N, F, L] = [2, 3, 9] for the gradients' cases.
MG_OP_CASE("conv_input_grad", "3x3, stride 1, padding 1",
           [](const Inputs& x) { return conv_input_grad(x[0], x[1], {2, 2, 3, 4}, 3, 1, 1); },
           [] { return f64_leaves({{3, 24}, {3, 18}}); });
MG_OP_CASE("conv_input_grad", "per-image layout, 2x2, stride 1, padding 1",
           [](const Inputs& x) { return conv_input_grad(x[0], x[1], {2, 2, 2, 2}, 2, 1, 1, ColLayout::PerImage); },
           [] { return f64_leaves({{2, 3, 9}, {3, 8}}); });
MG_OP_CASE("conv_weight_grad", "2x3, stride 2x1, padding 0x1",
           [](const Inputs& x) { return conv_weight_grad(x[0], x[1], {2, 3}, {2, 1}, {0, 1}); },
           [] { return f64_leaves({{1, 2, 5, 4}, {2, 8}}); });
MG_OP_CASE("conv_weight_grad", "per-image layout, 2x2, stride 1, padding 1",
           [](const Inputs& x) { return conv_weight_grad(x[0], x[1], 2, 1, 1, ColLayout::PerImage); },
           [] { return f64_leaves({{2, 2, 2, 2}, {2, 3, 9}}); });
// C*kh*kw = 8 < OH*OW = 36 and 2 * 8 >= F = 1: per-image columns through conv_columns, bias added after.
MG_OP_CASE("conv2d", "per-image columns larger than the output (not saved), bias",
           [](const Inputs& x) { return conv2d(x[0], x[1], x[2], 1, 1); },
           [] { return f64_leaves({{2, 2, 5, 5}, {1, 2, 2, 2}, {1}}); });
MG_OP_CASE("max_pool2d", "2x2, stride 2", [](const Inputs& x) { return max_pool2d(x[0], 2); },
           [] { return f64_leaves({{2, 2, 4, 5}}); });
MG_OP_CASE("max_pool2d", "3x3, stride 2 (overlapping)", [](const Inputs& x) { return max_pool2d(x[0], 3, 2); },
           [] { return f64_leaves({{1, 2, 5, 5}}); });
MG_OP_CASE("max_pool_select", "2x2, stride 2, keys apart from values",
           [](const Inputs& x) { return max_pool_select(x[0], x[1], 2, 2); },
           [] { return f64_leaves({{2, 2, 4, 5}, {2, 2, 4, 5}}); });
MG_OP_CASE("max_pool_select", "3x3, stride 2 (overlapping)", [](const Inputs& x) { return max_pool_select(x[0], x[1], 3, 2); },
           [] { return f64_leaves({{1, 2, 5, 5}, {1, 2, 5, 5}}); });
MG_OP_CASE("max_pool_scatter", "2x2, stride 2", [](const Inputs& x) { return max_pool_scatter(x[0], x[1], 2, 2); },
           [] { return f64_leaves({{2, 2, 4, 5}, {2, 2, 2, 2}}); });
MG_OP_CASE("max_pool_scatter", "3x3, stride 2 (overlapping windows sum)",
           [](const Inputs& x) { return max_pool_scatter(x[0], x[1], 3, 2); },
           [] { return f64_leaves({{1, 2, 5, 5}, {1, 2, 2, 2}}); });
MG_OP_CASE("batch_norm", "[N, C, H, W] with weight and bias",
           [](const Inputs& x) { return batch_norm(x[0], x[1], x[2]); },
           [] { return f64_leaves({{3, 2, 2, 2}, {2}, {2}}); });
MG_OP_CASE("batch_norm", "[N, C] without affine", [](const Inputs& x) { return batch_norm(x[0], {}, {}); },
           [] { return f64_leaves({{4, 3}}); });
MG_OP_CASE("batch_norm", "running statistics (inference)",
           [](const Inputs& x) {
             const RunningStats r{from_vector(std::vector<double>{0.2, -0.1}, {2}),
                                  from_vector(std::vector<double>{1.5, 0.7}, {2})};
             return batch_norm_inference(x[0], x[1], x[2], r);
           },
           [] { return f64_leaves({{2, 2, 2, 2}, {2}, {2}}); });

// Direct convolution from the definition, f64.
std::vector<double> naive_conv(const Tensor& x, const Tensor& w, const Tensor& b, int stride, int pad) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const auto f = w.size(0), kh = w.size(2), kw = w.size(3);
  const auto oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1;
  std::vector<double> out;
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t o = 0; o < f; ++o)
      for (std::int64_t y = 0; y < oh; ++y)
        for (std::int64_t z = 0; z < ow; ++z) {
          double s = b.defined() ? b.at({o}) : 0.0;
          for (std::int64_t ic = 0; ic < c; ++ic)
            for (std::int64_t i = 0; i < kh; ++i)
              for (std::int64_t j = 0; j < kw; ++j) {
                const std::int64_t r = y * stride - pad + i, q = z * stride - pad + j;
                if (r >= 0 && r < h && q >= 0 && q < wd) s += w.at({o, ic, i, j}) * x.at({in, ic, r, q});
              }
          out.push_back(s);
        }
  return out;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
}

double dot(const Tensor& a, const Tensor& b) { return sum(a * b).item(); }

}  // namespace

TEST_SUITE("nn_vision_ops") {
  TEST_CASE("every vision op passes gradcheck and gradgradcheck") {
    const std::set<std::string> mine = {"im2col",     "col2im",     "matmul_shared", "conv2d",
                                        "max_pool2d", "batch_norm", "conv_columns",
                                        "conv_input_grad", "conv_weight_grad", "max_pool_select",
                                        "max_pool_scatter"};
    std::set<std::string> seen;
    for (const auto& c : test::op_cases()) {
      if (!mine.count(c.op)) continue;
      seen.insert(c.op);
      CAPTURE(c.op);
      CAPTURE(c.label);
      CheckOptions opt = c.options;
      opt.name = c.op;
      const CheckResult g = gradcheck(c.f, c.make_inputs(), opt);
      CHECK_MESSAGE(g.ok, g.message);
      // Squared, as in the op table: a linear op's gradient does not depend on x, so
      // y * y makes the second-order check run the backward formula's own backward.
      const CheckedFunction squared = [f = c.f](const Inputs& x) {
        const Tensor y = f(x);
        return y * y;
      };
      const CheckResult gg = gradgradcheck(squared, c.make_inputs(), opt);
      CHECK_MESSAGE(gg.ok, gg.message);
    }
    CHECK(seen == mine);
  }

  TEST_CASE("conv2d matches a direct convolution (f32 and f64, stride and padding)") {
    Generator gen(3);
    for (const auto& [stride, pad] : {std::pair{1, 1}, std::pair{2, 0}, std::pair{2, 1}}) {
      const Tensor x = randn({2, 3, 7, 6}, gen, DType::F64), w = randn({4, 3, 3, 3}, gen, DType::F64);
      const Tensor b = randn({4}, gen, DType::F64);
      const std::vector<double> want = naive_conv(x, w, b, stride, pad);
      check_close(conv2d(x, w, b, stride, pad).to_vector<double>(), want, 1e-12);
      check_close(conv2d(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32), stride, pad).to_vector<double>(),
                  want, 1e-4);
    }
  }

  TEST_CASE("conv2d matches a direct convolution in both column layouts (f32 and f64)") {
    // C*kh*kw = 2*2*2 = 8 against OH*OW: 9x9 images give 100 positions (per-image
    // columns), 3x3 images with stride 2 give 1 (folded columns).
    Generator gen(13);
    // 2x2 images against 2x2 filters: H*W = kh*kw, conv2d as one matrix (Note [conv2d as one matrix]).
    for (const auto& [side, stride] : {std::pair{9, 1}, std::pair{3, 2}, std::pair{2, 1}}) {
      const Tensor x = randn({3, 2, side, side}, gen, DType::F64), w = randn({5, 2, 2, 2}, gen, DType::F64);
      const Tensor b = randn({5}, gen, DType::F64);
      const std::vector<double> want = naive_conv(x, w, b, stride, 1);
      check_close(conv2d(x, w, b, stride, 1).to_vector<double>(), want, 1e-12);
      check_close(conv2d(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32), stride, 1).to_vector<double>(), want,
                  1e-4);
      check_close(conv2d(x, w, {}, stride, 1).to_vector<double>(), naive_conv(x, w, {}, stride, 1), 1e-12);
    }
  }

  TEST_CASE("per-image im2col holds the folded columns, image by image") {
    Generator gen(17);
    const Tensor x = randn({3, 2, 5, 4}, gen, DType::F64);
    const Tensor folded = im2col(x, {3, 2}, {2, 1}, {1, 1});                        // [12, 3 * L]
    const Tensor per_image = im2col(x, {3, 2}, {2, 1}, {1, 1}, ColLayout::PerImage);  // [3, 12, L]
    const std::int64_t l = per_image.size(2);
    REQUIRE(per_image.shape() == Shape{3, 12, l});
    CHECK(reshape(permute(per_image, {1, 0, 2}), folded.shape()).to_vector<double>() == folded.to_vector<double>());
    const Tensor c = randn(per_image.shape(), gen, DType::F64);
    CHECK(dot(per_image, c) ==
          doctest::Approx(dot(x, col2im(c, x.shape(), {3, 2}, {2, 1}, {1, 1}, ColLayout::PerImage))).epsilon(1e-12));
  }

  TEST_CASE("matmul_shared equals a matmul per batch entry") {
    Generator gen(19);
    const Tensor a = randn({3, 4}, gen, DType::F64), b = randn({2, 4, 5}, gen, DType::F64);
    const Tensor c = matmul_shared(a, b), ct = matmul_shared(transpose(a), b, true);
    for (std::int64_t i = 0; i < 2; ++i) {
      const Tensor want = matmul(a, reshape(slice(b, 0, i, i + 1), {4, 5}));
      check_close(reshape(slice(c, 0, i, i + 1), {3, 5}).to_vector<double>(), want.to_vector<double>(), 1e-12);
      check_close(reshape(slice(ct, 0, i, i + 1), {3, 5}).to_vector<double>(), want.to_vector<double>(), 1e-12);
    }
    CHECK_THROWS_WITH_AS(matmul_shared(a, a),
                         doctest::Contains("matmul_shared: a must be 2-D and b 3-D: a is [3, 4], b is [3, 4]"), ShapeError);
    CHECK_THROWS_WITH_AS(matmul_shared(a, b, true),
                         doctest::Contains("matmul_shared: inner dimensions differ: a is [3, 4], b is [2, 4, 5] (3 != 4)"),
                         ShapeError);
  }

  TEST_CASE("float32 im2col and col2im (vectorised where the CPU allows) agree with float64") {
    Generator gen(21);
    struct Geometry {
      Shape image;
      int kernel, stride, padding;
    };
    // Runs (output rows x columns) shorter than, equal to and longer than 16 lanes, with
    // tails; "same" stride-1 windows copied as shifted planes (Note [im2col by shift]) on
    // 7x6, 28x28 and 3x3 images; stride-1 windows that are not "same" (padding 2 or 0) and
    // strided ones (output rows of 5, 7, 18, 19 and 20 columns, padding 0 to 2) by the tap
    // table and the row loops (Note [im2col by rows]).
    for (const Geometry& g : {Geometry{{2, 3, 7, 6}, 3, 1, 1}, Geometry{{3, 2, 9, 9}, 3, 2, 1},
                              Geometry{{1, 2, 4, 4}, 2, 1, 0}, Geometry{{2, 1, 28, 28}, 3, 1, 1},
                              Geometry{{2, 2, 5, 20}, 3, 1, 2}, Geometry{{2, 3, 6, 6}, 3, 1, 0},
                              Geometry{{3, 4, 3, 3}, 3, 1, 1}, Geometry{{2, 2, 14, 14}, 3, 2, 1},
                              Geometry{{2, 2, 6, 40}, 3, 2, 1}, Geometry{{1, 3, 9, 34}, 4, 2, 2},
                              Geometry{{2, 2, 5, 41}, 5, 2, 0}})
      for (const ColLayout layout : {ColLayout::Folded, ColLayout::PerImage}) {
        CAPTURE(g.image.str());
        const Tensor x64 = randn(g.image, gen, DType::F64);
        const Tensor cols64 = im2col(x64, g.kernel, g.stride, g.padding, layout);
        const Tensor cols32 = im2col(x64.to(DType::F32), g.kernel, g.stride, g.padding, layout);
        CHECK(cols32.to_vector<double>() == cols64.to(DType::F32).to_vector<double>());
        const Tensor c64 = randn(cols64.shape(), gen, DType::F64);
        const auto back64 = col2im(c64, g.image, g.kernel, g.stride, g.padding, layout).to_vector<double>();
        const auto back32 =
            col2im(c64.to(DType::F32), g.image, g.kernel, g.stride, g.padding, layout).to_vector<double>();
        REQUIRE(back32.size() == back64.size());
        double worst = 0;
        for (std::size_t i = 0; i < back64.size(); ++i) worst = std::max(worst, std::abs(back32[i] - back64[i]));
        CHECK(worst < 1e-5);
      }
  }

  TEST_CASE("col2im adds each pixel's taps in tap order: the bits of a naive loop, on every path and layout") {
    // Note [im2col by rows]: the sums are the ones the earlier table kernels made, so a
    // trained model's bits do not depend on which col2im ran. Strided (the strided conv4's
    // 28 -> 14 and 7 -> 4), padded past the window (padding 2) and valid (padding 0) windows.
    struct Geometry {
      int n, c, h, w, k, s, p;
    };
    for (const kernels::Isa isa : kernels::supported_isas())
      for (const ColLayout layout : {ColLayout::Folded, ColLayout::PerImage})
        for (const Geometry& q : {Geometry{3, 2, 28, 28, 3, 2, 1}, Geometry{2, 5, 7, 7, 3, 2, 1},
                                  Geometry{2, 3, 5, 9, 3, 1, 2}, Geometry{2, 2, 6, 5, 2, 3, 0}}) {
          const test::IsaGuard guard(isa);
          CAPTURE(kernels::isa_name(isa));
          CAPTURE(static_cast<int>(layout));
          CAPTURE(q.h);
          kernels::ConvGeometry g;
          g.n = q.n, g.c = q.c, g.h = q.h, g.w = q.w, g.kh = g.kw = q.k, g.sh = g.sw = q.s, g.ph = g.pw = q.p;
          g.layout = layout;
          Generator gen(8);
          const Tensor cols = randn(g.cols_shape(), gen);
          const float* pc = cols.data<float>();
          const std::int64_t oh_n = g.out_h(), ow_n = g.out_w(), l_n = oh_n * ow_n, rows = g.col_rows();
          std::vector<float> want(static_cast<std::size_t>(g.image_shape().numel()), 0.0f);
          for (std::int64_t row = 0; row < rows; ++row)
            for (std::int64_t n = 0; n < g.n; ++n)
              for (std::int64_t oh = 0; oh < oh_n; ++oh)
                for (std::int64_t ow = 0; ow < ow_n; ++ow) {
                  const std::int64_t c = row / (q.k * q.k), i = row / q.k % q.k, j = row % q.k;
                  const std::int64_t ih = oh * q.s - q.p + i, iw = ow * q.s - q.p + j;
                  if (ih < 0 || ih >= q.h || iw < 0 || iw >= q.w) continue;
                  const std::int64_t e = layout == ColLayout::Folded ? row * g.n * l_n + n * l_n + oh * ow_n + ow
                                                                     : (n * rows + row) * l_n + oh * ow_n + ow;
                  want[static_cast<std::size_t>(((n * q.c + c) * q.h + ih) * q.w + iw)] += pc[e];
                }
          std::vector<float> got(want.size(), -1.0f);
          kernels::col2im_raw(pc, g, got.data());
          CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
        }
  }

  TEST_CASE("im2col_rows writes those rows of im2col_raw's columns and no others, on every path and layout") {
    // conv_weight_grad's parts each make their own rows (Note [conv over parts]).
    for (const kernels::Isa isa : kernels::supported_isas())
      for (const ColLayout layout : {ColLayout::Folded, ColLayout::PerImage})
        for (const bool same : {true, false}) {  // a "same" 3x3 (the shifted planes) and a strided window
          const test::IsaGuard guard(isa);
          CAPTURE(kernels::isa_name(isa));
          CAPTURE(static_cast<int>(layout));
          CAPTURE(same);
          kernels::ConvGeometry g;
          g.n = 3, g.c = 4, g.h = 9, g.w = 7, g.kh = 3, g.kw = 3, g.ph = 1, g.pw = 1, g.layout = layout;
          if (!same) g.sh = 2, g.sw = 2, g.kw = 2;
          Generator gen(3);
          const Tensor x = randn(g.image_shape(), gen);
          const std::int64_t total = g.cols_shape().numel(), l = g.out_h() * g.out_w();
          std::vector<float> whole(static_cast<std::size_t>(total)), part(static_cast<std::size_t>(total), -7.0f);
          kernels::im2col_raw(x.data<float>(), g, whole.data());
          const std::int64_t r0 = 5, r1 = 23;
          kernels::im2col_rows(x.data<float>(), g, part.data(), r0, r1);
          int wrong = 0;
          for (std::int64_t e = 0; e < total; ++e) {
            const std::int64_t row = layout == ColLayout::Folded ? e / (g.n * l) : e / l % g.col_rows();
            const float want = row >= r0 && row < r1 ? whole[static_cast<std::size_t>(e)] : -7.0f;
            wrong += part[static_cast<std::size_t>(e)] != want;
          }
          CHECK(wrong == 0);
        }
  }

  TEST_CASE("im2col and col2im are adjoint: <im2col(x), c> = <x, col2im(c)>") {
    Generator gen(5);
    const Tensor x = randn({2, 3, 6, 5}, gen, DType::F64);
    const Tensor cols = im2col(x, {3, 2}, {2, 1}, {1, 1});
    const Tensor c = randn(cols.shape(), gen, DType::F64);
    CHECK(dot(cols, c) == doctest::Approx(dot(x, col2im(c, x.shape(), {3, 2}, {2, 1}, {1, 1}))).epsilon(1e-12));
  }

  TEST_CASE("im2col lays out rows (c, i, j) and columns (n, oh, ow) with zero padding") {
    const Tensor x = reshape(arange(8, DType::F64) + 1.0, {2, 1, 2, 2});  // images [[1,2],[3,4]], [[5,6],[7,8]]
    const Tensor cols = im2col(x, 2, 1, 1);                                   // 3x3 outputs per image
    CHECK(cols.shape() == Shape{4, 18});
    // Tap (0, 0) of output (0, 0) is padding; tap (1, 1) of output (0, 0) is pixel (0, 0).
    CHECK(cols.at({0, 0}) == 0.0);
    CHECK(cols.at({3, 0}) == 1.0);
    CHECK(cols.at({3, 9}) == 5.0);   // second image starts at column 9
    CHECK(cols.at({0, 17}) == 8.0);  // tap (0, 0) of the last output is the last pixel
  }

  TEST_CASE("max_pool2d picks each window's maximum and routes the gradient to it") {
    Tensor x = from_vector(std::vector<double>{1, 5, 2, 0, 3, 4, 9, 1, 7, 8, 6, 2, 0, 1, 3, 4}, {1, 1, 4, 4});
    x.requires_grad_();
    TapeScope scope;
    const Tensor y = max_pool2d(x, 2);
    CHECK(y.to_vector<double>() == std::vector<double>{5, 9, 8, 6});
    const Tensor g = grad(sum(y), x);
    CHECK(g.to_vector<double>() == std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0});
    CHECK(max_pool2d_indices(x, 2, 2).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 6, 9, 10});
  }

  TEST_CASE("max_pool2d_indices picks the first maximum, as the definition, on every kernel path") {
    // On every kernel path the CPU has: f64 runs the scalar loops; f32 the row pairs for
    // 2x2 stride 2 on AVX2 and AVX-512 (Note [max-pool in row pairs]), the gathers for
    // other windows on AVX-512 (Note [arg-max by gather]), else the same loops.
    struct Row {
      Shape x;
      int kh, kw, sh, sw;
    };
    // 7 columns: the last belongs to no 2x2 window. 28x28: more than 16 windows per plane.
    // 5x70: 35 windows in a row (two full vectors of sixteen and three), an odd last row.
    for (const Row& r : {Row{{2, 3, 6, 7}, 2, 2, 2, 2}, Row{{1, 2, 28, 28}, 2, 2, 2, 2}, Row{{1, 2, 5, 70}, 2, 2, 2, 2},
                         Row{{2, 2, 7, 9}, 3, 3, 2, 2},
                         Row{{1, 3, 5, 6}, 2, 2, 1, 1}, Row{{2, 1, 6, 8}, 3, 2, 1, 2}, Row{{3, 2, 3, 3}, 2, 2, 2, 2}}) {
      CAPTURE(r.x.str());
      CAPTURE(r.kh);
      Generator gen(5);
      const std::int64_t h = r.x[2], w = r.x[3], oh_n = (h - r.kh) / r.sh + 1, ow_n = (w - r.kw) / r.sw + 1;
      // Values 0, 1, 2 only: many ties; and a few NaNs (a NaN is taken over any number, and
      // then kept: Note [NaN propagation] in autograd/kernels/elementwise_isa.cpp).
      std::vector<double> v(static_cast<std::size_t>(r.x.numel()));
      for (double& e : v) e = static_cast<double>(gen.below(3));
      for (std::size_t i = 3; i < v.size(); i += 37) v[i] = std::numeric_limits<double>::quiet_NaN();
      const Tensor x = from_vector(v, r.x);
      std::vector<std::int64_t> want;
      for (std::int64_t p = 0; p < r.x[0] * r.x[1]; ++p)
        for (std::int64_t oh = 0; oh < oh_n; ++oh)
          for (std::int64_t ow = 0; ow < ow_n; ++ow) {
            std::int64_t best = -1;
            for (std::int64_t i = 0; i < r.kh; ++i)
              for (std::int64_t j = 0; j < r.kw; ++j) {
                const std::int64_t at = (r.sh * oh + i) * w + r.sw * ow + j;
                const double here = v[static_cast<std::size_t>(p * h * w + at)];
                const double top = best < 0 ? 0.0 : v[static_cast<std::size_t>(p * h * w + best)];
                if (best < 0 || here > top || (std::isnan(here) && !std::isnan(top))) best = at;
              }
            want.push_back(best);
          }
      CHECK(max_pool2d_indices(x, {r.kh, r.kw}, {r.sh, r.sw}).to_vector<std::int64_t>() == want);
      for (const kernels::Isa isa : kernels::supported_isas()) {
        const test::IsaGuard path(isa);
        CAPTURE(kernels::isa_name(isa));
        CHECK(max_pool2d_indices(x.to(DType::F32), {r.kh, r.kw}, {r.sh, r.sw}).to_vector<std::int64_t>() == want);
      }
      // max_pool_select takes other values at those positions; max_pool_scatter adds a
      // gradient there (overlapping windows sum), both from the same arg-max.
      const Tensor values = randn(r.x, gen, DType::F64);
      const Tensor g = randn({r.x[0], r.x[1], oh_n, ow_n}, gen, DType::F64);
      std::vector<double> picked, scattered(static_cast<std::size_t>(r.x.numel()), 0.0);
      const std::vector<double> vv = values.to_vector<double>(), gv = g.to_vector<double>();
      for (std::size_t o = 0; o < want.size(); ++o) {
        const std::size_t plane = o / static_cast<std::size_t>(oh_n * ow_n), at = plane * static_cast<std::size_t>(h * w) +
                                                                                static_cast<std::size_t>(want[o]);
        picked.push_back(vv[at]);
        scattered[at] += gv[o];
      }
      for (const kernels::Isa isa : kernels::supported_isas())
      for (const DType dt : {DType::F64, DType::F32}) {
        const test::IsaGuard path(isa);
        CAPTURE(kernels::isa_name(isa));
        CAPTURE(dtype_name(dt));
        const std::vector<double> sel = max_pool_select(x.to(dt), values.to(dt), {r.kh, r.kw}, {r.sh, r.sw}).to_vector<double>();
        const std::vector<double> sca = max_pool_scatter(x.to(dt), g.to(dt), {r.kh, r.kw}, {r.sh, r.sw}).to_vector<double>();
        check_close(sel, picked, dt == DType::F64 ? 1e-15 : 1e-6);
        REQUIRE(sca.size() == scattered.size());
        for (std::size_t i = 0; i < sca.size(); ++i) CHECK(sca[i] == doctest::Approx(scattered[i]).epsilon(1e-6));
      }
    }
  }

  TEST_CASE("batch_norm normalises each channel and updates running statistics") {
    Generator gen(11);
    const Tensor x = randn({4, 2, 3, 3}, gen, DType::F64) * 3.0 + 1.0;
    RunningStats r{zeros({2}, DType::F64), ones({2}, DType::F64), 0.25};
    const std::uint32_t v0 = r.mean.version();
    const Tensor y = batch_norm(x, {}, {}, 0.0, &r);
    const Tensor m = mean(y, {0, 2, 3}), var = mean(y * y, {0, 2, 3});
    for (std::int64_t c = 0; c < 2; ++c) {
      CHECK(std::abs(m.at({c})) < 1e-12);
      CHECK(var.at({c}) == doctest::Approx(1.0).epsilon(1e-10));
      const Tensor xc = slice(x, 1, c, c + 1);
      const double mu = mean(xc).item(), unbiased = sum((xc - mu) * (xc - mu)).item() / 35.0;
      CHECK(r.mean.at({c}) == doctest::Approx(0.25 * mu).epsilon(1e-12));
      CHECK(r.var.at({c}) == doctest::Approx(0.75 + 0.25 * unbiased).epsilon(1e-12));
    }
    CHECK(r.mean.version() != v0);
    // Inference with the running statistics: (x - mean) / sqrt(var + eps) * w + b.
    const Tensor w = full({2}, 2.0, DType::F64), b = full({2}, -1.0, DType::F64);
    const Tensor yi = batch_norm_inference(x, w, b, r, 1e-5);
    CHECK(yi.at({1, 1, 2, 0}) ==
          doctest::Approx((x.at({1, 1, 2, 0}) - r.mean.at({1})) / std::sqrt(r.var.at({1}) + 1e-5) * 2.0 - 1.0));
  }

  TEST_CASE("vision ops name the op and the shapes in their errors") {
    const Tensor x = zeros({2, 3, 5, 5}), w = zeros({4, 2, 3, 3});
    CHECK_THROWS_WITH_AS(im2col(zeros({3, 5, 5}), 3), doctest::Contains("im2col: x must be 4-D [N, C, H, W]: x is [3, 5, 5]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(im2col(x, 0), doctest::Contains("im2col: kernel and stride must be positive"), ValueError);
    CHECK_THROWS_WITH_AS(im2col(x, 7), doctest::Contains("im2col: window larger than the padded image: x is [2, 3, 5, 5]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(col2im(zeros({27, 10}), {2, 3, 5, 5}, 3), doctest::Contains("col2im: cols do not fit the image: cols is [27, 10]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv2d(x, zeros({4, 3})), doctest::Contains("conv2d: x must be [N, C, H, W] and weight [F, C, kh, kw]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv2d(x, w), doctest::Contains("conv2d: channels differ: x is [2, 3, 5, 5], weight is [4, 2, 3, 3] (3 != 2)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv2d(x, zeros({4, 3, 3, 3}), zeros({3})),
                         doctest::Contains("conv2d: bias must be [4] (one per channel): x is [2, 3, 5, 5], bias is [3]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv_matrix(w, {1, 3, 3, 3}), doctest::Contains("conv_matrix: weight must be [F, C, kh, kw] and the "
                         "images [N, C, H, W] with the same C: weight is [4, 2, 3, 3], images are [1, 3, 3, 3]"), ShapeError);
    CHECK_THROWS_WITH_AS(conv_matrix(w, {1, 2, 2, 2}), doctest::Contains("conv_matrix: window larger than the padded image: "
                         "images is [1, 2, 2, 2]"), ShapeError);
    CHECK_THROWS_WITH_AS(conv_matrix(zeros({1, 1, 1, 2}, DType::I64), {1, 1, 2, 2}),
                         doctest::Contains("conv_matrix: dtype i64"), DTypeError);
    CHECK_THROWS_WITH_AS(conv_matrix_fold(zeros({36, 5}), {4, 2, 3, 3}, {1, 2, 3, 3}, 1, 1),
                         doctest::Contains("conv_matrix_fold: m must be [36, 18] for weight [4, 2, 3, 3] and images "
                                           "[1, 2, 3, 3], got [36, 5]"), ShapeError);
    CHECK_THROWS_WITH_AS(max_pool2d(x, 6), doctest::Contains("max_pool2d: window larger than the padded image"), ShapeError);
    CHECK_THROWS_WITH_AS(max_pool2d_indices(zeros({2}, DType::I64), 2, 2), doctest::Contains("max_pool2d: dtype i64"), DTypeError);
    CHECK_THROWS_WITH_AS(batch_norm(zeros({2, 3, 4}), {}, {}),
                         doctest::Contains("batch_norm: x must be [N, C] or [N, C, H, W]: x is [2, 3, 4]"), ShapeError);
    CHECK_THROWS_WITH_AS(batch_norm(x, zeros({2}), {}),
                         doctest::Contains("batch_norm: weight must be [3] (one per channel): x is [2, 3, 5, 5], weight is [2]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(batch_norm(zeros({1, 3}), {}, {}),
                         doctest::Contains("batch_norm: batch statistics need more than one value per channel: x is [1, 3]"),
                         ValueError);
    RunningStats empty;
    CHECK_THROWS_WITH_AS(batch_norm_inference(x, {}, {}, empty),
                         doctest::Contains("batch_norm: running statistics must hold a mean and a var tensor"), ValueError);
    RunningStats f64_stats{zeros({3}, DType::F64), ones({3}, DType::F64)};
    CHECK_THROWS_WITH_AS(batch_norm(x, {}, {}, 1e-5, &f64_stats),
                         doctest::Contains("batch_norm: running statistics must have x's dtype: x is f32, mean is f64, var is f64"),
                         DTypeError);
    RunningStats wrong{zeros({2}), ones({3})};
    CHECK_THROWS_WITH_AS(batch_norm(x, {}, {}, 1e-5, &wrong),
                         doctest::Contains("batch_norm: running mean must be [3] (one per channel)"), ShapeError);
  }
}

TEST_SUITE("nn_vision_ops") {
  TEST_CASE("conv_split_grain: images per part for kSplitMacs multiply-adds, at least one") {
    CHECK(kernels::conv_split_grain(kernels::kSplitMacs / 4) == 4);
    CHECK(kernels::conv_split_grain(kernels::kSplitMacs / 4 + 1) == 3);
    CHECK(kernels::conv_split_grain(kernels::kSplitMacs * 10) == 1);
    CHECK(kernels::conv_split_grain(0) == kernels::kSplitMacs);
  }

  TEST_CASE("conv_columns and its gradients, over chunks of images or the whole batch, equal the GEMM of "
            "im2col's columns to 1e-12 (relative), up to second derivatives") {
    // Columns budgets of one image's columns or less (a chunk per image), of two and a
    // half images (chunks of 2, 2, 1) and of the whole batch: the same function, up to
    // second derivatives, as matmul on im2col's columns (the chunked kernels sum the
    // weight gradient in another order, hence the tolerance rather than equality).
    const std::size_t saved = kernels::conv_chunk_bytes();
    const std::size_t per_image = 18 * 9 * sizeof(double);  // C*kh*kw = 18 rows, L = 3*3
    for (const std::size_t budget : {std::size_t{1}, per_image * 5 / 2, std::size_t{1} << 20})
      for (const ColLayout layout : {ColLayout::Folded, ColLayout::PerImage}) {
        CAPTURE(budget);
        CAPTURE(static_cast<int>(layout));
        kernels::set_conv_chunk_bytes(budget);
        const Inputs in = test::f64_leaves({{5, 2, 5, 5}, {4, 18}}, 23);
        auto derivatives = [&](bool fused) {
          TapeScope scope;
          const Tensor cols = fused ? Tensor{} : im2col(in[0], 3, 2, 1, layout);
          const Tensor y = fused ? conv_columns(in[0], in[1], 3, 2, 1, layout)
                                 : (layout == ColLayout::Folded ? matmul(in[1], cols) : matmul_shared(in[1], cols));
          Generator gen(5);
          const Tensor loss = sum(y * y * randn(y.shape(), gen, DType::F64));
          const std::vector<Tensor> g = grad({loss}, in, {.create_graph = true});
          const std::vector<Tensor> gg = grad({sum(g[0] * g[0]) + sum(g[1] * g[1])}, in);
          return std::vector<Tensor>{y.detach(), g[0].detach(), g[1].detach(), gg[0], gg[1]};
        };
        const std::vector<Tensor> a = derivatives(true), b = derivatives(false);
        for (std::size_t i = 0; i < a.size(); ++i) {
          CAPTURE(i);
          CHECK(max(abs(a[i] - b[i])).item() < 1e-12 * std::max(1.0, max(abs(b[i])).item()));
        }
      }
    kernels::set_conv_chunk_bytes(saved);
  }

  TEST_CASE("conv_columns and its first and second derivatives have the same bits on 1, 2 and 3 op threads") {
    // Note [conv over parts] (kernels/conv_gemm.cpp): blocks of images per part for the
    // forward and the input gradient, split GEMMs for the weight gradient. Shapes of
    // conv4's first two layers (fewer filters), big enough for every split to happen,
    // on every CPU path, in one chunk per part and in many.
    const std::size_t saved = kernels::conv_chunk_bytes();
    for (const kernels::Isa isa : kernels::supported_isas())
      for (const DType dtype : {DType::F32, DType::F64})
        for (const ColLayout layout : {ColLayout::Folded, ColLayout::PerImage})
          for (const std::size_t budget : {std::size_t{1} << 16, std::size_t{4} << 20}) {
            const test::IsaGuard guard(isa);
            kernels::set_conv_chunk_bytes(budget);
            CAPTURE(kernels::isa_name(isa));
            CAPTURE(dtype_name(dtype));
            CAPTURE(static_cast<int>(layout));
            CAPTURE(budget);
            Generator gen(41);
            const Tensor x = randn({40, 1, 28, 28}, gen, dtype), w1 = randn({16, 9}, gen, dtype).requires_grad_();
            const Tensor w2 = randn({16, 144}, gen, dtype).requires_grad_();
            const Tensor probe = randn({40, 16, 14, 14}, gen, dtype);
            auto run = [&](int threads) {
              const kernels::OpThreads scope(threads);
              TapeScope tape;
              const Tensor h = conv_columns(x, w1, 3, 2, 1, layout);
              const Tensor h4 = layout == ColLayout::Folded ? permute(reshape(h, {16, 40, 14, 14}), {1, 0, 2, 3})
                                                            : reshape(h, {40, 16, 14, 14});
              const Tensor y = conv_columns(h4, w2, 3, 1, 1, layout);
              const Tensor loss = sum(y * y) + sum(h4 * probe);
              const std::vector<Tensor> g = grad({loss}, {w1, w2}, {.create_graph = true});
              const std::vector<Tensor> gg = grad({sum(g[0] * g[0]) + sum(g[1] * g[1])}, {w1, w2});
              return std::vector<Tensor>{y.detach(), g[0].detach(), g[1].detach(), gg[0], gg[1]};
            };
            check_same_bits_over_op_threads(run);
          }
    kernels::set_conv_chunk_bytes(saved);
  }

  TEST_CASE("batch_norm, ReLU and max-pool, to second derivatives, have the same bits on 1, 2 and 3 op threads") {
    // The channel kernels split by channels, the row-pair pooling by planes
    // (kernels/channel.cpp, kernels/max_pool.cpp); every value is one part's alone.
    for (const kernels::Isa isa : kernels::supported_isas())
      for (const DType dtype : {DType::F32, DType::F64}) {
        const test::IsaGuard guard(isa);
        CAPTURE(kernels::isa_name(isa));
        CAPTURE(dtype_name(dtype));
        Generator gen(43);
        const Tensor x = randn({40, 16, 14, 14}, gen, dtype).requires_grad_();
        const Tensor gamma = (randn({16}, gen, dtype) * 0.1 + 1.0).detach().requires_grad_();
        const Tensor beta = randn({16}, gen, dtype).requires_grad_();
        const Tensor probe = randn({40, 16, 7, 7}, gen, dtype);
        auto run = [&](int threads) {
          const kernels::OpThreads scope(threads);
          TapeScope tape;
          const Tensor y = max_pool2d(relu(batch_norm(x, gamma, beta)), 2);
          const std::vector<Tensor> g = grad({sum(y * probe * y)}, {x, gamma, beta}, {.create_graph = true});
          const std::vector<Tensor> gg = grad({sum(g[0] * g[0]) + sum(g[1] * g[2])}, {x, gamma, beta});
          return std::vector<Tensor>{y.detach(), g[0].detach(), g[1].detach(), g[2].detach(), gg[0], gg[1], gg[2]};
        };
        check_same_bits_over_op_threads(run);
      }
  }

  TEST_CASE("max_pool_select and max_pool_scatter: every error message") {
    CHECK_THROWS_WITH_AS(max_pool_select(zeros({2, 2, 4, 4}), zeros({2, 2, 4, 5}), 2, 2),
                         doctest::Contains("max_pool_select: values must have the keys' shape: keys are [2, 2, 4, 4], "
                                           "values are [2, 2, 4, 5]"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(max_pool_select(zeros({2, 4, 4}), zeros({2, 4, 4}), 2, 2),
                         doctest::Contains("max_pool_select: keys must be 4-D [N, C, H, W]: keys is [2, 4, 4]"), ShapeError);
    CHECK_THROWS_WITH_AS(max_pool_scatter(zeros({2, 2, 4, 4}), zeros({2, 2, 2, 3}), 2, 2),
                         doctest::Contains("max_pool_scatter: grad must be [2, 2, 2, 2] (one value per window of keys "
                                           "[2, 2, 4, 4]), got [2, 2, 2, 3] (kernel 2x2, stride 2x2, padding 0x0)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(max_pool_scatter(zeros({2, 2, 1, 4}), zeros({2, 2, 0, 2}), 2, 2),
                         doctest::Contains("max_pool_scatter: window larger than the padded image"), ShapeError);
    CHECK_THROWS_AS(max_pool_select(zeros({2, 2, 4, 4}), zeros({2, 2, 4, 4}, DType::F64), 2, 2), DTypeError);
    CHECK_THROWS_AS(max_pool_scatter(zeros({2, 2, 4, 4}, DType::I64), zeros({2, 2, 2, 2}, DType::I64), 2, 2), DTypeError);
  }

  TEST_CASE("conv_input_grad and conv_weight_grad: every error message") {
    CHECK_THROWS_WITH_AS(conv_input_grad(zeros({3, 24}), zeros({3, 17}), {2, 2, 3, 4}, 3, 1, 1),
                         doctest::Contains("conv_input_grad: weight must be [F, 18] (C*kh*kw): images are [2, 2, 3, 4], "
                                           "weight is [3, 17] (kernel 3x3, stride 1x1, padding 1x1)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv_input_grad(zeros({3, 23}), zeros({3, 18}), {2, 2, 3, 4}, 3, 1, 1),
                         doctest::Contains("conv_input_grad: grad must be [3, 24] (the output for images [2, 2, 3, 4] "
                                           "and 3 filters), got [3, 23] (kernel 3x3, stride 1x1, padding 1x1)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv_input_grad(zeros({3, 24}), zeros({3, 18}), {2, 3, 4}, 3, 1, 1),
                         doctest::Contains("conv_input_grad: image_shape must be 4-D [N, C, H, W]: image_shape is [2, 3, 4]"), ShapeError);
    CHECK_THROWS_WITH_AS(conv_weight_grad(zeros({2, 2, 3, 4}), zeros({2, 3, 8}), 3, 1, 1, ColLayout::PerImage),
                         doctest::Contains("conv_weight_grad: grad must be [2, 3, 12] (the output for images [2, 2, 3, 4] "
                                           "and 3 filters), got [2, 3, 8] (kernel 3x3, stride 1x1, padding 1x1)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv_weight_grad(zeros({2, 3, 4}), zeros({3, 24}), 3, 1, 1),
                         doctest::Contains("conv_weight_grad: x must be 4-D [N, C, H, W]: x is [2, 3, 4]"), ShapeError);
    CHECK_THROWS_AS(conv_weight_grad(zeros({2, 2, 3, 4}), zeros({3, 24}, DType::F64), 3, 1, 1), DTypeError);
    CHECK_THROWS_AS(conv_input_grad(zeros({3, 24}, DType::I64), zeros({3, 18}), {2, 2, 3, 4}, 3, 1, 1), DTypeError);
  }

  TEST_CASE("conv_columns: every error message") {
    CHECK_THROWS_WITH_AS(conv_columns(zeros({2, 2, 5, 5}), zeros({4, 17}), 3, 1, 1),
                         doctest::Contains("conv_columns: weight must be [F, 18] (C*kh*kw): images are [2, 2, 5, 5], "
                                           "weight is [4, 17] (kernel 3x3, stride 1x1, padding 1x1)"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(conv_columns(zeros({2, 5, 5}), zeros({4, 18}), 3),
                         doctest::Contains("conv_columns: x must be 4-D [N, C, H, W]: x is [2, 5, 5]"), ShapeError);
    CHECK_THROWS_AS(conv_columns(zeros({2, 2, 5, 5}), zeros({4, 18}, DType::F64), 3), DTypeError);
  }
}
