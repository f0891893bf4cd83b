// Memory estimates made before allocating: a request (a data set, a batch of
// tasks, an evaluation) whose estimated size exceeds the machine's physical
// memory is refused with a MemoryError naming the quantity, instead of ending in
// std::bad_alloc or the kernel's out-of-memory killer halfway through.
//
// Estimates use saturating arithmetic: a product too large for 64 bits becomes
// kUnbounded (printed "more than 16 EiB"), which no machine has, so an absurd
// count is refused rather than wrapped around to a small number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mg {

inline constexpr std::uint64_t kUnbounded = UINT64_MAX;

// a × b and a + b, or kUnbounded when the result does not fit.
std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b);
std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b);

// Physical memory of this machine in bytes (sysconf; kUnbounded when unknown).
std::uint64_t physical_memory_bytes();

// "512 bytes", "3.1 KiB", "24.0 GiB", "more than 16 EiB" (for kUnbounded).
std::string format_bytes(std::uint64_t bytes);

// MemoryError "<who>: <what> would need ~<bytes>, more than this machine's <memory> of memory"
// when `bytes` exceeds physical_memory_bytes().
void check_memory(std::string_view who, std::string_view what, std::uint64_t bytes);

}  // namespace mg
