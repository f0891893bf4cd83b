// Convolution benchmarks (issue 3): conv2d forward+backward on the Omniglot
// conv4 layer shapes, next to the raw GEMMs that conv2d does, in the same run;
// and one forward+backward step of the whole Omniglot conv4 on a 5-way 1-shot
// episode with 15 queries per class (5 + 75 = 80 images, 28×28×1), first order
// and as one second-order MAML task; and batch norm's per-channel kernels.
//
//   ./build/bench/bench_conv --benchmark_min_time=0.5
//
// conv2d = im2col + one GEMM over the batch (autograd/ops_vision.cpp), or for
// layer 1 (C·3·3 = 9 < OH·OW = 784) one GEMM per image on per-image columns with
// the bias folded in as a row of ones (Note [conv2d layout]). With
// M = filters, K = C·3·3, N = batch·OH·OW:
//   forward   W[M,K] @ cols[K,N]                    2MKN flops
//   backward  dW = G[M,N] @ colsᵀ, dcols = Wᵀ @ G   2MKN each (dcols only when x needs a gradient)
// The raw benchmarks make the same GEMM calls with the same shapes and transposes
// into preallocated buffers, through the fastest sgemm available (metagrad's own,
// autograd/kernels/sgemm.h, when the CPU has AVX-512 — the one conv2d uses — else
// cblas_sgemm); conv2d additionally pays for im2col, col2im, the NCHW permutes, the
// bias and its reduction, allocation and the tape. FLOPS count only the GEMM flops
// in both, so conv/raw is the fraction of GEMM speed kept.
//
// BM_Conv2dPaired (issue 3's target, conv2d forward+backward >= 70 % of raw GEMM
// GFLOP/s) does, in every iteration, one conv2d forward+backward, the raw GEMMs with
// that sgemm, and the raw GEMMs with cblas_sgemm (for reference), in rotating order,
// each timed on the thread's CPU clock; its counters are the medians over iterations
// of each rate and of the ratios t_raw / t_conv ("conv/raw") and t_cblas / t_conv.
// BLAS runs on one thread (the "blas" argument) and times are CPU times.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/grad.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/channel.h"
#include "autograd/kernels/im2col.h"
#include "autograd/kernels/sgemm.h"
#include "autograd/ops.h"
#include "autograd/tape.h"
#include "autograd/vision.h"
#include "bench/bench_main.h"
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

double layer_flops(const Layer& l, bool backward) {
  const double one = gemm_of(l).flops();
  return backward ? one * (l.input_grad ? 3.0 : 2.0) : one;
}

// --- raw GEMMs -------------------------------------------------------------

using SgemmFn = void (*)(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int);

// The fastest raw sgemm here: metagrad's own when the CPU has AVX-512 (as matmul uses), else cblas.
SgemmFn fastest_sgemm() { return mg::kernels::sgemm_supported() ? mg::kernels::sgemm : mg::kernels::sgemm_cblas; }

// The GEMMs conv2d does for one layer, on preallocated operands.
class RawGemms {
 public:
  explicit RawGemms(const Layer& l) : l_(l), g_(gemm_of(l)) {
    mg::Generator gen(1);
    w_ = mg::randn({g_.m, g_.k}, gen);
    cols_ = mg::randn({g_.k, g_.n}, gen);
    grad_ = mg::randn({g_.m, g_.n}, gen);
    y_ = mg::zeros({g_.m, g_.n});
    dw_ = mg::zeros({g_.m, g_.k});
    dcols_ = mg::zeros({g_.k, g_.n});
  }
  void run(SgemmFn gemm, bool backward) {
    gemm(false, false, g_.m, g_.n, g_.k, 1.0f, w_.data<float>(), g_.k, cols_.data<float>(), g_.n, 0.0f,
         y_.mutable_data<float>(), g_.n);
    if (backward) {
      gemm(false, true, g_.m, g_.k, g_.n, 1.0f, grad_.data<float>(), g_.n, cols_.data<float>(), g_.n, 0.0f,
           dw_.mutable_data<float>(), g_.k);
      if (l_.input_grad)
        gemm(true, false, g_.k, g_.n, g_.m, 1.0f, w_.data<float>(), g_.k, grad_.data<float>(), g_.n, 0.0f,
             dcols_.mutable_data<float>(), g_.n);
    }
    benchmark::DoNotOptimize(y_.raw_data());
    benchmark::DoNotOptimize(dw_.raw_data());
    benchmark::DoNotOptimize(dcols_.raw_data());
    benchmark::ClobberMemory();
  }

 private:
  Layer l_;
  Gemm g_;
  Tensor w_, cols_, grad_, y_, dw_, dcols_;
};

void raw_gemms(benchmark::State& state, bool backward) {
  const Layer& l = kLayers[state.range(0) - 1];
  const mg::bench::BlasThreads threads(state.range(1));
  RawGemms gemms(l);
  const SgemmFn gemm = fastest_sgemm();
  for (auto _ : state) gemms.run(gemm, backward);
  mg::bench::set_flops(state, layer_flops(l, backward));
}
void BM_RawSgemmForward(benchmark::State& state) { raw_gemms(state, false); }
void BM_RawSgemmFwdBwd(benchmark::State& state) { raw_gemms(state, true); }

