// Element and byte counts (Note [Shape sizes] in autograd/shape.h) and the memory
// checks of autograd/memory.h: an overflowing shape is a ShapeError, never a
// wrapped-around count that allocates too little and then writes past it.
#include <doctest/doctest.h>

#include <cstdint>
#include <new>
#include <string>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/memory.h"
#include "autograd/ops.h"
#include "autograd/shape.h"
#include "autograd/storage.h"
#include "autograd/tensor.h"

using namespace mg;

namespace {
constexpr std::int64_t k2e31 = std::int64_t{1} << 31, k2e32 = std::int64_t{1} << 32, k2e62 = std::int64_t{1} << 62;
inline doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }
}  // namespace

TEST_SUITE("tensor") {
  TEST_CASE("shapes whose element count overflows are ShapeErrors") {
    // Each of these wrapped around before: [2^32, 2^32] had numel() 0, so a tensor of it
    // got 0 bytes of storage and the first write went out of bounds.
    const std::vector<std::vector<std::int64_t>> overflowing = {
        {k2e32, k2e32},                                  // two huge dims
        {k2e31, k2e31, 4},                               // 2^64
        {2048, 2048, 2048, 2048, 2048, 2048},           // many dims: 2^66
        {INT64_MAX, 2},                                  // the largest extent, doubled
        {3, 3074457345618258603},                        // just past 2^63 - 1
        {0, k2e62, k2e62},                               // a zero does not save it: strides overflow
        {k2e62, 4, 0},
    };
    for (const auto& dims : overflowing) {
      std::string text;
      for (std::int64_t d : dims) text += (text.empty() ? "" : ", ") + std::to_string(d);
      CAPTURE(text);
      CHECK_THROWS_WITH_AS(Shape{dims}, contains("shape: element count overflows: [" + text +
                                                 "] has more than 9223372036854775807 elements"),
                           ShapeError);
    }
    // Growing or editing a shape is checked the same way.
    Shape s{k2e32};
    CHECK_THROWS_WITH_AS(s.push_back(k2e32),
                         "shape: element count overflows: [4294967296, 4294967296] has more than "
                         "9223372036854775807 elements",
                         ShapeError);
    CHECK(s == Shape{k2e32});  // unchanged by the failed push
    Shape t{2, 3};
    CHECK_THROWS_WITH_AS(t.set(0, INT64_MAX), doctest::Contains("shape: element count overflows"), ShapeError);
    CHECK_THROWS_WITH_AS(t.set(1, -2), "shape: negative extent -2", ShapeError);
    CHECK_THROWS_WITH_AS(t.set(2, 1), "shape: axis 2 is out of range for a shape of rank 2", ShapeError);
    CHECK(t == Shape{2, 3});
    // Negative extents, as before.
    for (std::int64_t d : {std::int64_t{-1}, INT64_MIN, -k2e32})
      CHECK_THROWS_WITH_AS((Shape{2, d}), contains("shape: negative extent " + std::to_string(d)), ShapeError);
  }

  TEST_CASE("the largest shapes that fit are accepted") {
    CHECK(Shape{INT64_MAX}.numel() == INT64_MAX);
    CHECK(Shape{0, INT64_MAX}.numel() == 0);
    CHECK(Shape{k2e31, k2e31, 1}.numel() == k2e62);
    CHECK(Shape{0, k2e31, k2e31}.strides()[0] == k2e62);
    Shape grown{k2e31};
    grown.push_back(k2e31);
    CHECK(grown.numel() == k2e62);
  }

  TEST_CASE("ops whose result shape would overflow throw ShapeError before any work") {
    // Broadcasting two huge dims.
    const Tensor tall = zeros({k2e32, 0}), wide = zeros({0, k2e32});
    CHECK_THROWS_WITH_AS(add(reshape(tall, {k2e32, 1, 0}), reshape(wide, {1, k2e32, 0})),
                         doctest::Contains("shape: element count overflows: [4294967296, 4294967296]"), ShapeError);
    // matmul [2^32, 0] @ [0, 2^32] -> [2^32, 2^32].
    CHECK_THROWS_WITH_AS(matmul(tall, wide), doctest::Contains("shape: element count overflows"), ShapeError);
    // concat of two empty [0, 2^62] tensors on axis 1: the extent itself overflows.
    const Tensor half = zeros({0, k2e62});
    CHECK_THROWS_WITH_AS(concat({half, half}, 1), "concat: extent overflows on axis 1: tensor 1 is [0, 4611686018427387904]",
                         ShapeError);
    // concat whose extent fits but whose element count does not.
    const Tensor third = zeros({0, 3, k2e62 / 2});
    CHECK_THROWS_WITH_AS(concat({third, third}, 1), doctest::Contains("shape: element count overflows"), ShapeError);
    // reshape to an overflowing target, with or without an extent to infer (the product of
    // the known extents overflowed silently before: undefined behaviour that UBSan reports).
    CHECK_THROWS_WITH_AS(reshape(zeros({4}), {k2e32, k2e32}),
                         "reshape: element count overflows: x is [4], target is [4294967296, 4294967296]", ShapeError);
    CHECK_THROWS_WITH_AS(reshape(zeros({0}), {-1, k2e32, k2e32}),
                         "reshape: element count overflows: x is [0], target is [-1, 4294967296, 4294967296]",
                         ShapeError);
    CHECK_THROWS_WITH_AS(reshape(zeros({4}), Shape{k2e32, k2e32}), doctest::Contains("shape: element count overflows"),
                         ShapeError);
  }

  TEST_CASE("tensors whose byte count overflows are ShapeErrors; refused memory is a MemoryError") {
    CHECK_THROWS_WITH_AS(Tensor({k2e62}, DType::F64),
                         "tensor: byte count overflows: [4611686018427387904] f64 has 4611686018427387904 elements of "
                         "8 bytes (at most 9223372036854775807 bytes)",
                         ShapeError);
    CHECK_THROWS_WITH_AS(zeros({INT64_MAX}), doctest::Contains("tensor: byte count overflows: [9223372036854775807] f32"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(Tensor({k2e31, k2e31}, DType::I64), doctest::Contains("tensor: byte count overflows"),
                         ShapeError);
    CHECK_THROWS_WITH_AS(tensor_nbytes(Shape{k2e62 / 4}, DType::F64), doctest::Contains("byte count overflows"),
                         ShapeError);  // 2^63 bytes, one past the limit
    CHECK(tensor_nbytes(Shape{k2e62 / 8}, DType::F64) == std::size_t{1} << 62);
    // 2^62 bytes fit the count but no address space: the allocator says no.
    CHECK_THROWS_WITH_AS(Tensor({k2e62 / 4}, DType::F32),
                         "tensor: cannot allocate [1152921504606846976] f32 (4611686018427387904 bytes): out of memory",
                         MemoryError);
  }

  TEST_CASE("storage requests whose rounding would wrap around are refused") {
    // Before, SIZE_MAX bytes rounded up to a 64-byte multiple wrapped to a tiny block.
    for (const std::size_t bytes : {SIZE_MAX, SIZE_MAX - 63, (SIZE_MAX >> 1) + 1})
      CHECK_THROWS_AS(Storage::make(bytes), std::bad_alloc);
  }

  TEST_CASE("memory estimates saturate and name the quantity") {
    CHECK(saturating_mul(UINT64_MAX, 2) == kUnbounded);
    CHECK(saturating_mul(std::uint64_t{1} << 32, std::uint64_t{1} << 31) == std::uint64_t{1} << 63);
    CHECK(saturating_add(UINT64_MAX - 1, 2) == kUnbounded);
    CHECK(format_bytes(512) == "512 bytes");
    CHECK(format_bytes(3 * 1024 + 100) == "3.1 KiB");
    CHECK(format_bytes(std::uint64_t{24} << 30) == "24.0 GiB");
    CHECK(format_bytes(kUnbounded) == "more than 16 EiB");
    CHECK(physical_memory_bytes() > (std::uint64_t{64} << 20));
    CHECK_NOTHROW(check_memory("test", "a small thing", 1024));
    CHECK_THROWS_WITH_AS(check_memory("test", "2^62 widgets", std::uint64_t{1} << 62),
                         contains("test: 2^62 widgets would need ~4.0 EiB, more than this machine's " +
                                  format_bytes(physical_memory_bytes()) + " of memory"),
                         MemoryError);
  }
}
