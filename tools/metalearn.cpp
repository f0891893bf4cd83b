// metalearn: the command line of metagrad.
//
//   metalearn train [flags]          meta-train (MAML, first-order MAML, Reptile, pretrained baseline)
//   metalearn eval --checkpoint F    evaluate a trained checkpoint on the test tasks
//   metalearn demo                   fit a small MLP to a sine with the autograd engine alone
//   metalearn graph --out F.dot      draw the tape of one MAML meta-step (Graphviz DOT, optionally SVG)
//
// Invalid arguments, paths of the wrong kind, unreadable inputs and failed
// writes print one line, "metalearn: <what is wrong>", and exit with status 2.
// A training run that diverges prints one such line naming the iteration and the
// first tensor that is not finite, and exits with status 3 (kDiverged).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <new>
#include <string_view>
#include <system_error>

#include "autograd/backend.h"
#include "autograd/errors.h"
#include "tools/cli.h"
#include "tools/demo.h"
#include "tools/mamlpp_flags.h"
#include "tools/nav_flags.h"
#include "tools/text_config.h"
#include "tools/text_experiment.h"
#include "tools/graph.h"
#include "tools/train.h"
#include "tools/world.h"

namespace {

void add_train_flags(CLI::App& cmd, mg::tools::TrainConfig& c) {
  namespace limits = mg::tools::limits;
  using mg::tools::add_number;
  cmd.add_option("--dataset", c.dataset, "sinusoid | omniglot | nav2d | clinc150 | text-csv")->capture_default_str();
  cmd.add_option("--data", c.data,
                 "omniglot: its folder (default: $METAGRAD_OMNIGLOT, else ../shared/data/omniglot); clinc150: its "
                 "folder (default: $METAGRAD_CLINC150, else ../shared/data/clinc150); text-csv: the CSV file");
  cmd.add_option("--split", c.split,
                 "omniglot: vinyals (1200 training characters; default) | official; clinc150: stratified (default) | "
                 "domain; text-csv: TRAIN,VAL fractions of the labels (default 0.6,0.2)");
  cmd.add_option("--algo", c.algo,
                 "maml | fomaml | reptile | pretrain (one network trained on all training tasks at once; omniglot, text: a "
                 "classifier over all training classes, a new head fine-tuned per test task) "
                 "| metasgd (Meta-SGD: a learned inner rate per parameter element) "
                 "| maml++ (MAML++: MSL, per-step BN, LSLR, DA, cosine meta rate; see --no-msl ...) "
                 "| anil (inner loop on the head only) | protonet (Prototypical Networks; omniglot, text) "
                 "| nearest-mean (text: the training-free floor)")
      ->capture_default_str();
  mg::tools::add_text_flags(cmd, c);
  add_number(cmd, "--ways", c.ways, limits::kWays, "omniglot: N classes per task (default 5)");
  add_number(cmd, "--train-ways", c.train_ways, limits::kWays,
             "protonet: N of the training tasks only (default: --ways; Snell et al. train 1-shot Omniglot with 60)");
  add_number(cmd, "--shots", c.shots, limits::kShots,
             "K support examples per class (default: sinusoid 10, omniglot 1)");
  add_number(cmd, "--train-shots", c.train_shots, limits::kShots,
             "K of the training tasks only (default: --shots; Reptile on omniglot 10)");
  add_number(cmd, "--queries", c.queries, limits::kShots,
             "query examples per class (default: sinusoid 10, omniglot 15)");
  add_number(cmd, "--inner-steps", c.inner_steps, limits::kInnerSteps,
             "inner gradient steps during meta-training (default 1; Reptile 5; not for pretrain)");
  add_number(cmd, "--eval-inner-steps", c.eval_inner_steps, limits::kInnerSteps,
             "inner steps at test time (default: sinusoid 10, omniglot 3; metasgd: --inner-steps)");
  cmd.add_option("--inner-optimizer", c.inner_optimizer,
                 "reptile's inner loop, in training and at test time: sgd | adam (default: omniglot adam, "
                 "sinusoid sgd)");
  add_number(cmd, "--inner-batch", c.inner_batch, limits::kInnerBatch,
             "reptile: support examples per inner step, drawn as successive shuffles (0: all; default: omniglot 10, "
             "sinusoid 0)");
  add_number(cmd, "--inner-lr", c.inner_lr, limits::kLearningRate,
             "inner learning rate alpha (default: sinusoid 0.01, omniglot 0.4)");
  add_number(cmd, "--meta-lr", c.meta_lr, limits::kLearningRate,
             "outer Adam learning rate beta, or Reptile's epsilon (default 1e-3; Reptile 1)");
  add_number(cmd, "--meta-batch", c.meta_batch, limits::kMetaBatch,
             "tasks per meta-update (default: sinusoid 25, omniglot 32)");
  add_number(cmd, "--iterations", c.iterations, limits::kIterations,
             "meta-iterations (default: sinusoid 70000, omniglot 60000)");
  add_number(cmd, "--seed", c.seed, limits::kSeed, "seed of the initialisation and the training tasks");
  add_number(cmd, "--threads", c.threads, limits::kThreads,
             "worker threads over the tasks of a meta-batch (default: one per core; results do not depend on it)",
             mg::tools::threads_note());
  cmd.add_flag("--reset-inner-adam", c.reset_inner_adam,
               "reptile: a fresh inner Adam for every task (default: keep its second moment across tasks, as the "
               "paper's code)");
  cmd.add_flag("--learn-inner-lr", c.learn_inner_lr,
               "maml, fomaml: meta-learn one inner learning rate per parameter tensor (LSLR)");
  cmd.add_flag("--first-order", c.first_order,
               "anil: the body's meta-gradient without the second-order term through the head's inner steps");
  cmd.add_flag("--checkpoint-steps", c.checkpoint_steps,
               "maml, metasgd: recompute each inner step during the meta-backward instead of keeping its graph: "
               "memory that does not grow with --inner-steps, the same results bit for bit, one more forward and inner "
               "gradient per step");
  cmd.add_flag("--strided", c.strided, "omniglot: stride-2 convolutions instead of max-pooling");
  cmd.add_flag("!--no-baseline", c.baseline, "sinusoid: skip the pretrained baseline");
  add_number(cmd, "--eval-tasks", c.eval_tasks, limits::kEvalTasks, "test tasks in the final evaluation");
  cmd.add_option("--out", c.out, "output folder")->capture_default_str();
  add_number(cmd, "--checkpoint-every", c.checkpoint_every, limits::kIterations, "iterations between checkpoints");
  add_number(cmd, "--log-every", c.log_every, limits::kLogEvery, "iterations between log lines when not on a terminal");
  cmd.add_flag("--resume", c.resume, "continue from OUT/checkpoint.mgc");
  mg::tools::add_nav_flags(cmd, c);  // --dataset nav2d
  mg::tools::add_mamlpp_flags(cmd, c);  // --algo maml++
}

int fail(const std::string& message) { return mg::tools::usage_error("metalearn", message); }

// The exit status of a run that diverged (a NaN or an infinity in the loss, a
// meta-gradient, or, with --detect-anomaly, any op's result): not 0, not 1 (a run
// stopped early or a demo that did not learn), not 2 (bad input).
constexpr int kDiverged = 3;
// The exit status of an MPI job whose ranks stopped answering (a rank died or hung).
constexpr int kRanksLost = 4;

constexpr const char* kExitStatus =
    "Exit status: 0 success; 1 a run stopped early, or the demo's loss did not fall; 2 bad arguments, paths or "
    "files, or a failed write; 3 the run diverged: a loss or meta-gradient was NaN or infinite (with "
    "--detect-anomaly: an op made a NaN or an infinity), and the checkpoint and metrics.csv are kept at the last "
    "finite iteration; 4 (MPI) a rank died or did not answer within METAGRAD_MPI_TIMEOUT seconds (default 120).";

constexpr const char* kParallelHelp =
    "how the --threads are spent: tasks (each thread adapts whole tasks: one task's graph alive per thread), ops "
    "(one task at a time, its convolutions, batch norm and pooling split over the threads: one task's graph "
    "alive: less memory, less speed), auto (tasks; ops to train --algo pretrain on omniglot, one joint pass, "
    "and with --profile). The results are bit-identical either way";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"metalearn: meta-learning with metagrad (MAML, first-order MAML, Reptile)"};
  app.require_subcommand(1);
  app.footer(kExitStatus);

  mg::tools::TrainConfig train;
  CLI::App* train_cmd = app.add_subcommand("train", "Meta-train on sinusoid regression, Omniglot or few-shot text");
  add_train_flags(*train_cmd, train);
  mg::tools::RunOptions run;
  train_cmd->add_flag("--detect-anomaly", run.detect_anomaly,
                      "check every op's result, forward and backward, for NaN and infinity, and stop at the first op "
                      "that makes one (exit status 3; slow: for finding where a run diverges)");
  mg::tools::add_number(*train_cmd, "--diagnose-order", run.diagnose_order, mg::tools::limits::kIterations,
                        "maml, fomaml: every N iterations also compute the batch's first- and second-order "
                        "meta-gradients and log their cosine and the Hessian term's share of the norm "
                        "(metrics.csv, order_diagnostic.svg); the training is unchanged");
  train_cmd->add_flag("--profile", run.profile,
                      "print where the training iterations' time and memory went: per op, time, calls and MB of "
                      "results in the forward pass, the backward, the double backward (second-order MAML) and the "
                      "recorded inner gradient; the peak of live tensor memory and the tape's saved tensors then "
                      "(needs one thread over tasks: --threads 1 or --parallel ops)");
  train_cmd->add_option("--parallel", run.parallel, kParallelHelp)->capture_default_str();
  train_cmd->add_flag("--predict-memory", run.predict_memory,
                      "print the predicted peak of tensor memory of one meta-iteration (maml, fomaml; sinusoid, "
                      "omniglot) from the model and the settings, as its terms: what the forward and the recorded "
                      "inner gradient keep per layer, the adapted weights, the meta-backward's gradients; then exit "
                      "without training or reading data. With --profile (one thread over tasks) it also trains two "
                      "iterations and prints the second one's measured peak beside the prediction");
  mg::tools::add_number(*train_cmd, "--stop-after", run.stop_after, mg::tools::limits::kIterations,
                        "stop after this many iterations of this invocation, checkpointed (exit status 1), to be "
                        "continued with --resume (a batch system's time limit; the MPI resume tests)");
  train_cmd->footer(kExitStatus);

  mg::tools::EvalRequest eval;
  CLI::App* eval_cmd = app.add_subcommand("eval", "Evaluate a checkpoint on the test tasks (mean ± 95% CI)");
  eval_cmd->add_option("--checkpoint", eval.checkpoint, "checkpoint.mgc written by train")->required();
  mg::tools::add_number(*eval_cmd, "--eval-tasks", eval.eval_tasks, mg::tools::limits::kEvalTasks, "test tasks");
  mg::tools::add_number(*eval_cmd, "--eval-inner-steps", eval.eval_inner_steps, mg::tools::limits::kInnerSteps,
                        "inner steps at test time (default: as trained)");
  mg::tools::add_number(*eval_cmd, "--threads", eval.threads, mg::tools::limits::kThreads, "worker threads",
                        mg::tools::threads_note());
  eval_cmd->add_option("--parallel", eval.parallel, kParallelHelp)->capture_default_str();
  eval_cmd->add_option("--data", eval.data, "omniglot and text checkpoints: the data folder or CSV file");
  mg::tools::add_text_eval_flags(*eval_cmd, eval);
  eval_cmd->add_option("--pretrained", eval.pretrained, "nav2d checkpoints: a pretrain checkpoint to score beside");
  eval_cmd->add_option("--compare", eval.compare,
                       "nav2d checkpoints: another run to score beside, named by its algorithm (repeatable)");

  mg::tools::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand("demo", "Fit a 1-40-40-1 MLP to sin(x) with the autograd engine alone");
  mg::tools::add_number(*demo_cmd, "--steps", demo.steps, mg::tools::Bounds<int>{1, 10'000'000}, "Adam steps");
  mg::tools::add_number(*demo_cmd, "--lr", demo.lr, mg::tools::limits::kLearningRate, "Adam learning rate");
  mg::tools::add_number(*demo_cmd, "--seed", demo.seed, mg::tools::limits::kSeed, "Seed of the initialisation");
  mg::tools::add_number(*demo_cmd, "--print-every", demo.print_every, mg::tools::Bounds<int>{1, 10'000'000},
                        "Print the loss every N steps");

  mg::tools::GraphRequest graph;
  CLI::App* graph_cmd = app.add_subcommand(
      "graph", "Draw the tape of one MAML meta-step on a tiny sinusoid MLP as Graphviz DOT: inner steps boxed, the "
               "second-order part (the recorded inner gradient) filled");
  graph_cmd->add_option("--algo", graph.algo, "maml (second order) | fomaml (first order)")
      ->capture_default_str();
  mg::tools::add_number(*graph_cmd, "--inner-steps", graph.inner_steps, mg::tools::Bounds<int>{1, 10},
                        "inner SGD steps k (default 1)");
  mg::tools::add_number(*graph_cmd, "--hidden", graph.hidden, mg::tools::Bounds<int>{1, 64},
                        "hidden width H of the 1-H-1 ReLU MLP (default 3)");
  graph_cmd->add_option("--out", graph.out, "the DOT file to write")->required();
  graph_cmd->add_option("--svg", graph.svg, "also draw it as SVG with Graphviz's dot (must be on PATH)");

  // CLI11 would say "The following arguments were not expected"; name the command instead.
  if (argc < 2) return fail("a command is required: train, eval, demo or graph (metalearn --help lists them)");
  if (const std::string_view first = argv[1];
      !first.starts_with('-') && first != "train" && first != "eval" && first != "demo" && first != "graph")
    return fail(fmt::format("unknown command '{}'; the commands are train, eval, demo and graph", first));
  if (const auto status = mg::tools::parse_command_line(app, argc, argv, "metalearn")) return *status;

  // A file size limit (ulimit -f) makes a write fail with EFBIG, reported like any
  // other failed write, instead of killing the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);

  // Tasks run on worker threads; BLAS stays single-threaded inside each.
  mg::set_blas_threads(1);
  // Under mpirun or srun: one rank of a job, and only rank 0 prints (tools/world.h).
  std::shared_ptr<mg::meta::Communicator> world;
  try {
    world = mg::tools::world_communicator();
  } catch (const mg::Error& e) {
    return fail(e.what());
  }
  const int rank = world->rank();
  std::FILE* out = rank == 0 ? stdout : std::fopen("/dev/null", "w");
  if (!out) return fail(fmt::format("rank {}: cannot open /dev/null: {}", rank, std::strerror(errno)));
  run.out = out;
  run.comm = world;
  int status = 0;
  try {
    if (*train_cmd) {
      run.terminal = rank == 0 && isatty(fileno(stdout)) != 0;
      status = mg::tools::run_train(train, run).finished ? 0 : 1;
    } else if (*eval_cmd) {
      mg::tools::run_eval(eval, out, world);
    } else if (*graph_cmd) {
      mg::tools::run_graph(graph);
      fmt::print("wrote {}{}\n", graph.out, graph.svg.empty() ? "" : " and " + graph.svg);
    } else if (*demo_cmd) {
      const auto r = mg::tools::run_demo(demo, stdout);
      fmt::print("loss fell from {:.4f} to {:.4f}\n", r.first_loss, r.final_loss);
      status = r.final_loss < r.first_loss ? 0 : 1;
    }
    // The ranks end together: one that hangs at the very end is noticed here, within the
    // timeout (Note [Collectives with a timeout]), not by an MPI_Finalize that never returns.
    if (world->size() > 1) world->barrier();
  } catch (const mg::NonFiniteError& e) {
    fail(e.what());
    status = kDiverged;
  } catch (const mg::meta::CommError& e) {
    fail(e.what());
    status = kRanksLost;
  } catch (const mg::Error& e) {
    status = fail(e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    status = fail(e.what());
  } catch (const std::system_error& e) {  // fmt::print on a stream that failed
    status = fail(fmt::format("write failed: {}", e.what()));
  } catch (const std::bad_alloc&) {
    status = fail("out of memory");
  } catch (const std::exception& e) {
    status = fail(fmt::format("internal error: {}", e.what()));
  }
  // Ending an MPI job after an error (every failed rank has printed its line above). Before
  // the first exchange a rank may fail alone (a folder missing on its node): it ends the
  // job at once, or the others would wait in the exchange. After it, an error is the same
  // on every rank (Note [Meta-batches over ranks] in meta/rank_batch.h), and rank 0 ends
  // the job once it has written the last checkpoint: another rank ending it first could
  // cut that write short. A lost rank ends it at once.
  if (status >= 2 && world->size() > 1) {
    std::fflush(stdout);
    std::fflush(stderr);
    if (rank == 0 || status == kRanksLost || world->bytes_sent() == 0) world->abort(status);
  }
  if (status >= 2) return status;
  // The results table and log lines are output too: a stdout that could not take
  // them (a full disk behind a redirection, /dev/full) is a failure, not exit 0.
  if (std::fflush(stdout) != 0 || std::ferror(stdout))
    return fail(fmt::format("cannot write to standard output: {}", std::strerror(errno)));
  return status;
}
