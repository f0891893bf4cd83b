// bench_meta: end-to-end meta-training speed of one configuration (issue 6).
//
//   bench_meta --workload sinusoid|omniglot|omniglot_strided|miniimagenet|nav2d|clinc150
//              --algo maml|fomaml|reptile --steps K --threads T
//              [--warmup W] [--iters N] [--max-seconds S] [--json] [--profile] [--checkpoint-steps]
//              [--parallel auto|tasks|ops]
//   bench_meta --workload nav2d ... --nav-fixture FILE   (writes bench/torch_nav_ref.py --check's fixture)
//   bench_meta --workload clinc150 ... --export DIR      (bench/torch_ref_text.py's inputs and check)
//
// A plain program, not Google Benchmark: a PyTorch implementation of the same
// workloads is run by the same runner with the same flags and the same one-line
// output, so this interface is a contract. It times meta-iterations — one call
// of MetaLearner::step() on one pre-sampled batch of tasks — and reports the
// median over the timed ones, the peak resident memory of the process and the
// GEMM throughput.
//
// The workloads (Finn et al. 2017, §5.1 and §5.2) are described in one place,
// the Workload structs below. All batches are sampled before any timing: one
// per iteration up to 256 for the sinusoid, 2 for the conv nets (Omniglot 8 MB
// each, MiniImageNet 27 MB), used in turn.
//
//   sinusoid  MLP 1-40-40-1 ReLU; K = 10 support + 10 query points per task;
//             meta-batch 25; inner SGD α = 0.01; outer Adam β = 1e-3.
//   omniglot  conv4 (4 × [conv 3×3 64 pad 1, batch-norm with batch statistics,
//             ReLU, max-pool 2], linear to 5); 5-way 1-shot with 15 queries per
//             class; synthetic images U[0, 1) of the real shape [1, 28, 28]
//             from a fixed seed; meta-batch 32; α = 0.4; β = 1e-3.
//   omniglot_strided  the same with the strided conv4 of the README: each
//             block is conv 3×3 64 stride 2 pad 1, batch-norm, ReLU (no pool);
//             28 -> 14 -> 7 -> 4 -> 2, linear from 256 features to 5.
//   miniimagenet  conv4 with 32 filters and max-pool on [3, 84, 84] images
//             (84 -> 42 -> 21 -> 10 -> 5, linear from 800 features to 5);
//             5-way 1-shot, 15 queries per class, random pixels U[0, 1);
//             meta-batch 4; α = 0.01; β = 1e-3 (MAML paper, §5.2).
//   nav2d     meta-RL on 2-D navigation (MAML paper, §5.3; bench/bench_nav.h):
//             metagrad's nav2d defaults, meta-batch 20 × 20 trajectories,
//             horizon 100, REINFORCE inner step α = 0.1, TRPO outer step; maml or
//             fomaml only; each iteration samples its own trajectories.
//   clinc150  the default text model on CLINC150 episodes (bench/text_workload.h);
//             --export DIR writes its θ, batches and a float64 reference loss and
//             meta-gradient for bench/torch_ref_text.py (Note [Feeding PyTorch the same ids]).
// Algorithms: maml (second order), fomaml (first order), reptile (inner SGD at
// the workload's α, K steps, ε = 1, not annealed). T worker threads run the
// tasks of a batch; BLAS runs on 1 thread. --checkpoint-steps (maml only)
// recomputes the inner steps in the meta-backward (meta/checkpointed_adapt.h):
// peak memory that does not grow with K (issue 16, item 4).
//
// Output on stdout, one line (progress goes to stderr):
//   sinusoid maml steps=1 threads=2: 1234.5 it/s (median 0.810 ms over 200), peak RSS 12.3 MB, 3.4 GFLOP/s
// or with --json
//   {"workload":"sinusoid","algo":"maml","steps":1,"threads":2,"its_per_s":1234.5,
//    "median_s":0.00081,"timed_iters":200,"peak_rss_mb":12.3,"gflops":3.4}
// Bad arguments print one line on stderr and exit with status 2.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/kernels/blas.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/profile.h"
#include "datasets/sinusoid.h"
#include "datasets/task.h"
#include "meta/maml.h"
#include "meta/reptile.h"
#include "nn/models.h"
#include "bench/bench_nav.h"
#include "bench/bench_run.h"
#include "bench/text_workload.h"

namespace {

using mg::data::Task;

constexpr std::uint64_t kSeed = 1;  // of the initialisation and of the tasks

// 5-way 1-shot episodes of random pixels U[0, 1) in images of the given shape:
// support [5, C, S, S] with labels 0…4, query [75, C, S, S] with 15 of each
// label, class-major like data::EpisodeSampler. Only the shapes matter for speed.
class SyntheticEpisodes : public mg::data::TaskSource {
 public:
  static constexpr std::int64_t kWays = 5, kShots = 1, kQueries = 15;