// --- conv2d ----------------------------------------------------------------

// A conv2d layer with its inputs; step() is one forward (and backward) on a fresh tape.
class ConvStep {
 public:
  explicit ConvStep(const Layer& l) : l_(l) {
    mg::Generator gen(2);
    x_ = mg::randn({kBatch, l.c, l.side, l.side}, gen);
    if (l.input_grad) x_.requires_grad_();
    w_ = (mg::randn({kFilters, l.c, 3, 3}, gen) * 0.1).detach().requires_grad_();
    b_ = mg::zeros({kFilters}).requires_grad_();
    seed_ = mg::randn({kBatch, kFilters, l.side, l.side}, gen);
    wrt_ = {w_, b_};
    if (l.input_grad) wrt_.push_back(x_);
  }
  void step(bool backward) {
    const mg::TapeScope scope;
    const Tensor y = mg::conv2d(x_, w_, b_, 1, 1);
    if (backward) {
      std::vector<Tensor> grads = mg::grad({y}, wrt_, {.grad_outputs = {seed_}});
      benchmark::DoNotOptimize(grads[0].raw_data());
    }
    benchmark::DoNotOptimize(y.raw_data());
  }

 private:
  Layer l_;
  Tensor x_, w_, b_, seed_;
  std::vector<Tensor> wrt_;
};

