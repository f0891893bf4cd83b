// Convolution benchmarks (issue 3): conv2d forward+backward on the Omniglot
// conv4 layer shapes, next to raw cblas_sgemm on exactly the GEMMs that
// conv2d does, in the same run; and one forward+backward step of the whole
// Omniglot conv4 on a 5-way 1-shot episode with 15 queries per class
// (5 + 75 = 80 images, 28×28×1), first order and as one second-order MAML task.
//
//   ./build/bench/bench_conv --benchmark_min_time=0.5
//
// conv2d = im2col + one GEMM over the batch (autograd/ops_vision.cpp), or for
// layer 1 (C·3·3 = 9 < OH·OW = 784) one GEMM per image on per-image columns with
// the bias folded in as a row of ones (Note [conv2d layout]). With
// M = filters, K = C·3·3, N = batch·OH·OW:
//   forward   W[M,K] @ cols[K,N]                    2MKN flops
//   backward  dW = G[M,N] @ colsᵀ, dcols = Wᵀ @ G   2MKN each (dcols only when x needs a gradient)
// The raw benchmark calls cblas_sgemm with the same shapes and transposes into
// preallocated buffers; conv2d additionally pays for im2col, col2im, the NCHW
// permutes, the bias and its reduction, allocation and the tape. FLOPS count
// only the GEMM flops in both, so conv/raw is the fraction of GEMM speed kept.
// BLAS runs on one thread (the "blas" argument) and times are CPU times.
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/kernels/blas.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "autograd/vision.h"
#include "nn/loss.h"
#include "nn/models.h"

namespace {

using mg::Tensor;

constexpr std::int64_t kBatch = 80;  // 5-way 1-shot + 15 queries per class

// The four convolutions of the Omniglot conv4 (3×3, padding 1, 64 filters, max-pool 2 after each).
struct Layer {
  std::int64_t c, side;
  bool input_grad;  // the first layer reads the images, which need no gradient
};
constexpr Layer kLayers[] = {{1, 28, false}, {64, 14, true}, {64, 7, true}, {64, 3, true}};
constexpr std::int64_t kFilters = 64;

struct Gemm {
  int m, k, n;
  double flops() const { return 2.0 * m * k * n; }
};
Gemm gemm_of(const Layer& l) { return {static_cast<int>(kFilters), static_cast<int>(l.c * 9), static_cast<int>(kBatch * l.side * l.side)}; }

class BlasThreads {
 public:
  explicit BlasThreads(std::int64_t n) { mg::kernels::set_blas_threads(static_cast<int>(n)); }
  ~BlasThreads() { mg::kernels::set_blas_threads(1); }
  BlasThreads(const BlasThreads&) = delete;
  BlasThreads& operator=(const BlasThreads&) = delete;
};

void set_flops(benchmark::State& state, double flops) {
  state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

double layer_flops(const Layer& l, bool backward) {
  const double one = gemm_of(l).flops();
  return backward ? one * (l.input_grad ? 3.0 : 2.0) : one;
}

// --- raw GEMMs -------------------------------------------------------------

void raw_gemms(benchmark::State& state, bool backward) {
  const Layer& l = kLayers[state.range(0) - 1];
  const BlasThreads threads(state.range(1));
  const Gemm g = gemm_of(l);
  mg::Generator gen(1);
  const Tensor w = mg::randn({g.m, g.k}, gen), cols = mg::randn({g.k, g.n}, gen), grad = mg::randn({g.m, g.n}, gen);
  Tensor y = mg::zeros({g.m, g.n}), dw = mg::zeros({g.m, g.k}), dcols = mg::zeros({g.k, g.n});
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.m, g.n, g.k, 1.0f, w.data<float>(), g.k,
                cols.data<float>(), g.n, 0.0f, y.data<float>(), g.n);
    if (backward) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.m, g.k, g.n, 1.0f, grad.data<float>(), g.n,
                  cols.data<float>(), g.n, 0.0f, dw.data<float>(), g.k);
      if (l.input_grad)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g.k, g.n, g.m, 1.0f, w.data<float>(), g.k,
                    grad.data<float>(), g.n, 0.0f, dcols.data<float>(), g.n);
    }
    benchmark::DoNotOptimize(y.raw_data());
    benchmark::DoNotOptimize(dw.raw_data());
    benchmark::DoNotOptimize(dcols.raw_data());
    benchmark::ClobberMemory();
  }
  set_flops(state, layer_flops(l, backward));
}
void BM_RawSgemmForward(benchmark::State& state) { raw_gemms(state, false); }
void BM_RawSgemmFwdBwd(benchmark::State& state) { raw_gemms(state, true); }

