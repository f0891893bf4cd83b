// Tensor handles (autograd/tensor.h): element access, copies and views,
// conversion, versions, grad flags and their errors.
#include <doctest/doctest.h>

#include <utility>

#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/tape.h"
#include "tests/autograd/op_test_util.h"

using namespace mg;
using namespace mg::test;

TEST_SUITE("tensor") {
  TEST_CASE("a new tensor knows its shape, dtype and size") {
    const Tensor t({2, 3, 4}, DType::F64);
    CHECK(t.defined());
    CHECK(t.ndim() == 3);
    CHECK(t.numel() == 24);
    CHECK(t.size(0) == 2);
    CHECK(t.size(-1) == 4);
    CHECK(t.nbytes() == 24 * 8);
    CHECK(t.dtype() == DType::F64);
    CHECK(Tensor({5}, DType::F32).nbytes() == 20);
    CHECK_FALSE(Tensor().defined());
    CHECK(Tensor({0, 3}, DType::F32).numel() == 0);
  }

  TEST_CASE("element access: data, at, set, item, to_vector") {
    Tensor t = f64({1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(t.data<double>()[4] == 5);
    CHECK(t.at({1, 0}) == 4);
    t.set({0, 2}, -7.5);
    CHECK(t.at({0, 2}) == -7.5);
    CHECK(t.to_vector<float>() == std::vector<float>{1, 2, -7.5f, 4, 5, 6});
    CHECK(t.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2, -7, 4, 5, 6});
    CHECK(scalar(2.5).item() == 2.5);
    CHECK(f64({9}, {1, 1}).item() == 9);
    Tensor ints = arange(4, DType::I64);
    ints.set({3}, 11);
    CHECK(ints.data<std::int64_t>()[3] == 11);
    CHECK(ints.at({3}) == 11);
  }

  TEST_CASE("set bumps the storage version that saved tensors are checked against") {
    Tensor t = zeros({2});
    const std::uint32_t v0 = t.version();
    t.set({1}, 1.0);
    CHECK(t.version() == v0 + 1);
    t.bump_version();
    CHECK(t.version() == v0 + 2);
    CHECK(t.detach().version() == t.version());  // the version belongs to the shared storage
  }

  TEST_CASE("mutable_data and mutable_raw_data bump the version; data and raw_data do not") {
    Tensor t = zeros({3}, DType::F64);  // a non-const handle: reads must still not bump
    const std::uint32_t v0 = t.version();
    CHECK(t.data<double>()[0] == 0.0);
    CHECK(t.raw_data() != nullptr);
    CHECK(t.at({2}) == 0.0);
    (void)t.to_vector<double>();
    (void)t.clone();
    CHECK(t.version() == v0);
    double* p = t.mutable_data<double>();
    p[1] = 7.0;
    CHECK(t.version() == v0 + 1);
    static_cast<double*>(t.mutable_raw_data())[2] = 8.0;
    CHECK(t.version() == v0 + 2);
    CHECK(t.detach().version() == v0 + 2);  // a view sees the write's bump (shared storage)
    check_values(t, {0, 7, 8});
    // A fresh result was written by its kernel before anyone could save it.
    const Tensor u = t * 2.0;
    const std::uint32_t u0 = u.version();
    (void)u.data<double>();
    CHECK(u.version() == u0);
  }

  TEST_CASE("copies share the handle; detach shares storage; clone copies") {
    Tensor a = f64({1, 2}, {2});
    Tensor same = a;
    CHECK(same.is_same(a));
    Tensor d = a.detach();
    CHECK_FALSE(d.is_same(a));
    CHECK(d.storage().get() == a.storage().get());
    Tensor c = a.clone();
    CHECK(c.storage().get() != a.storage().get());
    a.set({0}, 10.0);
    CHECK(d.at({0}) == 10);
    CHECK(c.at({0}) == 1);
    CHECK(same.at({0}) == 10);
  }

  TEST_CASE("to() converts between element types") {
    const Tensor x = f64({1.75, -2.5, 3}, {3});
    const Tensor f = x.to(DType::F32);
    CHECK(f.dtype() == DType::F32);
    check_values(f, {1.75, -2.5, 3});
    const Tensor i = x.to(DType::I64);
    CHECK(i.dtype() == DType::I64);
    CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2, 3});
    check_values(i.to(DType::F64), {1, -2, 3});
  }

  TEST_CASE("requires_grad marks leaves; results of recorded ops are not leaves") {
    TapeScope scope;
    Tensor w = zeros({2}, DType::F64);
    CHECK_FALSE(w.requires_grad());
    CHECK(w.is_leaf());
    CHECK(w.requires_grad_().requires_grad());
    const Tensor y = w * w;
    CHECK(y.requires_grad());
    CHECK_FALSE(y.is_leaf());
    CHECK(y.node() >= 0);
    const Tensor d = y.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    CHECK(d.node() == -1);
    CHECK_FALSE(w.clone().requires_grad());
    w.requires_grad_(false);
    CHECK_FALSE(w.requires_grad());
    CHECK_FALSE((w * w).requires_grad());
  }

  TEST_CASE("grad slots: set_grad and zero_grad") {
    Tensor w = zeros({2}, DType::F64).requires_grad_();
    CHECK_FALSE(w.grad().defined());
    w.set_grad(ones({2}, DType::F64));
    check_values(w.grad(), {1, 1});
    w.zero_grad();
    CHECK_FALSE(w.grad().defined());
  }

  TEST_CASE("tensor errors") {
    Tensor t = zeros({2, 3});
    CHECK_THROWS_WITH_AS(t.data<double>(), "data: tensor is f32, requested f64", DTypeError);
    CHECK_THROWS_WITH_AS(t.mutable_data<double>(), "mutable_data: tensor is f32, requested f64", DTypeError);
    CHECK_THROWS_WITH_AS(std::as_const(t).data<std::int64_t>(), "data: tensor is f32, requested i64", DTypeError);
    CHECK_THROWS_WITH_AS(t.item(), "item: tensor must have one element, got [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(zeros({0}).item(), "item: tensor must have one element, got [0]", ShapeError);
    CHECK_THROWS_WITH_AS(t.at({2, 0}), "at: index 2 is out of range for dim 0 of [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(t.at({0, -1}), "at: index -1 is out of range for dim 1 of [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(t.at({0}), "at: index has 1 entries, tensor is [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(t.set({0, 3}, 1.0), "at: index 3 is out of range for dim 1 of [2, 3]", ShapeError);
    CHECK_THROWS_WITH_AS(t.size(2), "size: axis 2 is out of range for a tensor of rank 2", ShapeError);
    CHECK_THROWS_WITH_AS(Tensor().shape(), "tensor: use of an undefined tensor", ValueError);
    CHECK_THROWS_WITH_AS(Tensor().clone(), "tensor: use of an undefined tensor", ValueError);
    CHECK_THROWS_WITH_AS(arange(3, DType::I64).requires_grad_(), "requires_grad_: dtype i64 cannot require grad",
                         DTypeError);
    TapeScope scope;
    Tensor w = zeros({2}, DType::F64).requires_grad_();
    Tensor y = w + w;
    CHECK_THROWS_WITH_AS(y.requires_grad_(), doctest::Contains("requires_grad_: only leaves can be marked"), GradError);
    CHECK_THROWS_WITH_AS(require_same_dtype("greater", zeros({1}), zeros({1}, DType::F64)),
                         "greater: mixed dtypes: a is f32, b is f64", DTypeError);
    CHECK_THROWS_WITH_AS(greater(zeros({1}), zeros({1}, DType::F64)), "greater: mixed dtypes: a is f32, b is f64",
                         DTypeError);
    CHECK_THROWS_WITH_AS(require_floating("argmax", DType::I64), "argmax: dtype i64 is not supported", DTypeError);
  }

  TEST_CASE("a tensor over shared storage must fit in it") {
    const Tensor small = zeros({2}, DType::F64);
    const Tensor view(small.storage(), {2, 1}, DType::F64);
    CHECK(view.at({1, 0}) == 0);
    CHECK_THROWS_WITH_AS(Tensor(small.storage(), {3}, DType::F64),
                         "tensor: storage of 16 bytes is too small for [3] f64 (24 bytes)", ShapeError);
  }
}