void conv(benchmark::State& state, bool backward) {
  const Layer& l = kLayers[state.range(0) - 1];
  const mg::bench::BlasThreads threads(state.range(1));
  ConvStep conv_step(l);
  for (auto _ : state) conv_step.step(backward);
  mg::bench::set_flops(state, layer_flops(l, backward));
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

// --- conv2d and raw GEMMs paired (forward + backward) -------------------------


void BM_Conv2dPaired(benchmark::State& state) {
  const Layer& l = kLayers[state.range(0) - 1];
  const mg::bench::BlasThreads threads(state.range(1));
  ConvStep conv_step(l);
  RawGemms gemms(l);
  const SgemmFn raw = fastest_sgemm();
  const double flops = layer_flops(l, true);
  std::vector<double> conv_rate, raw_rate, cblas_rate, conv_over_raw, conv_over_cblas;
  int rotation = 0;
  for (auto _ : state) {
    double t[3] = {};  // conv, raw, cblas
    for (int slot = 0; slot < 3; ++slot) {
      const int which = (slot + rotation) % 3;
      const double t0 = mg::bench::thread_seconds();
      if (which == 0)
        conv_step.step(true);
      else
        gemms.run(which == 1 ? raw : mg::kernels::sgemm_cblas, true);
      t[which] = mg::bench::thread_seconds() - t0;
    }
    rotation = (rotation + 1) % 3;
    conv_rate.push_back(flops / t[0] / 1e9);
    raw_rate.push_back(flops / t[1] / 1e9);
    cblas_rate.push_back(flops / t[2] / 1e9);
    conv_over_raw.push_back(t[1] / t[0]);
    conv_over_cblas.push_back(t[2] / t[0]);
  }
  state.counters["conv_GFLOPS"] = mg::bench::median(conv_rate);
  state.counters["raw_GFLOPS"] = mg::bench::median(raw_rate);
  state.counters["cblas_GFLOPS"] = mg::bench::median(cblas_rate);
  state.counters["conv/raw"] = mg::bench::median(conv_over_raw);
  state.counters["conv/cblas"] = mg::bench::median(conv_over_cblas);
}
BENCHMARK(BM_Conv2dPaired)->Apply(layer_args)->MinTime(1.0);

// --- the whole network -----------------------------------------------------
// Forward, cross-entropy, grad() of every parameter: one (first-order) step of
// the Omniglot conv4 on an 80-image episode batch.

void BM_Conv4Step(benchmark::State& state) {
  const mg::bench::BlasThreads threads(state.range(0));
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
  mg::bench::set_flops(state, flops);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Conv4Step)->ArgName("blas")->Arg(1)->Unit(benchmark::kMillisecond);

// One second-order MAML task on the same episode: an inner SGD step on the 5
// support images recorded with create_graph (θ' = θ - α∇L_support(θ), α = 0.4 as
// in MAML's Omniglot runs), then the query loss at θ' on the 75 queries
// differentiated back to θ, through the inner gradient.
void BM_Conv4MamlTask(benchmark::State& state) {
  const mg::bench::BlasThreads threads(state.range(0));
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

// --- batch norm's channel kernels ------------------------------------------
// The per-channel passes of batch norm (autograd/kernels/channel.h) over a conv4
// task's activations, [80, 64, S, S] float32 with S the second argument (28: the
// max-pool net's first layer, 16 MB; 14 and 7: the strided net's). First argument:
// 0 channel_moments (two passes), 1 channel_dot, 2 channel_sum, 3 channel_affine,
// 4 channel_affine2. Bytes processed count each input value once.

void BM_ChannelKernel(benchmark::State& state) {
  mg::Generator gen(3);
  const std::int64_t side = state.range(1);
  const Tensor a = mg::randn({kBatch, 64, side, side}, gen), b = mg::randn({kBatch, 64, side, side}, gen);
  const Tensor s = mg::randn({64}, gen), t = mg::randn({64}, gen), c = mg::randn({64}, gen);
  const char* names[] = {"moments", "dot", "sum", "affine", "affine2"};
  const std::int64_t inputs[] = {1, 2, 1, 1, 2};
  const std::int64_t kernel = state.range(0);
  for (auto _ : state) {
    Tensor out;
    switch (kernel) {
      case 0: out = mg::kernels::channel_moments(a); break;
      case 1: out = mg::kernels::channel_dot(a, b); break;
      case 2: out = mg::kernels::channel_sum(a); break;
      case 3: out = mg::kernels::channel_affine(a, s, t); break;
      default: out = mg::kernels::channel_affine2(a, s, b, t, c); break;
    }
    benchmark::DoNotOptimize(out.raw_data());
  }
  state.SetLabel(names[kernel]);
  state.SetBytesProcessed(state.iterations() * inputs[kernel] * a.nbytes());
}

BENCHMARK(BM_ChannelKernel)->ArgsProduct({{0, 1, 2, 3, 4}, {28, 14, 7}})->Unit(benchmark::kMicrosecond);

// im2col (arg 0 = 0) and col2im (1) of the strided conv4's layers (3x3, stride 2,
// padding 1; arg 1 = the input side: 28, 14, 7, 4; 1 channel at 28, 64 after), batch 80,
// the folded layout: the row loops of Note [im2col by rows].
void BM_Im2colStrided(benchmark::State& state) {
  mg::kernels::ConvGeometry g;
  g.h = g.w = static_cast<std::int32_t>(state.range(1));
  g.n = static_cast<std::int32_t>(kBatch), g.c = g.h == 28 ? 1 : 64;
  g.kh = g.kw = 3, g.sh = g.sw = 2, g.ph = g.pw = 1;
  mg::Generator gen(4);
  const Tensor x = mg::randn(g.image_shape(), gen), cols = mg::randn(g.cols_shape(), gen);
  const bool adjoint = state.range(0) == 1;
  for (auto _ : state) {
    const Tensor out = adjoint ? mg::kernels::col2im(cols, g) : mg::kernels::im2col(x, g);
    benchmark::DoNotOptimize(out.raw_data());
  }
  state.SetLabel(adjoint ? "col2im" : "im2col");
  state.SetItemsProcessed(state.iterations() * g.cols_shape().numel());
}

BENCHMARK(BM_Im2colStrided)->ArgsProduct({{0, 1}, {28, 14, 7, 4}})->Unit(benchmark::kMicrosecond);

// --- summary ---------------------------------------------------------------
// Console output plus, at the end, conv2d GFLOP/s over raw sgemm GFLOP/s per layer
// (medians when --benchmark_repetitions is given).

struct ConvEntry {
  double flops = 0.0, seconds = 0.0;
  double paired[5] = {};  // BM_Conv2dPaired: conv, raw, cblas GFLOP/s; conv/raw, conv/cblas
};

class SummaryReporter : public mg::bench::TableReporter<ConvEntry> {
 public:
  using TableReporter::TableReporter;
  ConvEntry entry(const Run& run) const override {
    return {counter(run, "FLOPS"), cpu_seconds(run),
            {counter(run, "conv_GFLOPS"), counter(run, "raw_GFLOPS"), counter(run, "cblas_GFLOPS"),
             counter(run, "conv/raw"), counter(run, "conv/cblas")}};
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
    std::printf("\npaired, forward + backward (sgemm %s; medians over iterations)\n", mg::kernels::sgemm_backend());
    std::printf("%-30s %10s %10s %10s %8s %10s\n", "layer/blas", "conv GF/s", "raw GF/s", "cblas GF/s", "conv/raw",
                "conv/cblas");
    for (const auto& [key, e] : entries_)
      if (key.rfind("BM_Conv2dPaired/", 0) == 0)
        std::printf("%-30s %10.1f %10.1f %10.1f %8.3f %10.3f\n", key.substr(16).c_str(), e.paired[0],
                    e.paired[1], e.paired[2], e.paired[3], e.paired[4]);
    for (const auto& [key, e] : entries_)
      if (key.rfind("BM_Conv4MamlTask/", 0) == 0)
        std::printf("%-30s %10.2f ms/task (second order, 5 support + 75 query)\n", key.c_str(), e.seconds * 1e3);
    for (const auto& [key, e] : entries_)
      if (key.rfind("BM_Conv4Step/", 0) == 0)
        std::printf("%-30s %10.2f ms/step  %8.0f images/s  %6.1f GEMM GF/s\n", key.c_str(), e.seconds * 1e3,
                    static_cast<double>(kBatch) / e.seconds, e.flops / 1e9);
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) { return mg::bench::run_benchmarks<SummaryReporter>(argc, argv); }
