// torch_ref_cpp: the PyTorch reference of bench_meta in C++ (libtorch), issue 14.
//
//   torch_ref_cpp --workload sinusoid|omniglot|omniglot_strided|miniimagenet
//                 --algo maml|fomaml|reptile --steps K --threads T
//                 [--warmup W] [--iters N] [--max-seconds S] [--json]
//
// The same workloads, algorithms and hyper-parameters as bench/bench_meta.cpp and
// bench/torch_ref.py, with bench_meta's command line and one-line output, so that
// bench/side_by_side.py can put a "libtorch" column next to the Python ones: the
// same ATen kernels as `torch_ref.py --form loop`, without the Python interpreter
// between the ops. It is the loop form (one task after another, each task's
// meta-gradient on its own, summed), read next to the MAML paper (Finn, Abbeel &
// Levine 2017, Algorithm 2) and Reptile (Nichol et al. 2018, Algorithm 2):
//
//   maml     θ'ᵢ = θ − α∇L_sᵢ(θ) k times, with create_graph, so the outer
//            gradient ∇_θ (1/n) Σᵢ L_qᵢ(θ'ᵢ) holds the second-order term;
//   fomaml   the same with the inner gradients as constants (dθ'ᵢ/dθ = I);
//   both     then θ ← Adam_β(θ, meta-gradient);
//   reptile  Wᵢ = k plain SGD steps (α) from θ on the support set,
//            θ ← θ + ε (mean Wᵢ − θ), ε = 1; the Wᵢ are also evaluated on the
//            query set (no gradient), as metagrad's Reptile::step does.
// The loss is the mean over the tasks; batch-norm always uses the current batch's
// statistics. Symbols: theta (θ), inner_lr (α), outer_lr (β), epsilon (ε).
//
// Threads: torch::set_num_threads(T) sizes ATen's intra-op pool (the inter-op
// pool gets 1); OpenBLAS's own pool is fixed when the library loads, so the
// runner sets OPENBLAS_NUM_THREADS in the environment. Only the shapes of the
// data matter for speed: the tasks are random (sinusoid: the MAML paper's task
// distribution; images: U[0, 1) pixels), drawn before any timing and cycled.
//
// Output, one line on stdout (progress on stderr), the keys of bench_meta's:
//   {"workload":"sinusoid","algo":"maml","steps":1,"threads":1,"its_per_s":812.3,
//    "median_s":0.00123,"timed_iters":200,"peak_rss_mb":80.1,"gflops":null}
// gflops is null: libtorch has no GEMM counter (side_by_side.py counts FLOPs
// analytically for every column). Bad arguments: one line on stderr, status 2.
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bench/bench_run.h"

namespace {

using torch::Tensor;
using Params = std::vector<Tensor>;

constexpr std::uint64_t kSeed = 1;
constexpr double kBatchNormEps = 1e-5;

// A task: support (xs, ys) and query (xq, yq).
struct Task {
  Tensor xs, ys, xq, yq;
};

// Everything that differs between the workloads (values as in bench_meta.cpp).
struct Workload {
  std::string name;
  int meta_batch = 0;
  double inner_lr = 0.0;  // α
  double outer_lr = 1e-3;  // β
  int default_warmup = 1;
  int default_iters = 3;
  std::size_t max_batches = 2;
  bool regression = false;  // the sinusoid MLP; otherwise a conv4 classifier
  // conv4: 4 × [conv 3×3 `channels` pad 1 (stride 2 if strided), batch-norm, ReLU, (max-pool 2 if not strided)]
  std::int64_t in_channels = 1, side = 28, channels = 64;
  bool strided = false;
  std::int64_t ways = 5, shots = 1, queries = 15;
};

Workload workload(const std::string& name) {
  Workload w;
  w.name = name;
  if (name == "sinusoid") {
    w.meta_batch = 25, w.inner_lr = 0.01, w.default_warmup = 2, w.default_iters = 200, w.max_batches = 256;
    w.regression = true;
  } else if (name == "omniglot" || name == "omniglot_strided") {
    w.meta_batch = 32, w.inner_lr = 0.4, w.strided = name == "omniglot_strided";
  } else if (name == "miniimagenet") {
    w.meta_batch = 4, w.inner_lr = 0.01, w.in_channels = 3, w.side = 84, w.channels = 32;
  } else {
    throw std::invalid_argument("unknown workload " + name);
  }
  return w;
}

constexpr int kBlocks = 4;

std::int64_t feature_side(const Workload& w) {
  std::int64_t side = w.side;
  for (int b = 0; b < kBlocks; ++b) side = w.strided ? (side - 1) / 2 + 1 : side / 2;
  return side;
}

// U(-bound, bound), as PyTorch's default Linear / Conv2d initialisation with bound = 1/sqrt(fan_in).
Tensor uniform(at::IntArrayRef shape, double bound, at::Generator& gen) {
  return torch::rand(shape, gen) * (2 * bound) - bound;
}

// Parameters in the order of torch_ref.py: sinusoid [W1, b1, W2, b2, W3, b3];
// conv4 per block [conv W, conv b, bn gamma, bn beta], then [W, b] of the linear layer.
Params init_params(const Workload& w, at::Generator& gen) {
  Params p;
  const auto linear = [&](std::int64_t fan_in, std::int64_t fan_out) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    p.push_back(uniform({fan_out, fan_in}, bound, gen));
    p.push_back(uniform({fan_out}, bound, gen));
  };
  if (w.regression) {
    linear(1, 40), linear(40, 40), linear(40, 1);
  } else {
    std::int64_t in = w.in_channels;
    for (int b = 0; b < kBlocks; ++b) {
      const double bound = 1.0 / std::sqrt(static_cast<double>(in * 9));
      p.push_back(uniform({w.channels, in, 3, 3}, bound, gen));
      p.push_back(uniform({w.channels}, bound, gen));
      p.push_back(torch::ones({w.channels}));
      p.push_back(torch::zeros({w.channels}));
      in = w.channels;
    }
    linear(w.channels * feature_side(w) * feature_side(w), w.ways);
  }
  for (auto& t : p) t.set_requires_grad(true);
  return p;
}

