#include "autograd/kernels/cpu.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "autograd/errors.h"

namespace mg::kernels {

namespace {

constexpr Isa kAll[] = {Isa::Generic, Isa::Avx2, Isa::Avx512};

// Paths are ordered: a CPU that runs one runs every narrower one.
bool runs(Isa cpu, Isa isa) { return static_cast<int>(isa) <= static_cast<int>(cpu); }

// "generic, avx2": the paths a CPU with best path `cpu` runs, for error messages.
std::string supported_list(Isa cpu) {
  std::string s;
  for (const Isa isa : kAll)
    if (runs(cpu, isa)) s += (s.empty() ? "" : ", ") + std::string(isa_name(isa));
  return s;
}

// -1 until the first active_isa() or set_active_isa(), then the Isa in use.
std::atomic<int> g_active{-1};

Isa from_environment() {
  const char* value = std::getenv("METAGRAD_CPU");
  return value == nullptr || *value == '\0' ? cpu_isa() : parse_cpu_env(value);
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic: return "generic";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "unknown";
}

std::optional<Isa> isa_from_name(std::string_view name) {
  for (const Isa isa : kAll)
    if (isa_name(isa) == name) return isa;
  return std::nullopt;
}

Isa cpu_isa() {
  static const Isa best = [] {
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("fma");
    if (fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
      return Isa::Avx512;
    if (fma && __builtin_cpu_supports("avx2")) return Isa::Avx2;
    return Isa::Generic;
  }();
  return best;
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (const Isa isa : kAll)
    if (runs(cpu_isa(), isa)) out.push_back(isa);
  return out;
}

Isa parse_cpu_env(std::string_view value, Isa cpu) {
  const std::optional<Isa> isa = isa_from_name(value);
  if (!isa)
    throw ValueError(fmt::format("METAGRAD_CPU: unknown path: value is \"{}\" (expected generic, avx2 or avx512); "
                                 "this CPU supports {}",
                                 value, supported_list(cpu)));
  if (!runs(cpu, *isa))
    throw ValueError(fmt::format("METAGRAD_CPU: path not supported by this CPU: value is \"{}\"; this CPU supports {}",
                                 value, supported_list(cpu)));
  return *isa;
}

Isa active_isa() {
  const int v = g_active.load(std::memory_order_relaxed);
  if (v >= 0) return static_cast<Isa>(v);
  // First call: two threads may both read the environment; they store the same value.
  const Isa isa = from_environment();
  int expected = -1;
  g_active.compare_exchange_strong(expected, static_cast<int>(isa), std::memory_order_relaxed);
  return static_cast<Isa>(g_active.load(std::memory_order_relaxed));
}

void set_active_isa(Isa isa) {
  if (!runs(cpu_isa(), isa))
    throw ValueError(fmt::format("set_active_isa: path not supported by this CPU: isa is {}; this CPU supports {}",
                                 isa_name(isa), supported_list(cpu_isa())));
  g_active.store(static_cast<int>(isa), std::memory_order_relaxed);
}

}  // namespace mg::kernels
