// fma_peak: the machine's fp32 multiply-add peak, measured (issue 14).
//
//   fma_peak [--threads 1,2] [--seconds S] [--json]
//
// The side-by-side runner (bench/side_by_side.py) divides each implementation's
// achieved GFLOP/s by this number, so it states what "% of peak" means on the
// machine of that very run rather than on a data sheet (a KVM guest's clock,
// turbo and AVX-512 licence are unknown from inside).
//
// Method. Each thread runs kChains independent dependency chains
//     acc_j <- acc_j * a + b        (j = 0 … kChains-1)
// of vector FMAs for a fixed number of rounds. One chain alone measures the FMA
// *latency* (4 cycles on recent x86); with at least latency × ports independent
// chains (4 × 2 = 8) the FMA units are never idle and the loop runs at their
// *throughput*, the peak. kChains = 12 leaves margin and still fits the 16
// (AVX2) or 32 (AVX-512) vector registers. a < 1 and b > 0 keep every
// accumulator near the fixed point b / (1 − a): no overflow, no denormals.
//
// ISA: the widest the CPU (and OS) supports, chosen at run time with
// __builtin_cpu_supports; the build is baseline x86-64, so the AVX-512 and AVX2
// bodies are compiled with target attributes rather than -m flags.
//   avx512f  16 lanes, 1 FMA  = 2 flops per lane
//   avx2     8 lanes with FMA3 (avx2 and fma), 2 flops per lane
//   sse2     4 lanes, a multiply and an add (no FMA in SSE2), counted as 2 flops per lane
// GFLOP/s = Σ over threads of rounds × kChains × lanes × 2 / (the thread's CPU
// seconds), the median of 5 timings of about --seconds each. Thread CPU time
// (CLOCK_THREAD_CPUTIME_ID), not wall time: the machine this runs on is shared,
// and a thread waiting for a core is not charged, so the number is the peak with
// every thread on its own core, whatever else runs (with wall time, a build next
// to it halved the 1-thread number). The median, not the best: in a KVM guest one
// wall-clock timing was once 3× the others, faster than the clock allows.
//
// Output, one line on stdout:
//   fma_peak: avx512f, fp32, 12 chains: 1 thread 67.2 GFLOP/s, 2 threads 134.0 GFLOP/s
// or with --json
//   {"isa":"avx512f","lanes":16,"threads":[1,2],"gflops":[67.2,134.0]}
// Bad arguments print one line on stderr and exit with status 2.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tools/cli.h"

namespace {

constexpr int kChains = 12;
constexpr float kA = 0.999'999f;  // the multiplier of every chain
constexpr float kB = 1e-6f;       // the addend: fixed point kB / (1 - kA) = 1

// Each kernel runs `rounds` rounds of kChains independent vector FMAs and returns
// the sum of all lanes of all accumulators, so that no work can be optimised away.

__attribute__((target("avx512f"))) float chains_avx512(std::int64_t rounds) {
  __m512 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm512_set1_ps(1.0f + 0.01f * static_cast<float>(j));
  const __m512 a = _mm512_set1_ps(kA), b = _mm512_set1_ps(kB);
  for (std::int64_t r = 0; r < rounds; ++r)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  __m512 sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = _mm512_add_ps(sum, acc[j]);
  alignas(64) float lanes[16];  // not _mm512_reduce_add_ps: GCC 12's warns -Wuninitialized inside its header
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float x : lanes) total += x;
  return total;
}

__attribute__((target("avx2,fma"))) float chains_avx2(std::int64_t rounds) {
  __m256 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm256_set1_ps(1.0f + 0.01f * static_cast<float>(j));
  const __m256 a = _mm256_set1_ps(kA), b = _mm256_set1_ps(kB);
  for (std::int64_t r = 0; r < rounds; ++r)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  __m256 sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = _mm256_add_ps(sum, acc[j]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float x : lanes) total += x;
  return total;
}

float chains_sse2(std::int64_t rounds) {
  __m128 acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = _mm_set1_ps(1.0f + 0.01f * static_cast<float>(j));
  const __m128 a = _mm_set1_ps(kA), b = _mm_set1_ps(kB);
  for (std::int64_t r = 0; r < rounds; ++r)
    for (int j = 0; j < kChains; ++j) acc[j] = _mm_add_ps(_mm_mul_ps(acc[j], a), b);
  __m128 sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = _mm_add_ps(sum, acc[j]);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

struct Isa {
  const char* name;
  int lanes;
  float (*kernel)(std::int64_t rounds);
};

Isa widest_isa() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512f", 16, chains_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {"avx2", 8, chains_avx2};
  return {"sse2", 4, chains_sse2};
}

