// What the Google Benchmark programs share: main() (one BLAS thread, the BLAS build,
// the sgemm and the kernel path (METAGRAD_CPU) in use printed in the context lines,
// then the program's own reporter), the summary-table reporter they derive theirs
// from, and the helpers of their timing loops (BLAS threads, FLOP counters, CPU time,
// medians).
//
//   int main(int argc, char** argv) { return mg::bench::run_benchmarks<SummaryReporter>(argc, argv); }
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <ctime>
#include <map>
#include <set>
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

// Runs with `n` BLAS threads and puts the default (1) back afterwards.
class BlasThreads {
 public:
  explicit BlasThreads(std::int64_t n) { mg::kernels::set_blas_threads(static_cast<int>(n)); }
  ~BlasThreads() { mg::kernels::set_blas_threads(1); }
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;
};

// The "FLOPS" counter: `flops_per_iteration` as a rate (FLOP/s) in the output.
inline void set_flops(benchmark::State& state, double flops_per_iteration) {
  state.counters["FLOPS"] = benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

// The console output, then a summary table. For each benchmark (key "function/args")
// the table keeps one run: the median aggregate when --benchmark_repetitions is given,
// else the plain run; never a run that failed, another aggregate, or a plain run over a
// kept median. A program derives, turns a run into its Entry (entry()) and prints
// entries_ in print_summary().
template <class Entry>
class TableReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& reports) override {
    ConsoleReporter::ReportRuns(reports);
    for (const Run& run : reports) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type == Run::RT_Aggregate && !median)) continue;
      const std::string key = run.run_name.function_name + "/" + run.run_name.args;
      if (medians_.contains(key) && !median) continue;
      if (median) medians_.insert(key);
      entries_[key] = entry(run);
    }
  }

 protected:
  virtual Entry entry(const Run& run) const = 0;
  // The user counter `name` of `run`, 0 when it has none.
  static double counter(const Run& run, const char* name) {
    const auto it = run.counters.find(name);
    return it == run.counters.end() ? 0.0 : it->second.value;
  }
  // CPU and wall-clock seconds per iteration.
  static double cpu_seconds(const Run& run) {
    return run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
  }
  static double real_seconds(const Run& run) {
    return run.GetAdjustedRealTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
  }

  std::map<std::string, Entry> entries_;

 private:
  std::set<std::string> medians_;
};

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