  SyntheticEpisodes(std::int64_t channels, std::int64_t side) : channels_(channels), side_(side) {}

  Task sample(std::uint64_t task_index) const override {
    mg::Generator gen = mg::data::task_generator(kSeed, task_index);
    Task task;
    task.support_x = mg::uniform({kWays * kShots, channels_, side_, side_}, 0.0, 1.0, gen);
    task.support_y = labels(kShots);
    task.query_x = mg::uniform({kWays * kQueries, channels_, side_, side_}, 0.0, 1.0, gen);
    task.query_y = labels(kQueries);
    return task;
  }

 private:
  // [kWays · per_class] int64: per_class 0s, then per_class 1s, …
  static mg::Tensor labels(std::int64_t per_class) {
    std::vector<std::int64_t> y;
    for (std::int64_t c = 0; c < kWays; ++c) y.insert(y.end(), static_cast<std::size_t>(per_class), c);
    return mg::from_vector(y, {kWays * per_class});
  }

  std::int64_t channels_;
  std::int64_t side_;
};

// Everything that differs between the workloads.
struct Workload {
  int meta_batch = 0;
  double inner_lr = 0.0;        // α (Reptile's inner SGD step too)
  double outer_lr = 1e-3;       // β of the outer Adam
  int default_warmup = 0;
  int default_iters = 0;
  std::size_t max_batches = 0;  // distinct pre-sampled batches, cycled through
  std::function<mg::meta::Objective()> objective = {};
  std::function<mg::nn::Sequential(mg::Generator&)> model = {};
  std::function<std::unique_ptr<mg::data::TaskSource>()> tasks = {};
  std::int64_t vocab_size = 0;  // text workloads: the tokenizer's id count
};

Workload sinusoid_workload() {
  return {.meta_batch = 25, .inner_lr = 0.01, .outer_lr = 1e-3, .default_warmup = 2, .default_iters = 200,
          .max_batches = 256, .objective = mg::meta::regression,
          .model = [](mg::Generator& gen) { return mg::nn::sinusoid_mlp(gen); },
          .tasks = [] {
            mg::data::SinusoidConfig c;
            c.k_shot = 10;
            c.q_query = 10;
            c.seed = kSeed;
            return std::make_unique<mg::data::SinusoidTasks>(c);
          }};
}

// Omniglot-shaped: conv4 with 64 filters on 28×28×1, max-pool or stride-2 convolutions.
Workload omniglot_workload(bool strided) {
  return {.meta_batch = 32, .inner_lr = 0.4, .outer_lr = 1e-3, .default_warmup = 1, .default_iters = 3,
          .max_batches = 2, .objective = mg::meta::classification,
          .model = [strided](mg::Generator& gen) {
            return mg::nn::omniglot_conv4(SyntheticEpisodes::kWays, gen, strided);
          },
          .tasks = [] { return std::make_unique<SyntheticEpisodes>(1, 28); }};
}

// MiniImageNet-shaped: conv4 with 32 filters and max-pool on 84×84×3 (MAML paper, §5.2).
Workload miniimagenet_workload() {
  return {.meta_batch = 4, .inner_lr = 0.01, .outer_lr = 1e-3, .default_warmup = 1, .default_iters = 3,
          .max_batches = 2, .objective = mg::meta::classification,
          .model = [](mg::Generator& gen) { return mg::nn::miniimagenet_conv4(SyntheticEpisodes::kWays, gen); },
          .tasks = [] { return std::make_unique<SyntheticEpisodes>(3, 84); }};
}

// CLINC150: the default text model, 5-way 1-shot with 15 queries, meta-batch 8, α = 0.4
// (bench/text_workload.h). The data is loaded and tokenized before any timing.
Workload clinc150_workload() {
  const mg::bench::TextWorkloadData data = mg::bench::load_text_workload(kSeed);
  return {.meta_batch = 8, .inner_lr = 0.4, .outer_lr = 1e-3, .default_warmup = 2, .default_iters = 20,
          .max_batches = 8, .objective = mg::meta::classification,
          .model = [vocab = data.vocab_size](mg::Generator& gen) {
            return mg::nn::text_bag_model({.num_ids = vocab}, gen);
          },
          .tasks = [source = data.tasks]() -> std::unique_ptr<mg::data::TaskSource> {
            return std::make_unique<mg::data::TextEpisodeSampler>(*source);
          },
          .vocab_size = data.vocab_size};
}

Workload workload(const std::string& name) {
  if (name == "clinc150") return clinc150_workload();
  if (name == "sinusoid") return sinusoid_workload();
  if (name == "omniglot") return omniglot_workload(/*strided=*/false);
  if (name == "omniglot_strided") return omniglot_workload(/*strided=*/true);
  if (name == "miniimagenet") return miniimagenet_workload();
  throw mg::ValueError(fmt::format("unknown workload '{}'", name));
}

struct Config : mg::bench::RunConfig {
  bool profile = false;           // per-op table of the timed iterations on stderr (1 thread)
  std::string nav_fixture;        // nav2d: write torch_nav_ref.py --check's fixture here instead of timing
  bool checkpoint_steps = false;  // MamlOptions::checkpoint_steps (maml only)
  std::string export_dir = {};    // clinc150: Note [Feeding PyTorch the same ids]
  // tasks: --threads workers over the tasks; ops: over each op's work; auto: ops for the conv nets
  std::string parallel = "auto";
};

std::unique_ptr<mg::meta::MetaLearner> make_learner(const Config& c, const Workload& w, mg::nn::Module& model) {
  if (c.algo == "reptile") {
    mg::meta::ReptileOptions o;
    o.inner_lr = w.inner_lr;
    o.inner_steps = c.steps;
    o.inner_optimizer = mg::meta::InnerOptimizer::Sgd;
    o.epsilon = 1.0;
    o.anneal_iterations = 0;
    o.meta_batch = w.meta_batch;
    o.threads = c.parallel == "ops" ? 1 : c.threads;
    return std::make_unique<mg::meta::Reptile>(model, w.objective(), o);
  }
  mg::meta::MamlOptions o;
  o.inner_lr = w.inner_lr;
  o.outer_lr = w.outer_lr;
  o.inner_steps = c.steps;
  o.first_order = c.algo == "fomaml";
  o.checkpoint_steps = c.checkpoint_steps;
  o.meta_batch = w.meta_batch;
  o.threads = c.parallel == "ops" ? 1 : c.threads;
  return std::make_unique<mg::meta::Maml>(model, w.objective(), o);
}

struct Result {
  double median_s = 0.0;
  int timed_iters = 0;
  double peak_rss_mb = 0.0;
  double gflops = 0.0;
  double timed_s = 0.0;      // wall time of the timed iterations, all together
  double timed_cpu_s = 0.0;  // process CPU time (all threads) over them: a loaded machine inflates only the wall time
};

double process_cpu_s() {
  const rusage u = mg::bench::self_usage();
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
  };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

// One meta-iteration of the configuration, it = 0, 1, …: MetaLearner::step on the
// pre-sampled batches in turn, or nav2d's NavMetaLearner::step(it) (bench/bench_nav.h).
struct Stepper {
  std::function<void(int)> step = {};
  int default_warmup = 1, default_iters = 3;
  // What step() uses, kept alive beside it.
  std::unique_ptr<mg::nn::Sequential> model = {};
  std::unique_ptr<mg::meta::MetaLearner> learner = {};
  std::vector<std::vector<Task>> batches = {};
  std::unique_ptr<mg::bench::NavBench> nav = {};
};

std::unique_ptr<Stepper> make_stepper(const Config& c) {
  auto s = std::make_unique<Stepper>();
  if (c.workload == "nav2d") {
    s->nav = std::make_unique<mg::bench::NavBench>(c.algo, c.steps, c.parallel == "ops" ? 1 : c.threads);
    s->step = [nav = s->nav.get()](int it) { nav->step(it); };
    return s;
  }
  const Workload w = workload(c.workload);
  s->default_warmup = w.default_warmup;
  s->default_iters = w.default_iters;
  mg::Generator gen(kSeed);
  s->model = std::make_unique<mg::nn::Sequential>(w.model(gen));
  s->learner = make_learner(c, w, *s->model);

  const auto source = w.tasks();
  const int warmup = c.warmup >= 0 ? c.warmup : w.default_warmup;
  const int iters = c.iters > 0 ? c.iters : w.default_iters;
  const std::size_t n_batches = std::min(static_cast<std::size_t>(warmup + iters), w.max_batches);
  fmt::print(stderr, "bench_meta: sampling {} batches of {} tasks\n", n_batches, w.meta_batch);
  s->batches.resize(n_batches);
  for (std::size_t b = 0; b < n_batches; ++b)
    s->batches[b] = mg::data::sample_tasks(*source, b * static_cast<std::size_t>(w.meta_batch),
                                           static_cast<std::size_t>(w.meta_batch), c.threads);
  if (!c.export_dir.empty()) {
    mg::bench::export_text_workload(c.export_dir, *s->model, s->batches, w.inner_lr, c.steps, w.meta_batch,
                                    w.vocab_size, kSeed);
    fmt::print(stderr, "bench_meta: wrote {} batches, θ and the float64 check to {}\n", n_batches, c.export_dir);
  }
  s->step = [p = s.get()](int it) {
    p->learner->step(p->batches[static_cast<std::size_t>(it) % p->batches.size()], it);
  };
  return s;
}

Result run(const Config& c) {
  const std::unique_ptr<Stepper> stepper = make_stepper(c);
  const int warmup = c.warmup >= 0 ? c.warmup : stepper->default_warmup;
  const int iters = c.iters > 0 ? c.iters : stepper->default_iters;

  // Note [Two ways to use two cores] (autograd/kernels/worker_pool.h).
  const mg::kernels::OpThreads op_threads(c.parallel == "ops" ? c.threads : 1);
  std::uint64_t flops_before = 0;
  double cpu_before = 0.0;
  std::optional<mg::OpProfiler> profiler;
  const std::vector<double> seconds = mg::bench::time_iterations(
      "bench_meta", warmup, iters, c.max_seconds,
      stepper->step,
      [&] {
        flops_before = mg::kernels::gemm_flop_count();
        cpu_before = process_cpu_s();
        if (c.profile) profiler.emplace();
      });
  double timed_total = 0.0;
  for (const double s : seconds) timed_total += s;
  const std::uint64_t flops = mg::kernels::gemm_flop_count() - flops_before;
  const double cpu = process_cpu_s() - cpu_before;
  if (profiler) fmt::print(stderr, "bench_meta: per-op time of the timed iterations, {}\n", profiler->report().table());

  Result r;
  r.median_s = mg::bench::median(seconds);
  r.timed_iters = static_cast<int>(seconds.size());
  r.peak_rss_mb = mg::bench::peak_rss_mb();
  r.gflops = static_cast<double>(flops) / timed_total * 1e-9;
  r.timed_s = timed_total;
  r.timed_cpu_s = cpu;
  return r;
}

std::string format_result(const Config& c, const Result& r) {
  const double its_per_s = 1.0 / r.median_s;
  if (c.json) return mg::bench::json_row(c, r.median_s, r.timed_iters, r.peak_rss_mb, r.gflops);
  const std::string median = r.median_s >= 1.0 ? fmt::format("{:.2f} s", r.median_s)
                                               : fmt::format("{:.3f} ms", r.median_s * 1e3);
  // Omniglot runs at a few hundredths of an iteration per second: keep 3 digits of those.
  const std::string rate = its_per_s >= 10.0 ? fmt::format("{:.1f}", its_per_s) : fmt::format("{:.3g}", its_per_s);
  return fmt::format(
      "{} {} steps={} threads={} ({}){}: {} it/s (median {} over {}), peak RSS {:.1f} MB, {:.1f} GFLOP/s", c.workload,
      c.algo, c.steps, c.threads, c.parallel, c.checkpoint_steps ? " checkpointed" : "", rate, median, r.timed_iters,
      r.peak_rss_mb, r.gflops);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench_meta: time meta-training iterations (MetaLearner::step on one batch of tasks) of one configuration.\n"
      "Reports the median seconds per iteration over the timed ones (after the warm-up), iterations per second\n"
      "(1 / median), the peak resident memory of the process (getrusage ru_maxrss, MB = 2^20 bytes) and\n"
      "GFLOP/s counting GEMM FLOPs only (matmul and convolution GEMMs; elementwise work is not counted),\n"
      "over the total time of the timed iterations. Batches are sampled before timing and cycled through.\n"
      "sinusoid: MLP 1-40-40-1, 10 support + 10 query points, meta-batch 25, inner lr 0.01, outer Adam 1e-3.\n"
      "omniglot: conv4 (max-pool), 5-way 1-shot, 15 queries per class, synthetic 28x28 images, meta-batch 32,\n"
      "inner lr 0.4, outer Adam 1e-3. omniglot_strided: the same with the strided conv4 (4 x [conv 3x3 64\n"
      "stride 2, batch-norm, ReLU]). miniimagenet: conv4 with 32 filters and max-pool on 84x84x3 random images,\n"
      "5-way 1-shot, 15 queries per class, meta-batch 4, inner lr 0.01, outer Adam 1e-3.\n"
      "nav2d: meta-RL on 2-D navigation (metagrad train --dataset nav2d's defaults: meta-batch 20, 20 trajectories,\n"
      "horizon 100, inner lr 0.1, TRPO outer step), maml or fomaml; an iteration includes its sampling.\n"
      "clinc150: the default text model (embedding bag 64, 128 ReLU, 5 outputs) on CLINC150 meta-training\n"
      "episodes, 5-way 1-shot, 15 queries per class, meta-batch 8, inner lr 0.4, outer Adam 1e-3\n"
      "(METAGRAD_CLINC150 or ../shared/data/clinc150).\n"
      "reptile: inner SGD at the inner lr, epsilon 1, no annealing."};
  Config c;
  std::vector<std::string> workloads = mg::bench::kConvAndMlpWorkloads;
  workloads.push_back("nav2d");
  workloads.push_back("clinc150");
  mg::bench::add_run_options(app, c, "worker threads over the tasks of a batch (>= 1); BLAS uses 1", workloads);
  app.add_option("--parallel", c.parallel,
                 "tasks: the --threads workers take whole tasks (one task graph each); ops: one thread runs the "
                 "tasks and the big kernels split over --threads (one task graph alive); auto (default): tasks, as "
                 "metalearn; ops with --profile and for miniimagenet (large tasks). Same bits either way")
      ->check(CLI::IsMember({"auto", "tasks", "ops"}));
  app.add_flag("--profile", c.profile,
               "print where the timed iterations' time went, per op and phase (mg::OpProfiler), on stderr; "
               "needs --threads 1 or --parallel ops");
  app.add_option("--nav-fixture", c.nav_fixture,
                 "with --workload nav2d: write the float64 fixture of bench/torch_nav_ref.py --check to this file "
                 "(metagrad's samples and results of one small meta-step) instead of timing");
  app.add_flag("--checkpoint-steps", c.checkpoint_steps,
               "maml: recompute the inner steps during the meta-backward instead of keeping their graphs (memory "
               "that does not grow with --steps; the same meta-gradient, bit for bit)");
  app.add_option("--export", c.export_dir,
                 "clinc150: write θ, the batches (token ids, labels) and a float64 reference loss and meta-gradient "
                 "of batch 0 (maml and fomaml) to this folder, for bench/torch_ref_text.py");

