// Matrix multiply (autograd/ops_matmul.cpp): 2-D and batched 3-D, each with
// the four transpose flag combinations, against hand-computed products.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "autograd/errors.h"
#include "autograd/kernels/blas.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace {

// Shape of an [m, k] (or [b, m, k]) operand stored transposed when `t`.
Shape operand(std::int64_t batch, std::int64_t rows, std::int64_t cols, bool t) {
  if (t) std::swap(rows, cols);
  return batch > 0 ? Shape{batch, rows, cols} : Shape{rows, cols};
}

// op(a) is [m, k] and op(b) is [k, n] with m, k, n = 2, 3, 4; batch 0 means 2-D.
const int kMatmulCases = [] {
  std::vector<OpCase> cases;
  for (std::int64_t batch : {0, 3}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        const std::string label = fmt::format("{} ta={} tb={}", batch ? "3-D" : "2-D", ta, tb);
        const Shape a = operand(batch, 2, 3, ta), b = operand(batch, 3, 4, tb);
        cases.push_back({"matmul", label, [ta, tb](const Inputs& x) { return matmul(x[0], x[1], ta, tb); },
                         [a, b] { return f64_leaves({a, b}); }});
      }
    }
  }
  cases.push_back({"matmul", "one operand constant",
                   [](const Inputs& x) { return matmul(x[0], x[1]); },
                   [] {
                     Inputs x = f64_leaves({{4, 3}, {3, 2}});
                     x[1] = x[1].detach();
                     return x;
                   }});
  cases.push_back({"matmul", "a @ a^T", [](const Inputs& x) { return matmul(x[0], x[0], false, true); },
                   [] { return f64_leaves({{3, 2}}); }});
  return register_cases(cases);
}();

}  // namespace

TEST_SUITE("ops") {
  TEST_CASE("matmul of small known matrices, with every transpose flag") {
    const Tensor a = f64({1, 2, 3, 4}, {2, 2}), b = f64({5, 6, 7, 8}, {2, 2});
    check_values(matmul(a, b), {2, 2}, {19, 22, 43, 50});
    check_values(matmul(a, b, true, false), {2, 2}, {26, 30, 38, 44});
    check_values(matmul(a, b, false, true), {2, 2}, {17, 23, 39, 53});
    check_values(matmul(a, b, true, true), {2, 2}, {23, 31, 34, 46});
    // Non-square: [2, 3] @ [3, 1].
    check_values(matmul(f64({1, 0, -1, 2, 1, 0}, {2, 3}), f64({3, 4, 5}, {3, 1})), {2, 1}, {-2, 10});
  }

  TEST_CASE("transpose flags equal explicit transposes") {
    const Inputs x = f64_leaves({{3, 2, 4}, {3, 5, 4}});
    const Tensor a = x[0].detach(), b = x[1].detach();
    const Tensor flagged = matmul(a, b, false, true);
    const Tensor explicit_t = matmul(a, transpose(b).clone());
    CHECK(flagged.shape() == Shape{3, 2, 5});
    check_values(flagged, explicit_t.to_vector<double>());
    check_values(matmul(transpose(a).clone(), b, true, true), matmul(a, transpose(b).clone()).to_vector<double>());
  }

  TEST_CASE("batched matmul multiplies each batch on its own") {
    const Inputs x = f64_leaves({{3, 2, 4}, {3, 4, 5}});
    const Tensor c = matmul(x[0].detach(), x[1].detach());
    for (std::int64_t i = 0; i < 3; ++i) {
      CAPTURE(i);
      const Tensor ai = reshape(slice(x[0].detach(), 0, i, i + 1), {2, 4});
      const Tensor bi = reshape(slice(x[1].detach(), 0, i, i + 1), {4, 5});
      check_values(reshape(slice(c, 0, i, i + 1), {2, 5}), matmul(ai, bi).to_vector<double>());
    }
  }

  TEST_CASE("matmul runs in float32") {
    check_close(matmul(f32({1, 2, 3, 4}, {2, 2}), f32({5, 6, 7, 8}, {2, 2})), {19, 22, 43, 50}, 1e-7);
    check_f32_for_cases("matmul");
  }

  TEST_CASE("matmul errors") {
    CHECK_THROWS_WITH_AS(matmul(zeros({32, 784}), zeros({256, 10})),
                         "matmul: inner dimensions differ: a is [32, 784], b is [256, 10] (784 != 256)", ShapeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({2, 3}), false, false),
                         "matmul: inner dimensions differ: a is [2, 3], b is [2, 3] (3 != 2)", ShapeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({4, 3}), true, true),
                         "matmul: inner dimensions differ: a is [2, 3], b is [4, 3] (2 != 3) with transpose_a=true "
                         "transpose_b=true",
                         ShapeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({2, 3}), zeros({1, 3, 4})),
                         "matmul: operands must both be 2-D or both 3-D: a is [2, 3], b is [1, 3, 4]", ShapeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({3}), zeros({3})),
                         doctest::Contains("matmul: operands must both be 2-D or both 3-D"), ShapeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})),
                         "matmul: batch sizes differ: a is [2, 2, 3], b is [3, 3, 4] (2 != 3)", ShapeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}), zeros({2, 2}, DType::F64)), "matmul: mixed dtypes: a is f32, b is f64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(matmul(zeros({2, 2}, DType::I64), zeros({2, 2}, DType::I64)),
                         "matmul: dtype i64 is not supported", DTypeError);
  }
}

TEST_CASE("gemm_flop_count adds 2*M*N*K for every product, batched ones per batch entry") {
  const Tensor a = mg::ones({3, 4, 5});
  const Tensor b = mg::ones({3, 5, 6});
  const std::uint64_t before = mg::kernels::gemm_flop_count();
  (void)mg::matmul(a, b);
  CHECK(mg::kernels::gemm_flop_count() - before == 3u * 2u * 4u * 6u * 5u);
}
