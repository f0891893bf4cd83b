// custom_unary (autograd/custom_op.h): a user's forward and backward recorded as one
// node, checked by gradcheck and gradgradcheck like every op of the table.
#include <doctest/doctest.h>

#include "autograd/custom_op.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/tape.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

namespace custom_op_test {

// cube(x) = x³;  x: grad * 3x²
Tensor cube_forward(const Tensor& x) { return x * x * x; }
Tensor cube_backward(const Tensor& x, const Tensor&, const Tensor& grad) { return grad * (x * x) * 3.0; }
const CustomUnary kCube{cube_forward, cube_backward};

Tensor drop_a_row(const Tensor& x) { return slice(x, 0, 0, 1); }
Tensor wrong_shape_backward(const Tensor&, const Tensor&, const Tensor& grad) { return sum(grad); }

}  // namespace custom_op_test

using namespace custom_op_test;

MG_OP_CASE("custom_unary", "cube [3, 4]", [](const Inputs& x) { return custom_unary(x[0], kCube); },
           [] { return f64_leaves({{3, 4}}); });

TEST_SUITE("ops") {
  TEST_CASE("custom_unary runs the user's forward as one node and the user's backward in grad()") {
    const Tensor x = from_vector(std::vector<double>{-1.5, 0.5, 2.0}, {3}).requires_grad_();
    TapeScope scope;
    const Tensor y = custom_unary(x, kCube);
    // One node (after x's leaf); the forward's own muls are not recorded.
    const std::string tape = dump();
    CAPTURE(tape);
    CHECK(tape.find("= custom_unary(%") != std::string::npos);
    CHECK(tape.find("mul") == std::string::npos);
    CHECK(y.to_vector<double>() == std::vector<double>{-3.375, 0.125, 8.0});
    const Tensor g = grad(sum(y), x, {.create_graph = true});
    CHECK(g.to_vector<double>() == std::vector<double>{6.75, 0.75, 12.0});
    // d/dx of 3x² is 6x: the backward recorded with create_graph.
    CHECK(grad(sum(g), x).to_vector<double>() == std::vector<double>{-9.0, 3.0, 12.0});
  }

  TEST_CASE("custom_unary refuses missing functions and shapes that change") {
    const Tensor x = f64_leaves({{2, 3}})[0];
    CHECK_THROWS_WITH_AS(custom_unary(x, {cube_forward, nullptr}),
                         "custom_unary: both a forward and a backward function are needed", ValueError);
    CHECK_THROWS_WITH_AS(custom_unary(x, {drop_a_row, cube_backward}),
                         "custom_unary: the forward changed the shape: x is [2, 3], result is [1, 3]", ShapeError);
    TapeScope scope;
    const Tensor y = custom_unary(x, {cube_forward, wrong_shape_backward});
    CHECK_THROWS_WITH_AS(grad(sum(y), x),
                         "custom_unary: the backward returned the wrong shape: x is [2, 3], its gradient is []",
                         ShapeError);
  }
}