Task sample_task(const Workload& w, at::Generator& gen) {
  Task t;
  if (w.regression) {
    // y = A sin(x − φ), A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[−5, 5]; 10 support and 10 query points.
    const double amplitude = 0.1 + 4.9 * torch::rand({}, gen).item<double>();
    const double phase = M_PI * torch::rand({}, gen).item<double>();
    const auto points = [&](Tensor& x, Tensor& y) {
      x = torch::rand({10, 1}, gen) * 10.0 - 5.0;
      y = amplitude * torch::sin(x - phase);
    };
    points(t.xs, t.ys);
    points(t.xq, t.yq);
    return t;
  }
  // Class-major labels: per_class 0s, then per_class 1s, …
  const auto labels = [&](std::int64_t per_class) { return torch::arange(w.ways).repeat_interleave(per_class); };
  t.xs = torch::rand({w.ways * w.shots, w.in_channels, w.side, w.side}, gen);
  t.ys = labels(w.shots);
  t.xq = torch::rand({w.ways * w.queries, w.in_channels, w.side, w.side}, gen);
  t.yq = labels(w.queries);
  return t;
}

// The network with explicit parameters (the functional form MAML needs).
Tensor forward(const Workload& w, const Params& p, const Tensor& x) {
  if (w.regression) {
    Tensor h = torch::relu(torch::linear(x, p[0], p[1]));
    h = torch::relu(torch::linear(h, p[2], p[3]));
    return torch::linear(h, p[4], p[5]);
  }
  Tensor h = x;
  for (std::size_t b = 0; b < kBlocks; ++b) {
    const Params::const_iterator q = p.begin() + static_cast<std::ptrdiff_t>(4 * b);
    h = torch::conv2d(h, q[0], q[1], /*stride=*/w.strided ? 2 : 1, /*padding=*/1);
    h = torch::batch_norm(h, q[2], q[3], /*running_mean=*/{}, /*running_var=*/{}, /*training=*/true,
                          /*momentum=*/0.1, kBatchNormEps, /*cudnn_enabled=*/false);
    h = torch::relu(h);
    if (!w.strided) h = torch::max_pool2d(h, 2);
  }
  return torch::linear(h.flatten(1), p[p.size() - 2], p[p.size() - 1]);
}

// Mean squared error, or cross-entropy = mean negative log-likelihood of the log-softmax.
Tensor loss(const Workload& w, const Tensor& out, const Tensor& y) {
  if (w.regression) return torch::mse_loss(out, y);
  return torch::nll_loss(torch::log_softmax(out, 1), y);
}

// θ' after k SGD steps on (x, y); with second_order the inner gradients are recorded.
Params adapt(const Workload& w, const Params& theta, const Tensor& x, const Tensor& y, int steps, bool second_order) {
  Params theta_i = theta;
  for (int s = 0; s < steps; ++s) {
    const Tensor support_loss = loss(w, forward(w, theta_i, x), y);
    const Params grads = torch::autograd::grad({support_loss}, theta_i, /*grad_outputs=*/{},
                                               /*retain_graph=*/second_order, /*create_graph=*/second_order);
    for (std::size_t j = 0; j < theta_i.size(); ++j) theta_i[j] = theta_i[j] - w.inner_lr * grads[j];
  }
  return theta_i;
}

class MetaLearner {
 public:
  MetaLearner(const Workload& w, std::string algo, int steps, Params theta)
      : w_(w), algo_(std::move(algo)), steps_(steps), theta_(std::move(theta)) {
    if (algo_ != "reptile") outer_ = std::make_unique<torch::optim::Adam>(theta_, torch::optim::AdamOptions(w_.outer_lr));
  }

  // One meta-step on a batch of tasks; returns the mean query loss.
  double step(const std::vector<Task>& tasks) { return algo_ == "reptile" ? reptile_step(tasks) : maml_step(tasks); }

