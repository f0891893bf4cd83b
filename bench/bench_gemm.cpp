// metagrad's sgemm (autograd/kernels/sgemm.h) against cblas_sgemm, paired.
//
//   ./build/bench/bench_gemm --benchmark_repetitions=3
//
// Each iteration times both on the same operands, in alternating order, on the
// calling thread's CPU clock (the machine is shared: a preemption or a neighbour's
// burst spoils one pair, not the result). A timed segment repeats a call until it
// holds ~4 MFLOP, so the tiny MLP products are not lost in clock overhead. Counters:
// the median over pairs of each side's GFLOP/s and of t_cblas / t_mg ("mg/cblas",
// > 1 when ours is faster). "mg" is the active CPU path's sgemm (avx512 or avx2;
// METAGRAD_CPU=avx2 forces the latter), or cblas_sgemm too on the generic path (the
// "sgemm" context line says which). Shapes are [m, n, k] with op flags:
//   square 64 / 256 / 1024 (NN), the sinusoid MLP's products (batch 10, 1-40-40-1; per
//   layer y = x·Wᵀ (NT), dx = dy·W (NN), dW = dyᵀ·x (TN), all eight that MAML runs),
//   the Omniglot conv4 GEMMs (batch 80, 64 filters, 3×3): per layer the forward
//   W·cols (NN), dW = G·colsᵀ (NT) and dcols = Wᵀ·G (TN); layer 1 runs per image with
//   the bias as a 10th row of cols (Note [conv2d layout] in autograd/ops_vision.cpp).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "autograd/kernels/blas.h"
#include "autograd/kernels/sgemm.h"
#include "bench/bench_main.h"

namespace {

struct GemmShape {
  const char* name;
  bool ta, tb;
  int m, n, k;
  double flops() const { return 2.0 * m * n * k; }
};

constexpr GemmShape kShapes[] = {
    {"square64", false, false, 64, 64, 64},
    {"square256", false, false, 256, 256, 256},
    {"square1024", false, false, 1024, 1024, 1024},
    {"mlp_hidden_fwd", false, true, 10, 40, 40},
    {"mlp_hidden_dx", false, false, 10, 40, 40},
    {"mlp_hidden_dw", true, false, 40, 40, 10},
    {"mlp_in_fwd", false, true, 10, 40, 1},
    {"mlp_in_dw", true, false, 40, 1, 10},
    {"mlp_out_fwd", false, true, 10, 1, 40},
    {"mlp_out_dx", false, false, 10, 40, 1},
    {"mlp_out_dw", true, false, 1, 40, 10},
    {"conv1_fwd", false, false, 64, 784, 10},
    {"conv1_dw", false, true, 64, 10, 784},
    {"conv2_fwd", false, false, 64, 15680, 576},
    {"conv2_dw", false, true, 64, 576, 15680},
    {"conv2_dcols", true, false, 576, 15680, 64},
    {"conv3_fwd", false, false, 64, 3920, 576},
    {"conv3_dw", false, true, 64, 576, 3920},
    {"conv3_dcols", true, false, 576, 3920, 64},
    {"conv4_fwd", false, false, 64, 720, 576},
    {"conv4_dw", false, true, 64, 576, 720},
    {"conv4_dcols", true, false, 576, 720, 64},
};


void sgemm_mg(const GemmShape& s, const float* a, const float* b, float* c) {
  const int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  if (mg::kernels::sgemm_supported())
    mg::kernels::sgemm(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a, lda, b, ldb, 0.0f, c, s.n);
  else
    mg::kernels::sgemm_cblas(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a, lda, b, ldb, 0.0f, c, s.n);
}

void sgemm_openblas(const GemmShape& s, const float* a, const float* b, float* c) {
  mg::kernels::sgemm_cblas(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a, s.ta ? s.m : s.k, b, s.tb ? s.k : s.n, 0.0f, c, s.n);
}

void BM_SgemmPaired(benchmark::State& state, const GemmShape& s) {
  std::vector<float> a(static_cast<std::size_t>(s.m) * s.k), b(static_cast<std::size_t>(s.k) * s.n);
  std::vector<float> c(static_cast<std::size_t>(s.m) * s.n);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) * 0.25f - 0.75f;
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.5f - 1.0f;
  const int reps = std::max(1, static_cast<int>(4e6 / s.flops()));
  std::vector<double> mg_rate, blas_rate, ratio;
  bool mg_first = true;
  for (auto _ : state) {
    double t_mg = 0.0, t_blas = 0.0;
    for (int side = 0; side < 2; ++side) {
      const bool mg_side = (side == 0) == mg_first;
      const double t0 = mg::bench::thread_seconds();
      for (int r = 0; r < reps; ++r) {
        if (mg_side)
          sgemm_mg(s, a.data(), b.data(), c.data());
        else
          sgemm_openblas(s, a.data(), b.data(), c.data());
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
      }
      (mg_side ? t_mg : t_blas) = mg::bench::thread_seconds() - t0;
    }
    mg_first = !mg_first;
    mg_rate.push_back(reps * s.flops() / t_mg / 1e9);
    blas_rate.push_back(reps * s.flops() / t_blas / 1e9);
    ratio.push_back(t_blas / t_mg);
  }
  state.counters["mg_GFLOPS"] = mg::bench::median(mg_rate);
  state.counters["cblas_GFLOPS"] = mg::bench::median(blas_rate);
  state.counters["mg/cblas"] = mg::bench::median(ratio);
  state.SetLabel(std::string(s.ta ? "T" : "N") + (s.tb ? "T" : "N") + " " + std::to_string(s.m) + "x" +
                 std::to_string(s.n) + "x" + std::to_string(s.k));
}

