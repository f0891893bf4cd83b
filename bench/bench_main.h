// The main() shared by the benchmark programs: one BLAS thread, the BLAS build, the
// sgemm and the kernel path (METAGRAD_CPU) in use printed in the context lines, then the program's own reporter (a
// ConsoleReporter with a print_summary() for the table it prints after the runs).
//
//   int main(int argc, char** argv) { return mg::bench::run_benchmarks<SummaryReporter>(argc, argv); }
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"

namespace mg::bench {

// This thread's CPU time in seconds: paired timings use it, since another process
// on the shared machine delays wall-clock time far more than CPU time.
inline double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// The median of `v` (the upper one for an even count); 0 when empty.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

template <class Reporter>
int run_benchmarks(int argc, char** argv) {
  mg::kernels::set_blas_threads(1);
  benchmark::AddCustomContext("blas", mg::kernels::blas_config());
  benchmark::AddCustomContext("sgemm", mg::kernels::sgemm_backend());
  benchmark::AddCustomContext("cpu path", std::string(mg::kernels::isa_name(mg::kernels::active_isa())));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Colour only on a terminal, so that saved output stays plain text.
  Reporter reporter(isatty(STDOUT_FILENO) ? Reporter::OO_ColorTabular : Reporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}

}  // namespace mg::bench
