// The op table of the test suite: every op and composite listed in
// autograd/op_list.h (and any op a later layer adds) registers at least one
// case here, and tests/autograd/test_op_table.cpp runs gradcheck and
// gradgradcheck on each and fails for any listed op without a case.
//
//   MG_OP_CASE("mul", "broadcast row", [](const Inputs& x) { return mg::mul(x[0], x[1]); },
//              [] { return f64_leaves({{3, 4}, {1, 4}}); });
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "autograd/check.h"
#include "autograd/tensor.h"

namespace mg::test {

using Inputs = std::vector<Tensor>;

struct OpCase {
  std::string op;     // the op's name as in op_list.h
  std::string label;  // what this case covers
  CheckedFunction f;
  std::function<Inputs()> make_inputs;  // fresh f64 inputs (those to check require grad)
  CheckOptions options = {};
};

// Adds a case to the table; returns its index (for static registration).
int register_op_case(OpCase c);
const std::vector<OpCase>& op_cases();

// Random f64 leaves that require grad, one per shape, deterministic from `seed`.
Inputs f64_leaves(const std::vector<Shape>& shapes, std::uint64_t seed = 7);

}  // namespace mg::test

#define MG_CAT_(a, b) a##b
#define MG_CAT(a, b) MG_CAT_(a, b)
// Registers an OpCase at static-initialisation time: MG_OP_CASE(op, label, f, make_inputs[, options]).
#define MG_OP_CASE(...) \
  static const int MG_CAT(mg_op_case_, __LINE__) = ::mg::test::register_op_case(::mg::test::OpCase{__VA_ARGS__})
