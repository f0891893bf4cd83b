// Benchmarks of the autograd core (issue 2): matmul against raw cblas_sgemm in
// the same run, elementwise throughput, the fixed cost of one recorded op, and
// one forward+backward step of the 1-40-40-1 sinusoid MLP.
//
//   ./build/bench/bench_ops --benchmark_min_time=0.2
//
// BLAS is pinned to one thread (the 1024 matmuls also run with two).
// Rates are per CPU-second: the shared machine this runs on is often loaded
// several times over, and wall-clock time then measures the other jobs. The
// matmuls count the CPU time of the whole process (so BLAS worker threads are
// included: with two threads the rate is per core, not the speed-up); the
// single-threaded benchmarks count the calling thread's. Wall-clock time is
// still printed, and the summary gives both. After the runs a summary prints the ratios the issue asks for: matmul / raw sgemm
// GFLOP/s per size, and the per-op overhead in ns. With --benchmark_repetitions
// the summary uses the median of the repetitions. Results: bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/kernels/adam.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/cpu.h"
#include "autograd/ops.h"
#include "autograd/storage.h"
#include "autograd/tape.h"
#include "bench/bench_main.h"

namespace {

using mg::Tensor;

constexpr std::int64_t kMatmulSizes[] = {64, 256, 1024};

using mg::bench::BlasThreads;
using mg::bench::set_flops;

Tensor square(std::int64_t n, std::uint64_t seed) {
  mg::Generator gen(seed);
  return mg::randn({n, n}, gen);
}

// --- matmul vs raw sgemm ---------------------------------------------------
// Args: {n, blas threads}. The raw calls write into a preallocated C; mg::matmul
// allocates its result each time, which is part of what is measured.

void BM_RawSgemm(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const BlasThreads threads(state.range(1));
  const Tensor a = square(n, 1), b = square(n, 2);
  Tensor c = mg::zeros({n, n});
  const int ni = static_cast<int>(n);
  for (auto _ : state) {
    mg::kernels::sgemm_cblas(false, false, ni, ni, ni, 1.0f, a.data<float>(), ni, b.data<float>(),
                             ni, 0.0f, c.mutable_data<float>(), ni);
    benchmark::DoNotOptimize(c.raw_data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * static_cast<double>(n * n * n));
}

void BM_MatmulForward(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const BlasThreads threads(state.range(1));
  const Tensor a = square(n, 1), b = square(n, 2);
  for (auto _ : state) {
    Tensor c = mg::matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 2.0 * static_cast<double>(n * n * n));
}

// The two gemms of matmul's backward for C = A B with upstream G:
// dA = G Bᵀ and dB = Aᵀ G, transposes passed to BLAS as mg does.
void BM_RawSgemmBackward(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const BlasThreads threads(state.range(1));
  const Tensor a = square(n, 1), b = square(n, 2), g = square(n, 3);
  Tensor da = mg::zeros({n, n}), db = mg::zeros({n, n});
  const int ni = static_cast<int>(n);
  for (auto _ : state) {
    mg::kernels::sgemm_cblas(false, true, ni, ni, ni, 1.0f, g.data<float>(), ni, b.data<float>(),
                             ni, 0.0f, da.mutable_data<float>(), ni);
    mg::kernels::sgemm_cblas(true, false, ni, ni, ni, 1.0f, a.data<float>(), ni, g.data<float>(),
                             ni, 0.0f, db.mutable_data<float>(), ni);
    benchmark::DoNotOptimize(da.raw_data());
    benchmark::DoNotOptimize(db.raw_data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 4.0 * static_cast<double>(n * n * n));
}

// grad() of a recorded C = matmul(A, B) with respect to A and B, seeded with G.
// The forward is recorded once; a sweep without create_graph appends nothing,
// so each iteration is exactly the backward: two matmuls through the tape.
void BM_MatmulBackward(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const BlasThreads threads(state.range(1));
  const Tensor a = square(n, 1).requires_grad_(), b = square(n, 2).requires_grad_(), g = square(n, 3);
  const mg::TapeScope scope;
  const Tensor c = mg::matmul(a, b);
  const mg::GradOptions seed{.grad_outputs = {g}};
  for (auto _ : state) {
    std::vector<Tensor> grads = mg::grad({c}, {a, b}, seed);
    benchmark::DoNotOptimize(grads[0].raw_data());
    benchmark::DoNotOptimize(grads[1].raw_data());
    benchmark::ClobberMemory();
  }
  set_flops(state, 4.0 * static_cast<double>(n * n * n));
}

// The same comparison made robust to a loaded machine: each iteration times one
// raw call and one mg call back to back (wall clock), and the counter is the
// median over iterations of t_raw / t_mg, i.e. mg's throughput as a fraction of
// raw sgemm's. A preemption spoils one pair, not the whole measurement.
template <bool kBackward>
void matmul_paired(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const std::int64_t n = state.range(0);
  const BlasThreads threads(state.range(1));
  const Tensor a = square(n, 1).requires_grad_(), b = square(n, 2).requires_grad_(), g = square(n, 3);
  Tensor da = mg::zeros({n, n}), db = mg::zeros({n, n});
  const mg::TapeScope scope;
  const Tensor c = kBackward ? mg::matmul(a, b) : Tensor{};
  const mg::GradOptions seed{.grad_outputs = {g}};
  const int ni = static_cast<int>(n);
  std::vector<double> ratios;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    if (kBackward) {
      mg::kernels::sgemm_cblas(false, true, ni, ni, ni, 1.0f, g.data<float>(), ni, b.data<float>(),
                               ni, 0.0f, da.mutable_data<float>(), ni);
      mg::kernels::sgemm_cblas(true, false, ni, ni, ni, 1.0f, a.data<float>(), ni, g.data<float>(),
                               ni, 0.0f, db.mutable_data<float>(), ni);
    } else {
      mg::kernels::sgemm_cblas(false, false, ni, ni, ni, 1.0f, a.data<float>(), ni, b.data<float>(),
                               ni, 0.0f, da.mutable_data<float>(), ni);
    }
    benchmark::ClobberMemory();
    const auto t1 = Clock::now();
    if (kBackward) {
      std::vector<Tensor> grads = mg::grad({c}, {a, b}, seed);
      benchmark::DoNotOptimize(grads[1].raw_data());
    } else {
      const mg::NoGradGuard no_grad;  // a and b require grad here; the forward benchmark records nothing
      Tensor out = mg::matmul(a, b);
      benchmark::DoNotOptimize(out.raw_data());
    }
    benchmark::ClobberMemory();
    const auto t2 = Clock::now();
    ratios.push_back(std::chrono::duration<double>(t1 - t0).count() / std::chrono::duration<double>(t2 - t1).count());
  }
  std::nth_element(ratios.begin(), ratios.begin() + static_cast<std::ptrdiff_t>(ratios.size() / 2), ratios.end());
  state.counters["mg/raw"] = ratios.empty() ? 0.0 : ratios[ratios.size() / 2];
}

void BM_MatmulPairedForward(benchmark::State& state) { matmul_paired<false>(state); }
void BM_MatmulPairedBackward(benchmark::State& state) { matmul_paired<true>(state); }

void matmul_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "blas"});
  for (std::int64_t n : kMatmulSizes) b->Args({n, 1});
  b->Args({1024, 2});
  b->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_RawSgemm)->Apply(matmul_args);