// CPU seconds of the calling thread: a thread that another process preempts is not
// charged for the time it waits, so the peak measured is the machine's, not its load's.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// `threads` threads, started together, each run kernel(rounds); returns the sum over the
// threads of rounds / (the thread's CPU seconds): rounds per second with every thread on a core.
double rounds_per_cpu_second(const Isa& isa, int threads, std::int64_t rounds) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<double> cpu(static_cast<std::size_t>(threads));
  std::vector<float> checksum(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) {
      }
      const double start = thread_cpu_seconds();
      checksum[static_cast<std::size_t>(t)] = isa.kernel(rounds);
      cpu[static_cast<std::size_t>(t)] = thread_cpu_seconds() - start;
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  double rate = 0.0;
  for (std::size_t t = 0; t < cpu.size(); ++t) {
    if (!(checksum[t] > 0.0f)) throw std::runtime_error("internal error: the FMA chains summed to a non-positive value");
    rate += static_cast<double>(rounds) / std::max(cpu[t], 1e-9);
  }
  return rate;
}

// Median GFLOP/s of 5 timings on `threads` threads, each lasting about `seconds`.
double measure(const Isa& isa, int threads, double seconds) {
  // Calibrate on one thread: double the rounds until a run takes a tenth of the target.
  std::int64_t rounds = 1 << 16;
  while (static_cast<double>(rounds) / rounds_per_cpu_second(isa, 1, rounds) < 0.1 * seconds) rounds *= 2;
  rounds = std::max<std::int64_t>(1, static_cast<std::int64_t>(seconds * rounds_per_cpu_second(isa, 1, rounds)));
  const double flops_per_round = static_cast<double>(kChains) * isa.lanes * 2.0;
  std::vector<double> rates;
  for (int rep = 0; rep < 5; ++rep) rates.push_back(rounds_per_cpu_second(isa, threads, rounds) * flops_per_round * 1e-9);
  std::sort(rates.begin(), rates.end());
  return rates[2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "fma_peak: the fp32 multiply-add peak of this machine in GFLOP/s, measured with 12 independent chains\n"
      "of vector FMAs per thread in the widest ISA the CPU supports (avx512f, else avx2+fma, else sse2;\n"
      "2 flops per lane per FMA), per thread CPU second (load elsewhere does not lower it), the median of 5\n"
      "timings per thread count."};
  std::vector<int> threads{1, 2};
  double seconds = 0.2;
  bool json = false;
  app.add_option("--threads", threads, "thread counts to measure, comma-separated (default 1,2)")
      ->delimiter(',')
      ->check(CLI::Range(1, 1024));
  app.add_option("--seconds", seconds, "about how long each timing runs (default 0.2)")->check(CLI::Range(0.001, 60.0));
  app.add_flag("--json", json, "print one line of JSON instead of the readable line");
  if (const auto status = mg::tools::parse_command_line(app, argc, argv, "fma_peak")) return *status;

  try {
    const Isa isa = widest_isa();
    std::vector<double> gflops;
    for (const int t : threads) gflops.push_back(measure(isa, t, seconds));
    if (json) {
      std::vector<std::string> g;
      for (const double x : gflops) g.push_back(fmt::format("{:.1f}", x));
      fmt::print(R"({{"isa":"{}","lanes":{},"threads":[{}],"gflops":[{}]}})"
                 "\n",
                 isa.name, isa.lanes, fmt::join(threads, ","), fmt::join(g, ","));
    } else {
      std::vector<std::string> parts;
      for (std::size_t i = 0; i < threads.size(); ++i)
        parts.push_back(fmt::format("{} thread{} {:.1f} GFLOP/s", threads[i], threads[i] == 1 ? "" : "s", gflops[i]));
      fmt::print("fma_peak: {}, fp32, {} chains: {}\n", isa.name, kChains, fmt::join(parts, ", "));
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "fma_peak: {}\n", e.what());
    return 1;
  }
  return 0;
}
