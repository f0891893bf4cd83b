// `metalearn train` and `metalearn eval` as library functions (the command
// line in metalearn.cpp only parses flags), so the tests can run them.
//
// A run writes to its --out folder:
//   checkpoint.mgc       every --checkpoint-every iterations and at the end (nn/checkpoint.h)
//   metrics.csv          iteration, loss and metric of every meta-step, saved with each checkpoint
//   learning_curve.svg   the query loss over training
//   sinusoid_fit.svg     (sinusoid) the MAML paper's Figure 2 for one test task
//   results.txt          the evaluation table
// Every file is written atomically (tools/atomic_file.h); a failed write is a
// DataError. Every path is checked before the run starts (tools/paths.h).
// --resume continues from checkpoint.mgc exactly: same parameters, optimizer
// state and task stream (meta-step s always draws tasks s·B … s·B + B − 1),
// after checking that metrics.csv agrees with the checkpoint (metrics_log.h).
// A run that diverges (a loss or meta-gradient that is not finite: Note [Divergence]
// in meta/meta_learner.h; or, under anomaly mode, an op making a NaN or an infinity)
// stops with a NonFiniteError naming the iteration and the tensor; the checkpoint and
// metrics.csv are those after the last finite iteration (no checkpoint ever holds a
// NaN: nn::save_checkpoint refuses it).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "meta/communicator.h"
#include "meta/evaluate.h"
#include "tools/train_config.h"

namespace mg::tools {

struct RunOptions {
  std::FILE* out = stdout;
  bool terminal = false;           // draw a progress bar instead of log lines
  std::int64_t stop_after = -1;    // stop (as if interrupted) after this many iterations; tests use it
  bool detect_anomaly = false;     // anomaly mode (autograd/anomaly.h) for the whole run
  // Compare first- and second-order MAML meta-gradients every this many iterations; 0: off
  // (tools/diagnose_order.h: metrics.csv gains two columns, and order_diagnostic.svg is written).
  std::int64_t diagnose_order = 0;
  // Print the per-op profile of the training iterations (autograd/profile.h): time, calls and
  // results by op and phase (forward, backward, double backward, recorded backward), and the
  // peak of live tensor memory with the tape's saved tensors then. Needs one thread over tasks.
  bool profile = false;
  // How --threads are spent: auto | tasks | ops (tools/thread_plan.h).
  std::string parallel = "auto";
  // Print the predicted peak of tensor memory of one meta-iteration (tools/predict_memory.h)
  // and train nothing.
  bool predict_memory = false;
  // The ranks of an MPI job (tools/world.h); null: this process alone. Every rank trains,
  // rank 0 alone writes files (Note [Meta-batches over ranks] in meta/rank_batch.h).
  std::shared_ptr<meta::Communicator> comm = nullptr;
};

struct TrainResult {
  std::int64_t iterations_done = 0;
  bool finished = false;                       // false when stopped by stop_after
  meta::EvalResult eval;                       // the trained learner on the test tasks
  std::optional<meta::EvalResult> baseline;    // the pretrained baseline (sinusoid)
  std::optional<meta::EvalResult> floor;       // the nearest-mean floor (text; tools/text_experiment.h)
  double train_seconds = 0.0;
};

// Trains as `config` (checked, resolved and validated here: prepare()) describes.
// Throws NonFiniteError when the run diverges (see above).
TrainResult run_train(TrainConfig config, const RunOptions& run = {});

struct EvalRequest {
  std::string checkpoint = {};
  int eval_tasks = 600;
  std::optional<int> eval_inner_steps = {};  // empty: as trained
  int threads = 1;
  std::string parallel = "auto";  // how the threads are spent: auto | tasks | ops (tools/thread_plan.h)
  std::optional<std::string> data = {};  // Omniglot root override (omniglot checkpoints only)
  std::optional<std::string> pretrained = {};  // nav2d: a pretrain checkpoint scored beside (tools/nav_train.h)
  std::vector<std::string> compare = {};       // nav2d: more checkpoints scored beside (fomaml, reptile, …)
  std::optional<std::string> eval_split = {};  // text: test (default) | val, the classes tasks are drawn from
  std::optional<int> shots = {};               // text: K of the evaluation tasks (default: as trained)
};

// Evaluates a checkpoint written by run_train on the test tasks (split over the ranks of `comm`).
meta::EvalResult run_eval(const EvalRequest& request, std::FILE* out = stdout,
                          std::shared_ptr<meta::Communicator> comm = nullptr);

// "mse after 0 steps: 2.9135 ± 0.2315" lines for a result.
std::string format_eval(const meta::EvalResult& r, const std::string& who);

}  // namespace mg::tools