BENCHMARK(BM_MatmulForward)->Apply(matmul_args);
BENCHMARK(BM_RawSgemmBackward)->Apply(matmul_args);
BENCHMARK(BM_MatmulBackward)->Apply(matmul_args);
// At n = 1024 a pair takes ~0.1-0.3 s, so the time budget alone would give a median of one or two pairs.
void paired_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "blas"})->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);
  b->Args({64, 1})->Args({256, 1});
}
void paired_args_1024(benchmark::internal::Benchmark* b) {
  b->ArgNames({"n", "blas"})->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);
  b->Args({1024, 1})->Args({1024, 2})->Iterations(9);
}
BENCHMARK(BM_MatmulPairedForward)->Apply(paired_args);
BENCHMARK(BM_MatmulPairedForward)->Apply(paired_args_1024);
BENCHMARK(BM_MatmulPairedBackward)->Apply(paired_args);
BENCHMARK(BM_MatmulPairedBackward)->Apply(paired_args_1024);

// --- elementwise -----------------------------------------------------------
// Bytes per iteration count every element read and written once.

Tensor vector_of(std::int64_t n, std::uint64_t seed) {
  mg::Generator gen(seed);
  return mg::uniform({n}, 0.5, 1.5, gen);
}

template <Tensor (*Op)(const Tensor&, const Tensor&)>
void binary_forward(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Tensor a = vector_of(n, 1), b = vector_of(n, 2);
  for (auto _ : state) {
    Tensor c = Op(a, b);
    benchmark::DoNotOptimize(c.raw_data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 3 * n * static_cast<std::int64_t>(sizeof(float)));
  state.SetItemsProcessed(state.iterations() * n);
}

template <Tensor (*Op)(const Tensor&)>
void unary_forward(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Tensor x = vector_of(n, 1);
  for (auto _ : state) {
    Tensor y = Op(x);
    benchmark::DoNotOptimize(y.raw_data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 2 * n * static_cast<std::int64_t>(sizeof(float)));
  state.SetItemsProcessed(state.iterations() * n);
}

// The floor for add: the same loop into a preallocated buffer, no tensor made.
void BM_RawAddLoop(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const Tensor a = vector_of(n, 1), b = vector_of(n, 2);
  Tensor c = mg::zeros({n});
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* pc = c.mutable_data<float>();
  for (auto _ : state) {
    for (std::int64_t i = 0; i < n; ++i) pc[i] = pa[i] + pb[i];
    benchmark::DoNotOptimize(pc);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * 3 * n * static_cast<std::int64_t>(sizeof(float)));
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_AddForward(benchmark::State& state) { binary_forward<mg::add>(state); }
void BM_MulForward(benchmark::State& state) { binary_forward<mg::mul>(state); }
void BM_TanhForward(benchmark::State& state) { unary_forward<mg::tanh>(state); }
void BM_ExpForward(benchmark::State& state) { unary_forward<mg::exp>(state); }
void BM_ReluForward(benchmark::State& state) { unary_forward<mg::relu>(state); }
void BM_SumForward(benchmark::State& state) {
  unary_forward<static_cast<Tensor (*)(const Tensor&)>(mg::sum)>(state);
}

void elementwise_args(benchmark::internal::Benchmark* b) {
  b->ArgName("n")->Arg(1000)->Arg(100000)->Arg(1000000);
}

BENCHMARK(BM_RawAddLoop)->Apply(elementwise_args);
BENCHMARK(BM_AddForward)->Apply(elementwise_args);
BENCHMARK(BM_MulForward)->Apply(elementwise_args);
BENCHMARK(BM_TanhForward)->Apply(elementwise_args);
BENCHMARK(BM_ExpForward)->Apply(elementwise_args);
BENCHMARK(BM_ReluForward)->Apply(elementwise_args);
BENCHMARK(BM_SumForward)->Apply(elementwise_args);

// --- Adam's update ---------------------------------------------------------
// One step over a [34000, 64] float32 tensor (the text bag model's embedding table, 2.2M
// values, which Reptile's and pretraining's fine-tuning update every step): the kernel
// on each CPU path (arg: 0 generic, 1 avx2, 2 avx512; skipped where the CPU lacks it)
// and, as the baseline, adam_update_scalar: the scalar loop nn::Adam ran before the kernel.

constexpr std::int64_t kAdamRows = 34000, kAdamCols = 64;

struct AdamTensors {
  Tensor theta, grad, m, v;
  AdamTensors() {
    mg::Generator gen(5);
    theta = mg::randn({kAdamRows, kAdamCols}, gen);
    grad = mg::randn({kAdamRows, kAdamCols}, gen);
    m = mg::zeros({kAdamRows, kAdamCols});
    v = mg::zeros({kAdamRows, kAdamCols});
  }
};

mg::kernels::AdamStep adam_step_numbers() {
  mg::kernels::AdamStep s;
  s.c1 = 1.0 - std::pow(s.beta1, 10.0);
  s.c2 = 1.0 - std::pow(s.beta2, 10.0);
  return s;
}

void BM_AdamUpdate(benchmark::State& state) {
  const auto isa = static_cast<mg::kernels::Isa>(state.range(0));
  const std::vector<mg::kernels::Isa> have = mg::kernels::supported_isas();
  if (std::find(have.begin(), have.end(), isa) == have.end()) {
    state.SkipWithError("this CPU lacks the path");
    return;
  }
  const mg::kernels::Isa before = mg::kernels::active_isa();
  mg::kernels::set_active_isa(isa);
  AdamTensors t;
  const mg::kernels::AdamStep s = adam_step_numbers();
  for (auto _ : state) {
    mg::kernels::adam_update(t.theta, t.grad, t.m, t.v, s);
    benchmark::ClobberMemory();
  }
  mg::kernels::set_active_isa(before);
  state.SetLabel(std::string(mg::kernels::isa_name(isa)));
  state.SetItemsProcessed(state.iterations() * kAdamRows * kAdamCols);
}

void BM_AdamScalarLoop(benchmark::State& state) {
  AdamTensors t;
  const mg::kernels::AdamStep s = adam_step_numbers();
  for (auto _ : state) {
    mg::kernels::adam_update_scalar(t.theta, t.grad, t.m, t.v, s);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kAdamRows * kAdamCols);
}

BENCHMARK(BM_AdamScalarLoop);
BENCHMARK(BM_AdamUpdate)->Arg(0)->Arg(1)->Arg(2);

// --- per-op overhead -------------------------------------------------------
// One add of two 1-element tensors: the time is allocation, dispatch and (when
// recording) the tape append; the arithmetic is one float add. The recording
// variant rewinds its TapeScope every kRewindEvery ops so the tape stays
// small; the rewind (and re-binding the two leaves afterwards) is included,
// amortised over those ops.

constexpr int kRewindEvery = 1024;

template <Tensor (*Op)(const Tensor&, const Tensor&)>
void op_overhead_recording(benchmark::State& state) {
  const Tensor a = mg::full({1}, 1.5).requires_grad_(), b = mg::full({1}, 2.5).requires_grad_();
  std::optional<mg::TapeScope> scope;
  scope.emplace();
  if (Op(a, b).node() < 0) state.SkipWithError("the op was not recorded");
  int ops = 0;
  for (auto _ : state) {
    Tensor c = Op(a, b);
    benchmark::DoNotOptimize(c.impl());
    if (++ops == kRewindEvery) {
      scope.reset();
      scope.emplace();
      ops = 0;
    }
  }
}

void BM_OpOverheadRecording(benchmark::State& state) { op_overhead_recording<mg::add>(state); }
// mul saves both inputs for its backward: two more handles kept per node.
void BM_OpOverheadRecordingMul(benchmark::State& state) { op_overhead_recording<mg::mul>(state); }

void BM_OpOverheadNoGrad(benchmark::State& state) {
  const Tensor a = mg::full({1}, 1.5), b = mg::full({1}, 2.5);
  for (auto _ : state) {
    Tensor c = mg::add(a, b);
    benchmark::DoNotOptimize(c.impl());
  }
}

BENCHMARK(BM_OpOverheadRecording)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_OpOverheadRecordingMul)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_OpOverheadNoGrad)->Unit(benchmark::kNanosecond);

// --- a small model ---------------------------------------------------------
// The sinusoid regressor of MAML §5.1: 1-40-40-1 with ReLU, a batch of 10
// points, MSE loss; one step is forward, grad() of the 6 parameters, rewind.

struct SinusoidMlp {
  std::vector<Tensor> params;
  explicit SinusoidMlp(mg::Generator& gen) {
    auto init = [&](const mg::Shape& s, double scale) { return (mg::randn(s, gen) * scale).requires_grad_(); };
    params = {init({1, 40}, 1.0), init({40}, 0.0), init({40, 40}, 0.16), init({40}, 0.0), init({40, 1}, 0.16),
              init({1}, 0.0)};
  }
  Tensor operator()(const Tensor& x) const {
    const Tensor h1 = mg::relu(mg::matmul(x, params[0]) + params[1]);
    const Tensor h2 = mg::relu(mg::matmul(h1, params[2]) + params[3]);
    return mg::matmul(h2, params[4]) + params[5];
  }
};

void BM_BackwardSmallMLP(benchmark::State& state) {
  mg::Generator gen(7);
  const SinusoidMlp net(gen);
  const Tensor x = mg::uniform({10, 1}, -5.0, 5.0, gen);
  const Tensor y = mg::uniform({10, 1}, -1.0, 1.0, gen);
  std::int64_t nodes = 0;
  for (auto _ : state) {
    const mg::TapeScope scope;
    const Tensor loss = mg::mse_loss(net(x), y);
    std::vector<Tensor> grads = mg::grad({loss}, net.params);
    nodes = mg::Tape::current().size();
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  // Tape nodes per step (6 parameter leaves included), to relate the step to the per-op cost.
  state.counters["nodes"] = static_cast<double>(nodes);
}

BENCHMARK(BM_BackwardSmallMLP)->Unit(benchmark::kMicrosecond);

// --- summary ---------------------------------------------------------------
// The console reporter, plus a note of each benchmark's time per iteration and
// FLOPS (the median when repeated), for the ratio table printed at the end.

struct OpsEntry {
  double real = 0.0, cpu = 0.0, flops = 0.0;  // seconds per iteration, FLOP/s
  double paired = 0.0;                         // BM_MatmulPaired*: median t_raw / t_mg
};

class SummaryReporter : public mg::bench::TableReporter<OpsEntry> {
 public:
  using TableReporter::TableReporter;
  OpsEntry entry(const Run& run) const override {
    return {real_seconds(run), cpu_seconds(run), counter(run, "FLOPS"), counter(run, "mg/raw")};
  }

  void print_summary() const {
    std::FILE* out = stdout;
    std::fprintf(out, "\nsummary (median when repeated; GFLOP/s per CPU-second)\n");
    std::fprintf(out, "%-24s %12s %12s %8s %14s\n", "matmul f32 [n, blas]", "mg GFLOP/s", "raw GFLOP/s", "mg/raw",
                 "mg/raw (wall)");
    for (const char* phase : {"Forward", "Backward"}) {
      const std::string raw = std::string(phase) == "Forward" ? "BM_RawSgemm" : "BM_RawSgemmBackward";
      for (const auto& [key, e] : entries_) {
        const std::string prefix = std::string("BM_Matmul") + phase + "/";
        if (key.rfind(prefix, 0) != 0) continue;
        const std::string args = key.substr(prefix.size());
        const auto r = entries_.find(raw + "/" + args);
        if (r == entries_.end() || r->second.flops <= 0) continue;
        // Same FLOPs per iteration, so the wall-clock ratio is the inverse ratio of the times.
        std::fprintf(out, "%-24s %12.2f %12.2f %8.3f %14.3f\n", (std::string(phase) + " " + args).c_str(),
                     e.flops / 1e9, r->second.flops / 1e9, e.flops / r->second.flops, r->second.real / e.real);
      }
    }
    for (const char* phase : {"Forward", "Backward"}) {
      const std::string prefix = std::string("BM_MatmulPaired") + phase + "/";
      for (const auto& [key, e] : entries_)
        if (key.rfind(prefix, 0) == 0)
          std::fprintf(out, "%-24s paired median t_raw/t_mg %.3f\n",
                       (std::string(phase) + " " + key.substr(prefix.size())).c_str(), e.paired);
    }
    for (const char* name : {"BM_OpOverheadRecording", "BM_OpOverheadRecordingMul", "BM_OpOverheadNoGrad"}) {
      const auto it = entries_.find(std::string(name) + "/");
      if (it != entries_.end())
        std::fprintf(out, "%-27s %8.1f ns/op cpu (%.1f real)\n", name, it->second.cpu * 1e9, it->second.real * 1e9);
    }
    const auto mlp = entries_.find("BM_BackwardSmallMLP/");
    if (mlp != entries_.end())
      std::fprintf(out, "%-27s %8.2f us/step cpu (%.2f real)\n", "BM_BackwardSmallMLP", mlp->second.cpu * 1e6,
                   mlp->second.real * 1e6);
    std::fflush(out);
  }
};

}  // namespace

int main(int argc, char** argv) { return mg::bench::run_benchmarks<SummaryReporter>(argc, argv); }
