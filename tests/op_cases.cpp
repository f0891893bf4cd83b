#include "tests/op_cases.h"

#include "autograd/creation.h"

namespace mg::test {

namespace {
std::vector<OpCase>& table() {
  static std::vector<OpCase> cases;
  return cases;
}
}  // namespace

int register_op_case(OpCase c) {
  table().push_back(std::move(c));
  return static_cast<int>(table().size()) - 1;
}

const std::vector<OpCase>& op_cases() { return table(); }

Inputs f64_leaves(const std::vector<Shape>& shapes, std::uint64_t seed) {
  Generator gen(seed);
  Inputs out;
  for (const Shape& s : shapes) out.push_back(randn(s, gen, DType::F64).requires_grad_());
  return out;
}

}  // namespace mg::test