// --- conv2d ----------------------------------------------------------------

void conv(benchmark::State& state, bool backward) {
  const Layer& l = kLayers[state.range(0) - 1];
  const BlasThreads threads(state.range(1));
  mg::Generator gen(2);
  Tensor x = mg::randn({kBatch, l.c, l.side, l.side}, gen);
  if (l.input_grad) x.requires_grad_();
  const Tensor w = (mg::randn({kFilters, l.c, 3, 3}, gen) * 0.1).detach().requires_grad_();
  const Tensor b = mg::zeros({kFilters}).requires_grad_();
  const Tensor seed = mg::randn({kBatch, kFilters, l.side, l.side}, gen);
  std::vector<Tensor> wrt = {w, b};
  if (l.input_grad) wrt.push_back(x);
  for (auto _ : state) {
    const mg::TapeScope scope;
    const Tensor y = mg::conv2d(x, w, b, 1, 1);
    if (backward) {
      std::vector<Tensor> grads = mg::grad({y}, wrt, {.grad_outputs = {seed}});
      benchmark::DoNotOptimize(grads[0].raw_data());
    }
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_flops(state, layer_flops(l, backward));
}
void BM_Conv2dForward(benchmark::State& state) { conv(state, false); }
void BM_Conv2dFwdBwd(benchmark::State& state) { conv(state, true); }

// One BLAS thread: times are CPU times, which a shared machine disturbs less than
// wall-clock times (pass a second argument of 2 to try two threads, then add UseRealTime).
void layer_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"layer", "blas"});
  for (int layer = 1; layer <= 4; ++layer) b->Args({layer, 1});
  b->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_RawSgemmForward)->Apply(layer_args);
BENCHMARK(BM_Conv2dForward)->Apply(layer_args);
BENCHMARK(BM_RawSgemmFwdBwd)->Apply(layer_args);
BENCHMARK(BM_Conv2dFwdBwd)->Apply(layer_args);

// --- the whole network -----------------------------------------------------
// Forward, cross-entropy, grad() of every parameter: one (first-order) step of
// the Omniglot conv4 on an 80-image episode batch.

void BM_Conv4Step(benchmark::State& state) {
  const BlasThreads threads(state.range(0));
  mg::Generator gen(3);
  mg::nn::Sequential net = mg::nn::omniglot_conv4(5, gen);
  const Tensor x = mg::uniform({kBatch, 1, 28, 28}, 0.0, 1.0, gen);
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < kBatch; ++i) labels.push_back(i % 5);
  const Tensor y = mg::from_vector(labels, {kBatch});
  const std::vector<Tensor> params = net.parameters();
  for (auto _ : state) {
    const mg::TapeScope scope;
    const Tensor loss = mg::nn::cross_entropy(net.forward(x), y);
    std::vector<Tensor> grads = mg::grad({loss}, params);
    benchmark::DoNotOptimize(grads[0].raw_data());
  }
  double flops = 0;
  for (const Layer& l : kLayers) flops += layer_flops(l, true);
  set_flops(state, flops);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Conv4Step)->ArgName("blas")->Arg(1)->Unit(benchmark::kMillisecond);

