// The op table: gradcheck and gradgradcheck on every registered case, and a
// coverage check that fails for any op in autograd/op_list.h without a case.
// Cases register themselves from the test files of each op group (MG_OP_CASE),
// so ops added later are picked up without touching this file.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/check.h"
#include "autograd/op_list.h"
#include "autograd/ops.h"
#include "tests/op_cases.h"

using namespace mg;
using mg::test::op_cases;
using mg::test::OpCase;

namespace {

// x -> f(x) * f(x). For an op that is linear in its inputs (add, reshape,
// index_select, ...) the gradient <v, f(x)>' does not depend on x, so
// gradgradcheck of f alone would check nothing (and grad() refuses an output
// that no recorded op connects to the inputs). Squaring makes the first-order
// gradient 2 f J^T v, whose derivative runs the op's backward formula backwards
// again, and for a non-linear op keeps its own second-order term as well.
CheckedFunction squared(const CheckedFunction& f) {
  return [f](const std::vector<Tensor>& x) {
    const Tensor y = f(x);
    return y * y;
  };
}

// The names in `names` that no case in `cases` covers ("leaf" is the tape's
// marker for inputs, not a callable op).
template <class Names>
std::vector<std::string> uncovered(const Names& names, const std::vector<OpCase>& cases) {
  std::set<std::string, std::less<>> covered;
  for (const OpCase& c : cases) covered.insert(c.op);
  std::vector<std::string> missing;
  for (std::string_view name : names)
    if (name != "leaf" && !covered.contains(name)) missing.emplace_back(name);
  return missing;
}

CheckOptions named(const OpCase& c) {
  CheckOptions o = c.options;
  o.name = c.op + " (" + c.label + ")";
  return o;
}

}  // namespace

TEST_SUITE("op_table") {
  TEST_CASE("every registered op case passes gradcheck and gradgradcheck") {
    REQUIRE_FALSE(op_cases().empty());
    for (const OpCase& c : op_cases()) {
      CAPTURE(c.op);
      CAPTURE(c.label);
      const CheckResult first = gradcheck(c.f, c.make_inputs(), named(c));
      CHECK_MESSAGE(first.ok, first.message);
      const CheckResult second = gradgradcheck(squared(c.f), c.make_inputs(), named(c));
      CHECK_MESSAGE(second.ok, second.message);
    }
  }

  TEST_CASE("every op in op_list.h has at least one gradcheck case") {
    std::vector<std::string> missing = uncovered(kPrimitiveOpNames, op_cases());
    for (std::string& name : uncovered(kCompositeOpNames, op_cases())) missing.push_back(std::move(name));
    CHECK_MESSAGE(missing.empty(),
                  "ops in op_list.h without an MG_OP_CASE in tests/: " << fmt::format("{}", fmt::join(missing, ", ")));
  }

  TEST_CASE("the coverage check notices an op without cases") {
    const std::vector<OpCase> only_add = {{"add", "x", nullptr, nullptr}};
    const auto names = std::array{std::string_view("add"), std::string_view("no_such_op"), std::string_view("leaf")};
    CHECK(uncovered(names, only_add) == std::vector<std::string>{"no_such_op"});
  }

  TEST_CASE("every registered case names an op and makes inputs that need a gradient") {
    for (const OpCase& c : op_cases()) {
      CAPTURE(c.op);
      CAPTURE(c.label);
      CHECK_FALSE(c.op.empty());
      const test::Inputs in = c.make_inputs();
      CHECK(std::any_of(in.begin(), in.end(), [](const Tensor& t) { return t.requires_grad(); }));
    }
  }
}
