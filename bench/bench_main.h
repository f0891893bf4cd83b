// The main() shared by the benchmark programs: one BLAS thread, the BLAS build and the
// sgemm in use printed in the context lines, then the program's own reporter (a
// ConsoleReporter with a print_summary() for the table it prints after the runs).
//
//   int main(int argc, char** argv) { return mg::bench::run_benchmarks<SummaryReporter>(argc, argv); }
#pragma once

#include <benchmark/benchmark.h>
#include <cblas.h>
#include <unistd.h>

#include "autograd/kernels/blas.h"

namespace mg::bench {

template <class Reporter>
int run_benchmarks(int argc, char** argv) {
  mg::kernels::set_blas_threads(1);
  benchmark::AddCustomContext("blas", openblas_get_config());
  benchmark::AddCustomContext("sgemm", mg::kernels::sgemm_backend());
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
