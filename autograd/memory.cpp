#include "autograd/memory.h"

#include <fmt/format.h>
#include <unistd.h>

#include "autograd/errors.h"

namespace mg {

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  return __builtin_mul_overflow(a, b, &out) ? kUnbounded : out;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t out = 0;
  return __builtin_add_overflow(a, b, &out) ? kUnbounded : out;
}

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return kUnbounded;
  return saturating_mul(static_cast<std::uint64_t>(pages), static_cast<std::uint64_t>(page));
}

std::string format_bytes(std::uint64_t bytes) {
  if (bytes == kUnbounded) return "more than 16 EiB";
  if (bytes < 1024) return fmt::format("{} bytes", bytes);
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes) / 1024.0;
  int unit = 0;
  while (v >= 1024.0 && unit < 5) {
    v /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

void check_memory(std::string_view who, std::string_view what, std::uint64_t bytes) {
  const std::uint64_t have = physical_memory_bytes();
  if (bytes <= have) return;
  throw MemoryError(fmt::format("{}: {} would need ~{}, more than this machine's {} of memory", who, what,
                                format_bytes(bytes), format_bytes(have)));
}

}  // namespace mg
