// fmt printing (autograd/format.h) of shapes, dtypes and tensors, including
// the summarised form of large tensors.
#include <doctest/doctest.h>

#include "autograd/format.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

TEST_SUITE("tensor") {
  TEST_CASE("shapes and dtypes print") {
    CHECK(fmt::format("{}", Shape{2, 3}) == "[2, 3]");
    CHECK(fmt::format("{}", Shape{}) == "[]");
    CHECK(fmt::format("{}", DType::F32) == "f32");
    CHECK(fmt::format("{} {}", DType::F64, DType::I64) == "f64 i64");
    CHECK(fmt::format("{:>6}", Shape{7}) == "   [7]");  // format specs pass through
  }

  TEST_CASE("small tensors print every element") {
    CHECK(fmt::format("{}", f32({0.1f, -1.2f, 3, 4}, {2, 2})) == "tensor([[0.1000, -1.2000], [3.0000, 4.0000]], f32)");
    CHECK(fmt::format("{}", f64({0.5, 2}, {2})) == "tensor([0.500000, 2.000000], f64)");
    CHECK(fmt::format("{}", arange(3, DType::I64)) == "tensor([0, 1, 2], i64)");
    CHECK(fmt::format("{}", scalar(2.5)) == "tensor(2.5000, f32)");
    CHECK(fmt::format("{}", zeros({2, 0})) == "tensor([[], []], f32)");
    CHECK(fmt::format("{}", Tensor()) == "tensor(undefined)");
    CHECK(to_string(ones({1}, DType::F64).requires_grad_()) == "tensor([1.000000], f64, requires_grad)");
  }

  TEST_CASE("large tensors print the first and last three entries of each long dimension") {
    CHECK(fmt::format("{}", arange(2000, DType::I64)) == "tensor([0, 1, 2, ..., 1997, 1998, 1999], i64)");
    const std::string m = fmt::format("{}", reshape(arange(40 * 50, DType::I64), {40, 50}));
    CHECK(m.starts_with("tensor([[0, 1, 2, ..., 47, 48, 49], [50, 51, 52, ..., 97, 98, 99], [100, "));
    CHECK(m.find("149], ..., [1850, 1851, 1852, ..., 1897, 1898, 1899], [1900, ") != std::string::npos);
    CHECK(m.ends_with("], [1950, 1951, 1952, ..., 1997, 1998, 1999]], i64)"));
    // 1000 elements or fewer print in full.
    const std::string full = fmt::format("{}", arange(1000, DType::I64));
    CHECK(full.find("...") == std::string::npos);
    CHECK(full.find(", 500, ") != std::string::npos);
  }
}
