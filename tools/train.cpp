#include "tools/train.h"

#include <fmt/format.h>

#include <filesystem>

#include "autograd/anomaly.h"
#include "autograd/backend.h"
#include "autograd/errors.h"
#include "autograd/kernels/worker_pool.h"
#include "autograd/profile.h"
#include "nn/checkpoint.h"
#include "tools/atomic_file.h"
#include "tools/diagnose_order.h"
#include "tools/predict_memory.h"
#include "tools/experiment.h"
#include "tools/figures.h"
#include "tools/metrics_log.h"
#include "tools/nav_train.h"
#include "tools/paths.h"
#include "tools/progress.h"
#include "tools/text_config.h"
#include "tools/text_experiment.h"
#include "tools/rank_agreement.h"
#include "tools/shared_checkpoint.h"
#include "tools/thread_plan.h"

namespace mg::tools {

namespace {

namespace fs = std::filesystem;

// What a run writes into --out.
constexpr const char* kOutputFiles[] = {"checkpoint.mgc", "metrics.csv", "results.txt", "learning_curve.svg",
                                        "sinusoid_fit.svg"};

constexpr const char* kOrderFigure = "order_diagnostic.svg";  // with --diagnose-order

std::string out_file(const TrainConfig& c, const char* name) { return (fs::path(c.out) / name).string(); }
std::string checkpoint_path(const TrainConfig& c) { return out_file(c, "checkpoint.mgc"); }

// The metrics first, then the checkpoint: a crash between the two leaves metrics
// rows past the checkpoint, which --resume drops (never rows missing).
// A state that is not finite writes neither file: the last checkpoint and its metrics
// stay (DivergenceError; an optimizer state can overflow while the loss and the
// meta-gradient are finite, e.g. Adam's g² in float32).
// Without a log (a rank other than 0 of an MPI job) it checks the state and writes nothing.
void save_run(const Experiment& e, const MetricsLog* log, std::int64_t iteration) {
  try {
    nn::check_finite_state(checkpoint_path(e.config), *e.model, e.learner->optimizer(), e.learner->extra_parameters());
  } catch (const NonFiniteError& err) {
    throw DivergenceError(fmt::format("train: after iteration {}: {}", iteration - 1, err.what()), iteration);
  }
  if (!log) return;
  log->save();
  nn::save_checkpoint(checkpoint_path(e.config), *e.model, e.learner->optimizer(), iteration,
                      to_metadata(e.config), e.learner->extra_parameters());
}

// Restores a run's state; the checkpoint must describe the same experiment. On the ranks
// of an MPI job, rank 0 reads it and the others get its bytes (tools/shared_checkpoint.h).
std::int64_t load_run(const Experiment& e, meta::Communicator* comm) {
  const SharedCheckpoint shared(comm, checkpoint_path(e.config));
  const std::string& path = shared.path();
  check_path("train: --resume: checkpoint", path, PathUse::kInputFile);
  const TrainConfig saved = from_metadata(nn::read_checkpoint(path).metadata);
  const auto now = to_metadata(e.config);
  const auto then = to_metadata(saved);
  for (std::size_t i = 0; i < now.size(); ++i)
    if (now[i].second != then[i].second)
      throw DataError(fmt::format("train: --resume: {} has {} = {}, this run has {}", path, now[i].first,
                                  then[i].second, now[i].second));
  return nn::load_checkpoint(path, *e.model, e.learner->optimizer(), e.learner->extra_parameters()).step;
}

meta::EvalOptions eval_options(const TrainConfig& c) {
  meta::EvalOptions o;
  o.num_tasks = c.eval_tasks;
  o.inner_steps = *c.eval_inner_steps;
  o.report_steps = {0, 1, *c.eval_inner_steps};
  o.threads = *c.threads;
  return o;
}

// Trains `e` from `first` to config.iterations (or stop_after), logging and checkpointing.
std::int64_t train_loop(Experiment& e, std::int64_t first, const RunOptions& run, MetricsLog* log,
                        bool checkpoints) {
  const TrainConfig& c = e.config;
  std::int64_t last = *c.iterations;
  if (run.stop_after >= 0) last = std::min(last, first + run.stop_after);
  Progress progress(first, *c.iterations, e.learner->objective().metric_name, c.log_every, run.out, run.terminal);
  std::int64_t done = first;
  std::optional<meta::OrderComparison> diagnosed;  // of iteration `done`, taken before its update
  const meta::MetaLearner::StepCallback on_step = [&](std::int64_t it, const meta::StepStats& s) {
    MetricsRow row{it, s.loss, s.metric};
    if (diagnosed) {
      row.order_cosine = diagnosed->cosine;
      row.hessian_share = diagnosed->hessian_share;
    }
    if (log) log->append(row);
    progress.update(it, s.loss, s.metric);
    done = it + 1;
    if (checkpoints && done % c.checkpoint_every == 0) save_run(e, log, done);
  };
  try {
    if (run.diagnose_order <= 0) {
      e.learner->train(*e.train_tasks, last - first, on_step, first);
    } else {  // one iteration at a time: the diagnostic needs θ before the iteration's update
      for (std::int64_t it = first; it < last; ++it) {
        diagnosed.reset();
        if (it % run.diagnose_order == 0) diagnosed = diagnose_iteration(e, it);
        e.learner->train(*e.train_tasks, 1, on_step, it);
      }
    }
  } catch (const NonFiniteError&) {
    // The step that found a NaN or an infinity (Note [Divergence] in meta/meta_learner.h,
    // or anomaly mode) threw before its update: the state after `done` iterations is the
    // last finite one. Kept with its metrics rows, so that --resume starts from it.
    progress.finish();
    try {
      if (checkpoints) save_run(e, log, done);
    } catch (const NonFiniteError&) {  // the state itself overflowed: keep the last checkpoint
    }
    throw;
  }
  progress.finish();
  return last;
}

}  // namespace

std::string format_eval(const meta::EvalResult& r, const std::string& who) {
  std::string out;
  for (std::size_t i = 0; i < r.steps.size(); ++i)
    out += fmt::format("{:<10} {} after {:>2} steps: {:.4f} ± {:.4f}  ({} tasks)\n", who, r.metric_name, r.steps[i],
                       r.metric[i].mean, r.metric[i].ci95, r.metric[i].n);
  return out;
}

TrainResult run_train(TrainConfig config, const RunOptions& run) {
  const DetectAnomaly anomaly(run.detect_anomaly);
  prepare(config);
  check_diagnose_order(config, run.diagnose_order);
  // Training Omniglot's pretrained classifier is one joint pass over the batch, whose
  // convolutions only ops can split (meta/pretrain.h); the profiler sees its own thread's ops.
  const bool ops_first = (config.algo == "pretrain" && config.dataset == "omniglot") || run.profile;
  const ThreadPlan threads = plan_threads("train", run.parallel, ops_first, *config.threads);
  if (run.profile && threads.task_threads != 1)  // the profiler sees its own thread's ops only
    config_error(fmt::format("--profile needs one thread over tasks (the profiler times the ops of its own thread): "
                             "--threads 1, or --parallel ops; got --threads {} over tasks", *config.threads));
  const kernels::OpThreads op_threads(threads.op_threads);  // Note [Two ways to use two cores]
  config.threads = threads.task_threads;
  if (run.predict_memory) {  // before any data is read: the prediction needs only the settings
    fmt::print(run.out, "{}", memory_report(config));
    if (run.profile) fmt::print(run.out, "{}", format_memory_check(measure_run_memory(config)));
    TrainResult done;
    done.finished = true;  // nothing to train: the prediction (and its check) is the whole run
    return done;
  }
  // nav2d and the text floor do not split their work over ranks: each rank would write the same files.
  if (run.comm && run.comm->size() > 1 && (config.dataset == "nav2d" || config.algo == "nearest-mean"))
    config_error(fmt::format("{} runs in one process, not over {} MPI ranks",
                             config.dataset == "nav2d" ? "--dataset nav2d" : "--algo nearest-mean", run.comm->size()));
  if (config.dataset == "nav2d") return run_nav_train(config, run);  // meta-RL: tools/nav_train.h
  if (config.algo == "nearest-mean") return run_text_floor(config, run);
  const bool writer = !run.comm || run.comm->rank() == 0;  // rank 0 alone writes files
  // Inputs first (nothing is created for a run that cannot start), then the outputs.
  if (config.dataset == "omniglot") checked_omniglot_root(config.data);
  Experiment e = build_experiment(config);
  if (writer) check_path("train: --out", config.out, PathUse::kOutputFolder);
  if (writer)
    for (const char* name : kOutputFiles)
      check_path("train: output file", out_file(config, name), PathUse::kOutputFile);
  const bool diagnose = run.diagnose_order > 0;
  if (writer && diagnose) check_path("train: output file", out_file(config, kOrderFigure), PathUse::kOutputFile);
  e.learner->set_communicator(run.comm);
  const std::int64_t first = config.resume ? load_run(e, run.comm.get()) : 0;
  if (run.comm && run.comm->size() > 1) check_ranks_agree(*run.comm, describe_run(e, first));
  const std::string metric_name = e.learner->objective().metric_name;
  std::optional<MetricsLog> log;
  if (writer)
    log.emplace(config.resume ? MetricsLog::resume(out_file(config, "metrics.csv"), metric_name, first, diagnose)
                              : MetricsLog(out_file(config, "metrics.csv"), metric_name, diagnose));
  if (first > 0) fmt::print(run.out, "resuming {} at iteration {}\n", checkpoint_path(config), first);

  TrainResult result;
  fmt::print(run.out, "training {} on {}: {} iterations, meta-batch {}, {}, {} kernels\n", e.learner->name(),
             config.dataset, *config.iterations, *config.meta_batch, threads.describe(), mg::cpu_path());
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t sent = run.comm ? run.comm->bytes_sent() : 0;
  const std::uint64_t received = run.comm ? run.comm->bytes_received() : 0;
  std::optional<OpProfiler> profiler;
  if (run.profile) profiler.emplace();
  result.iterations_done = train_loop(e, first, run, log ? &*log : nullptr, true);
  if (profiler) {
    fmt::print(run.out, "profile of the training iterations ({}): {}", result.iterations_done - first,
               profiler->report().table());
    profiler.reset();
  }
  result.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (run.comm && run.comm->size() > 1 && result.iterations_done > first)
    fmt::print(run.out, "mpi: {} ranks; per iteration rank 0 sent {} bytes and received {}\n", run.comm->size(),
               (run.comm->bytes_sent() - sent) / static_cast<std::uint64_t>(result.iterations_done - first),
               (run.comm->bytes_received() - received) / static_cast<std::uint64_t>(result.iterations_done - first));
  save_run(e, log ? &*log : nullptr, result.iterations_done);
  result.finished = result.iterations_done == *config.iterations;
  if (!result.finished) return result;

  result.eval = e.learner->test(*e.test_tasks, eval_options(config));
  std::string table = format_eval(result.eval, e.learner->name());
  std::optional<Experiment> baseline;
  if (config.dataset == "sinusoid" && config.baseline && config.algo != "pretrain") {
    baseline = build_experiment(config, "pretrain");
    baseline->learner->set_communicator(run.comm);
    fmt::print(run.out, "training the pretrained baseline: {} iterations\n", *config.iterations);
    train_loop(*baseline, 0, RunOptions{run.out, run.terminal, -1}, nullptr, false);
    result.baseline = baseline->learner->test(*baseline->test_tasks, eval_options(config));
    table += format_eval(*result.baseline, "pretrained");
  }
  if (is_text_dataset(config.dataset)) {  // the training-free floor on the same tasks (tools/text_experiment.h)
    result.floor = text_floor(config);
    table += format_eval(*result.floor, "nearest-mean");
  }
  fmt::print(run.out, "{}", table);
  if (!writer) return result;
  write_text_file(out_file(config, "results.txt"), table);
  write_learning_curve(out_file(config, "learning_curve.svg"), log->rows(), metric_name, e.learner->name());
  if (diagnose) write_order_figure(out_file(config, kOrderFigure), log->rows(), e.learner->name());
  if (config.dataset == "sinusoid")
    write_sinusoid_figure(out_file(config, "sinusoid_fit.svg"), e, baseline ? &*baseline : nullptr);
  fmt::print(run.out, "wrote {}/{{checkpoint.mgc, metrics.csv, results.txt, learning_curve.svg{}{}}}\n", config.out,
             config.dataset == "sinusoid" ? ", sinusoid_fit.svg" : "", diagnose ? ", order_diagnostic.svg" : "");
  return result;
}

meta::EvalResult run_eval(const EvalRequest& request, std::FILE* out, std::shared_ptr<meta::Communicator> comm) {
  check_bounds("eval", "--eval-tasks", request.eval_tasks, limits::kEvalTasks);
  check_bounds("eval", "--threads", request.threads, limits::kThreads, threads_note());
  if (request.eval_inner_steps)
    check_bounds("eval", "--eval-inner-steps", *request.eval_inner_steps, limits::kInnerSteps);
  check_path("eval: --checkpoint", request.checkpoint, PathUse::kInputFile);
  TrainConfig config = from_metadata(nn::read_checkpoint(request.checkpoint).metadata);
  config.out = fs::path(request.checkpoint).parent_path().string();
  if (config.out.empty()) config.out = std::string(1, '.');  // the current folder (GCC 12 -Wrestrict misfires on = ".")
  const ThreadPlan threads = plan_threads("eval", request.parallel, false, request.threads);  // tasks: one each
  const kernels::OpThreads op_threads(threads.op_threads);  // Note [Two ways to use two cores]
  config.threads = threads.task_threads;
  config.eval_tasks = request.eval_tasks;
  if (request.data && config.dataset == "sinusoid")
    throw ValueError(fmt::format("eval: --data is for omniglot and text checkpoints; {} was trained on {}",
                                 request.checkpoint, config.dataset));
  if (request.data) config.data = request.data;
  if ((request.pretrained || !request.compare.empty()) && config.dataset != "nav2d")
    throw ValueError(fmt::format("eval: {} is for nav2d checkpoints; {} was trained on {}",
                                 request.pretrained ? "--pretrained" : "--compare", request.checkpoint, config.dataset));
  if (request.eval_inner_steps) config.eval_inner_steps = request.eval_inner_steps;
  apply_text_eval_request(request, config);  // --eval-split, --shots (tools/text_experiment.h)
  if (config.dataset == "nav2d") {
    config.nav.pretrained = request.pretrained;
    config.nav.compare = request.compare;
    return run_nav_eval(config, request.checkpoint, out);
  }
  resolve_defaults(config);  // settings an older checkpoint does not record
  try {
    validate(config);
  } catch (const ValueError& e) {  // the request is checked above: what is left came from the file
    throw DataError(fmt::format("eval: {} holds settings no run can have: {}", request.checkpoint, e.what()));
  }
  Experiment e = build_experiment(config);
  if (request.eval_split == "val") e.test_tasks = text_validation_tasks(config);
  nn::load_checkpoint(request.checkpoint, *e.model, nullptr, e.learner->extra_parameters());
  e.learner->set_communicator(std::move(comm));
  const meta::EvalResult r = e.learner->test(*e.test_tasks, eval_options(config));
  fmt::print(out, "{}", format_eval(r, e.learner->name()));
  return r;
}

}  // namespace mg::tools
