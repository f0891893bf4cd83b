// CPU dispatch at run time: which instruction set the kernels use.
//
// The build is baseline x86-64 (no -march flags), yet the machines differ: AVX-512
// (Intel Xeon, AMD EPYC Zen 4), or only AVX2 + FMA. The hot loops are compiled three
// times and one of the three is chosen per call by active_isa(): the best this CPU
// runs, or the one forced with METAGRAD_CPU=generic|avx2|avx512 (read once).
//
// Note [CPU dispatch]
// A kernel family declares a table of function pointers (struct ElementwiseKernels in
// elementwise_isa.h) and one extern table per path, in namespaces generic, avx2 and
// avx512. One small .cpp holds the loops, as templates, and defines the table; Meson
// compiles that file three times, as the objects of the static libraries
// metagrad_isa_generic/_avx2/_avx512 (autograd/meson.build), with -DMG_ISA=<path>,
// that path's -m flags, and
//   -ffp-contract=off: no a·b + c fused into an FMA on one path only, so every path
//                      does the same IEEE operations per element (bit-identical), and
//   -fno-math-errno:   sqrt becomes the instruction, so the loop can vectorise.
// The file puts everything in `namespace mg::kernels::MG_ISA` (the loops in an
// anonymous namespace inside it), so the three copies of each template are different
// symbols: the linker can never pick an inline or template function compiled with wide
// instructions for the generic path (ODR). For the same reason these files include only
// <cstdint> and their table header, and use builtins (__builtin_sqrtf), not <cmath>: no
// standard library inline function is compiled with -mavx*. The caller takes
// pick_isa(generic::table, avx2::table, avx512::table) per call (an atomic load), so
// set_active_isa() takes effect at once. Reductions keep the generic summation order
// (same partial sums, same pairing): results do not depend on the path.
//
// How a kernel file opts in (e.g. channel.cpp):
//   1. channel_isa.h: struct ChannelKernels {function pointers}, and the extern const
//      table in namespaces generic, avx2, avx512 (copy elementwise_isa.h);
//   2. channel_isa.cpp: includes only channel_isa.h (and <cstdint>); loops as templates
//      and the table's definition inside namespace mg::kernels::MG_ISA;
//   3. add 'kernels/channel_isa.cpp' to isa_sources in autograd/meson.build;
//   4. channel.cpp: pick_isa(generic::t, avx2::t, avx512::t).fn(...);
//   5. tests/autograd/test_cpu.cpp: each path's bits equal the generic path's.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace mg::kernels {

// Instruction sets with their own kernels, from narrowest to widest.
//   Generic: baseline x86-64 (SSE2);  Avx2: AVX2 + FMA;  Avx512: AVX-512 F/BW/DQ/VL + FMA.
enum class Isa { Generic, Avx2, Avx512 };

// "generic", "avx2", "avx512": the names METAGRAD_CPU takes.
std::string_view isa_name(Isa isa);
// The Isa named `name` (one of the names above), or nullopt.
std::optional<Isa> isa_from_name(std::string_view name);

// The best path this CPU runs, detected once.
Isa cpu_isa();
// Every path this CPU runs, from Generic up to cpu_isa().
std::vector<Isa> supported_isas();

// The path METAGRAD_CPU=value asks for on a CPU whose best path is `cpu`. Throws
// ValueError when the value is no path's name or names one that CPU cannot run; the
// message names the variable, the value and what the CPU supports.
Isa parse_cpu_env(std::string_view value, Isa cpu = cpu_isa());

// The path the kernels use: the one set by set_active_isa(), else METAGRAD_CPU when it
// is set (parse_cpu_env; the environment is read once, on the first call), else cpu_isa().
Isa active_isa();
// Forces the kernels onto `isa` (tests, benchmarks); ValueError when this CPU lacks it.
void set_active_isa(Isa isa);

// The one of a kernel family's three tables that matches active_isa().
template <class Table>
const Table& pick_isa(const Table& generic, const Table& avx2, const Table& avx512) {
  switch (active_isa()) {
    case Isa::Avx512: return avx512;
    case Isa::Avx2: return avx2;
    case Isa::Generic: break;
  }
  return generic;
}

}  // namespace mg::kernels