 private:
  double maml_step(const std::vector<Task>& tasks) {
    Params total;
    for (const auto& p : theta_) total.push_back(torch::zeros_like(p));
    double query_losses = 0.0;
    for (const Task& t : tasks) {
      const Params theta_i = adapt(w_, theta_, t.xs, t.ys, steps_, /*second_order=*/algo_ == "maml");
      const Tensor query_loss = loss(w_, forward(w_, theta_i, t.xq), t.yq);
      const Params grads = torch::autograd::grad({query_loss}, theta_);
      for (std::size_t j = 0; j < total.size(); ++j) total[j].add_(grads[j]);
      query_losses += query_loss.item<double>();
    }
    const double n = static_cast<double>(tasks.size());
    for (std::size_t j = 0; j < theta_.size(); ++j) theta_[j].mutable_grad() = total[j] / n;
    outer_->step();
    return query_losses / n;
  }

  double reptile_step(const std::vector<Task>& tasks, double epsilon = 1.0) {
    Params total;
    for (const auto& p : theta_) total.push_back(torch::zeros_like(p));
    double query_losses = 0.0;
    for (const Task& t : tasks) {
      Params w;
      for (const auto& p : theta_) w.push_back(p.detach().clone().set_requires_grad(true));
      for (int s = 0; s < steps_; ++s) {
        const Tensor support_loss = loss(w_, forward(w_, w, t.xs), t.ys);
        const Params grads = torch::autograd::grad({support_loss}, w);
        const torch::NoGradGuard no_grad;
        for (std::size_t j = 0; j < w.size(); ++j) w[j].sub_(w_.inner_lr * grads[j]);
      }
      const torch::NoGradGuard no_grad;
      query_losses += loss(w_, forward(w_, w, t.xq), t.yq).item<double>();
      for (std::size_t j = 0; j < total.size(); ++j) total[j].add_(w[j]);
    }
    const double n = static_cast<double>(tasks.size());
    const torch::NoGradGuard no_grad;
    for (std::size_t j = 0; j < theta_.size(); ++j) theta_[j].add_(epsilon * (total[j] / n - theta_[j]));
    return query_losses / n;
  }

  Workload w_;
  std::string algo_;
  int steps_;
  Params theta_;
  std::unique_ptr<torch::optim::Adam> outer_;
};

using Config = mg::bench::RunConfig;

struct Result {
  double median_s = 0.0;
  int timed_iters = 0;
  double peak_rss_mb = 0.0;
};

Result run(const Config& c) {
  const Workload w = workload(c.workload);
  const int warmup = c.warmup >= 0 ? c.warmup : w.default_warmup;
  const int iters = c.iters > 0 ? c.iters : w.default_iters;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(kSeed);
  MetaLearner learner(w, c.algo, c.steps, init_params(w, gen));

  const std::size_t n_batches = std::min(static_cast<std::size_t>(warmup + iters), w.max_batches);
  fmt::print(stderr, "torch_ref_cpp: sampling {} batches of {} tasks\n", n_batches, w.meta_batch);
  std::vector<std::vector<Task>> batches(n_batches);
  for (auto& batch : batches)
    for (int i = 0; i < w.meta_batch; ++i) batch.push_back(sample_task(w, gen));

  const std::vector<double> seconds = mg::bench::time_iterations(
      "torch_ref_cpp", warmup, iters, c.max_seconds,
      [&](int it) { learner.step(batches[static_cast<std::size_t>(it) % n_batches]); }, [] {});
  return {.median_s = mg::bench::median(seconds),
          .timed_iters = static_cast<int>(seconds.size()),
          .peak_rss_mb = mg::bench::peak_rss_mb()};
}

std::string format_result(const Config& c, const Result& r) {
  const double its_per_s = 1.0 / r.median_s;
  if (c.json)  // no FLOP count on this side: null
    return mg::bench::json_row(c, r.median_s, r.timed_iters, r.peak_rss_mb, std::numeric_limits<double>::quiet_NaN());
  return fmt::format("{} {} steps={} threads={}: {:.4g} it/s (median {:.4g} s over {}), peak RSS {:.1f} MB", c.workload,
                     c.algo, c.steps, c.threads, its_per_s, r.median_s, r.timed_iters, r.peak_rss_mb);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "torch_ref_cpp: bench_meta's workloads and algorithms in libtorch (C++), the loop form of\n"
      "bench/torch_ref.py: one task after another. Same command line and one-line output as bench_meta;\n"
      "gflops is null. torch::set_num_threads(T); OpenBLAS threads come from OPENBLAS_NUM_THREADS."};
  Config c;
  mg::bench::add_run_options(app, c, "torch::set_num_threads (>= 1)");
  if (const auto status = mg::tools::parse_command_line(app, argc, argv, "torch_ref_cpp")) return *status;

  try {
    at::set_num_interop_threads(1);
    torch::set_num_threads(c.threads);
    const Result r = run(c);
    fmt::print("{}\n", format_result(c, r));
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    fmt::print(stderr, "torch_ref_cpp: {}\n", what);
    return 1;
  }
  return 0;
}