// One second-order MAML task on the same episode: an inner SGD step on the 5
// support images recorded with create_graph (θ' = θ - α∇L_support(θ), α = 0.4 as
// in MAML's Omniglot runs), then the query loss at θ' on the 75 queries
// differentiated back to θ, through the inner gradient.
void BM_Conv4MamlTask(benchmark::State& state) {
  const BlasThreads threads(state.range(0));
  mg::Generator gen(4);
  mg::nn::Sequential net = mg::nn::omniglot_conv4(5, gen);
  const Tensor support = mg::uniform({5, 1, 28, 28}, 0.0, 1.0, gen);
  const Tensor query = mg::uniform({kBatch - 5, 1, 28, 28}, 0.0, 1.0, gen);
  std::vector<std::int64_t> labels;
  for (std::int64_t i = 0; i < kBatch; ++i) labels.push_back(i % 5);
  const Tensor ys = mg::from_vector(std::vector<std::int64_t>(labels.begin(), labels.begin() + 5), {5});
  const Tensor yq = mg::from_vector(std::vector<std::int64_t>(labels.begin() + 5, labels.end()), {kBatch - 5});
  const std::vector<Tensor> theta = net.parameters();
  for (auto _ : state) {
    const mg::TapeScope scope;
    const std::vector<Tensor> g =
        mg::grad({mg::nn::cross_entropy(net.forward(support), ys)}, theta, {.create_graph = true});
    std::vector<Tensor> theta_i;
    for (std::size_t k = 0; k < theta.size(); ++k) theta_i.push_back(theta[k] - 0.4 * g[k]);
    std::vector<Tensor> meta = mg::grad({mg::nn::cross_entropy(net.forward(query, theta_i), yq)}, theta);
    benchmark::DoNotOptimize(meta[0].raw_data());
  }
}
BENCHMARK(BM_Conv4MamlTask)->ArgName("blas")->Arg(1)->Unit(benchmark::kMillisecond);

// --- summary ---------------------------------------------------------------
// Console output plus, at the end, conv2d GFLOP/s over raw sgemm GFLOP/s per layer
// (medians when --benchmark_repetitions is given).

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& reports) override {
    ConsoleReporter::ReportRuns(reports);
    for (const Run& run : reports) {
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.error_occurred || (run.run_type == Run::RT_Aggregate && !median)) continue;
      const auto flops = run.counters.find("FLOPS");
      Entry& e = entries_[run.run_name.function_name + "/" + run.run_name.args];
      if (e.median && !median) continue;
      e = {flops == run.counters.end() ? 0.0 : flops->second.value,
           run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit), median};
    }
  }
  void print_summary() const {
    std::printf("\nconv2d vs raw sgemm, Omniglot conv4 layers, batch %lld (median when repeated)\n",
                static_cast<long long>(kBatch));
    std::printf("%-30s %10s %10s %8s\n", "phase layer/blas", "conv GF/s", "raw GF/s", "conv/raw");
    for (const auto& [phase, raw] : {std::pair{"Forward", "BM_RawSgemmForward/"}, std::pair{"FwdBwd", "BM_RawSgemmFwdBwd/"}}) {
      const std::string prefix = std::string("BM_Conv2d") + phase + "/";
      for (const auto& [key, e] : entries_) {
        if (key.rfind(prefix, 0) != 0) continue;
        const std::string args = key.substr(prefix.size());
        const auto r = entries_.find(raw + args);
        if (r == entries_.end() || r->second.flops <= 0) continue;
        std::printf("%-30s %10.1f %10.1f %8.3f\n", (std::string(phase) + " " + args).c_str(), e.flops / 1e9,
                    r->second.flops / 1e9, e.flops / r->second.flops);
      }
    }
    for (const auto& [key, e] : entries_)
      if (key.rfind("BM_Conv4MamlTask/", 0) == 0)
        std::printf("%-30s %10.2f ms/task (second order, 5 support + 75 query)\n", key.c_str(), e.seconds * 1e3);
    for (const auto& [key, e] : entries_)
      if (key.rfind("BM_Conv4Step/", 0) == 0)
        std::printf("%-30s %10.2f ms/step  %8.0f images/s  %6.1f GEMM GF/s\n", key.c_str(), e.seconds * 1e3,
                    static_cast<double>(kBatch) / e.seconds, e.flops / 1e9);
    std::fflush(stdout);
  }

 private:
  struct Entry {
    double flops = 0.0, seconds = 0.0;
    bool median = false;
  };
  std::map<std::string, Entry> entries_;
};

}  // namespace

int main(int argc, char** argv) {
  mg::kernels::set_blas_threads(1);
  benchmark::AddCustomContext("blas", openblas_get_config());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_summary();
  benchmark::Shutdown();
  return 0;
}