[[maybe_unused]] const bool kRegistered = [] {
  for (const GemmShape& s : kShapes)
    benchmark::RegisterBenchmark((std::string("BM_SgemmPaired/") + s.name).c_str(), BM_SgemmPaired, s)
        ->Unit(benchmark::kMicrosecond)
        ->MinTime(0.5);
  return true;
}();

// Console output, then one line per shape (the median repetition when repeated).
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;
  void ReportRuns(const std::vector<Run>& reports) override {
    ConsoleReporter::ReportRuns(reports);
    for (const Run& run : reports) {
      const bool is_median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type == Run::RT_Aggregate && !is_median)) continue;
      Entry& e = entries_[run.run_name.function_name];
      if (e.median && !is_median) continue;
      const auto get = [&run](const char* name) {
        const auto it = run.counters.find(name);
        return it == run.counters.end() ? 0.0 : it->second.value;
      };
      e = {get("mg_GFLOPS"), get("cblas_GFLOPS"), get("mg/cblas"), is_median};
    }
  }
  void print_summary() const {
    std::printf("\nsgemm (%s) vs cblas_sgemm, paired medians, GFLOP/s per thread CPU-second\n",
                mg::kernels::sgemm_backend());
    std::printf("%-16s %4s %20s %10s %10s %9s\n", "shape", "op", "m x n x k", "mg", "cblas", "mg/cblas");
    for (const GemmShape& s : kShapes) {
      const auto it = entries_.find(std::string("BM_SgemmPaired/") + s.name);
      if (it == entries_.end()) continue;
      const std::string dims = std::to_string(s.m) + " x " + std::to_string(s.n) + " x " + std::to_string(s.k);
      std::printf("%-16s %4s %20s %10.1f %10.1f %9.2f\n", s.name, s.ta ? (s.tb ? "TT" : "TN") : (s.tb ? "NT" : "NN"),
                  dims.c_str(), it->second.mg, it->second.blas, it->second.ratio);
    }
    std::fflush(stdout);
  }

 private:
  struct Entry {
    double mg = 0.0, blas = 0.0, ratio = 0.0;
    bool median = false;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace

int main(int argc, char** argv) { return mg::bench::run_benchmarks<SummaryReporter>(argc, argv); }