  if (const auto status = mg::tools::parse_command_line(app, argc, argv, "bench_meta")) return *status;
  if (!c.export_dir.empty() && c.workload != "clinc150") {
    fmt::print(stderr, "bench_meta: --export is for --workload clinc150, got --workload {}\n", c.workload);
    return 2;
  }
  // tasks, as metalearn's --parallel auto (tools/thread_plan.h); ops for --profile (it times its
  // own thread's ops) and for MiniImageNet's four large tasks (one 5-step MAML2 graph is ~0.5 GB).
  if (c.parallel == "auto") c.parallel = c.profile || c.workload == "miniimagenet" ? "ops" : "tasks";
  if (c.profile && c.threads != 1 && c.parallel == "tasks") {
    // The profiler times the ops of its own thread; the workers' would be missing.
    fmt::print(stderr, "bench_meta: --profile needs --threads 1 or --parallel ops, got --threads {} over tasks\n",
               c.threads);
    return 2;
  }
  if (c.workload == "nav2d" && c.algo == "reptile") {
    fmt::print(stderr, "bench_meta: --workload nav2d runs --algo maml or fomaml, not reptile\n");
    return 2;
  }
  if (!c.nav_fixture.empty() && c.workload != "nav2d") {
    fmt::print(stderr, "bench_meta: --nav-fixture needs --workload nav2d, got --workload {}\n", c.workload);
    return 2;
  }

  if (c.checkpoint_steps && c.algo != "maml") {
    fmt::print(stderr, "bench_meta: --checkpoint-steps is for --algo maml (second order), not {}\n", c.algo);
    return 2;
  }
  if (c.checkpoint_steps && c.workload == "nav2d") {
    fmt::print(stderr, "bench_meta: --checkpoint-steps is for the supervised workloads, not nav2d\n");
    return 2;
  }

  mg::kernels::set_blas_threads(1);
  try {
    if (!c.nav_fixture.empty()) {
      mg::bench::write_nav_fixture(c.nav_fixture);
      fmt::print(stderr, "bench_meta: wrote {}\n", c.nav_fixture);
      return 0;
    }
    const Result r = run(c);
    fmt::print(stderr, "bench_meta: the timed iterations took {:.3f} s wall, {:.3f} s process CPU\n", r.timed_s,
               r.timed_cpu_s);
    fmt::print("{}\n", format_result(c, r));
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_meta: {}\n", e.what());
    return 1;
  }
  return 0;
}
