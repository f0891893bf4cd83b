// metalearn: the command line of metagrad.
//
//   metalearn train [flags]          meta-train (MAML, first-order MAML, Reptile, pretrained baseline)
//   metalearn eval --checkpoint F    evaluate a trained checkpoint on the test tasks
//   metalearn demo                   fit a small MLP to a sine with the autograd engine alone
//
// Invalid arguments and unreadable inputs print one line and exit with status 2.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "autograd/errors.h"
#include "autograd/kernels/blas.h"
#include "tools/cli.h"
#include "tools/demo.h"
#include "tools/train.h"

namespace {

void add_train_flags(CLI::App& cmd, mg::tools::TrainConfig& c) {
  cmd.add_option("--dataset", c.dataset, "sinusoid | omniglot")->capture_default_str();
  cmd.add_option("--data", c.data, "Omniglot folder (default: $METAGRAD_OMNIGLOT, else ../shared/data/omniglot)");
  cmd.add_option("--split", c.split, "Omniglot split: vinyals (1200 training characters) | official")
      ->capture_default_str();
  cmd.add_option("--algo", c.algo, "maml | fomaml | reptile | pretrain")->capture_default_str();
  cmd.add_option("--ways", c.ways, "N classes per task (omniglot; default 5)");
  cmd.add_option("--shots", c.shots, "K support examples per class (default: sinusoid 10, omniglot 1)");
  cmd.add_option("--train-shots", c.train_shots, "K of the training tasks only (default: --shots; Reptile on omniglot 10)");
  cmd.add_option("--queries", c.queries, "query examples per class (default: sinusoid 10, omniglot 15)");
  cmd.add_option("--inner-steps", c.inner_steps, "inner gradient steps during meta-training (default 1; Reptile 5)");
  cmd.add_option("--eval-inner-steps", c.eval_inner_steps, "inner steps at test time (default: sinusoid 10, omniglot 3)");
  cmd.add_option("--inner-optimizer", c.inner_optimizer,
                 "reptile's inner loop, in training and at test time: sgd | adam (default: omniglot adam, sinusoid sgd)");
  cmd.add_option("--inner-batch", c.inner_batch,
                 "reptile: support examples per inner step, drawn as successive shuffles (0: all; default: omniglot 10, sinusoid 0)");
  cmd.add_option("--inner-lr", c.inner_lr, "inner learning rate alpha (default: sinusoid 0.01, omniglot 0.4)");
  cmd.add_option("--meta-lr", c.meta_lr, "outer Adam learning rate beta, or Reptile's epsilon (default 1e-3; Reptile 1)");
  cmd.add_option("--meta-batch", c.meta_batch, "tasks per meta-update (default: sinusoid 25, omniglot 32)");
  cmd.add_option("--iterations", c.iterations, "meta-iterations (default: sinusoid 70000, omniglot 60000)");
  cmd.add_option("--seed", c.seed, "seed of the initialisation and the training tasks")->capture_default_str();
  cmd.add_option("--threads", c.threads,
                 "worker threads over the tasks of a meta-batch (default: one per core; results do not depend on it)");
  cmd.add_flag("--reset-inner-adam", c.reset_inner_adam,
               "reptile: a fresh inner Adam for every task (default: keep its second moment across tasks, as the paper's code)");
  cmd.add_flag("--learn-inner-lr", c.learn_inner_lr, "meta-learn one inner learning rate per parameter tensor");
  cmd.add_flag("--strided", c.strided, "omniglot: stride-2 convolutions instead of max-pooling");
  cmd.add_flag("!--no-baseline", c.baseline, "sinusoid: skip the pretrained baseline");
  cmd.add_option("--eval-tasks", c.eval_tasks, "test tasks in the final evaluation")->capture_default_str();
  cmd.add_option("--out", c.out, "output folder")->capture_default_str();
  cmd.add_option("--checkpoint-every", c.checkpoint_every, "iterations between checkpoints")->capture_default_str();
  cmd.add_option("--log-every", c.log_every, "iterations between log lines when not on a terminal")
      ->capture_default_str();
  cmd.add_flag("--resume", c.resume, "continue from OUT/checkpoint.mgc");
}

int fail(const std::string& message) { return mg::tools::usage_error("metalearn", message); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"metalearn: meta-learning with metagrad (MAML, first-order MAML, Reptile)"};
  app.require_subcommand(1);

  mg::tools::TrainConfig train;
  CLI::App* train_cmd = app.add_subcommand("train", "Meta-train on sinusoid regression or Omniglot");
  add_train_flags(*train_cmd, train);

  mg::tools::EvalRequest eval;
  CLI::App* eval_cmd = app.add_subcommand("eval", "Evaluate a checkpoint on the test tasks (mean ± 95% CI)");
  eval_cmd->add_option("--checkpoint", eval.checkpoint, "checkpoint.mgc written by train")->required();
  eval_cmd->add_option("--eval-tasks", eval.eval_tasks, "test tasks")->capture_default_str();
  eval_cmd->add_option("--eval-inner-steps", eval.eval_inner_steps, "inner steps at test time (default: as trained)");
  eval_cmd->add_option("--threads", eval.threads, "worker threads")->capture_default_str();
  eval_cmd->add_option("--data", eval.data, "Omniglot folder");

  mg::tools::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand("demo", "Fit a 1-40-40-1 MLP to sin(x) with the autograd engine alone");
  demo_cmd->add_option("--steps", demo.steps, "Adam steps")->check(CLI::Range(1, 10'000'000))->capture_default_str();
  demo_cmd->add_option("--lr", demo.lr, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "Seed of the initialisation")->capture_default_str();
  demo_cmd->add_option("--print-every", demo.print_every, "Print the loss every N steps")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();

  if (const auto status = mg::tools::parse_command_line(app, argc, argv, "metalearn")) return *status;

  // Tasks run on worker threads; BLAS stays single-threaded inside each.
  mg::kernels::set_blas_threads(1);
  try {
    if (*train_cmd) {
      mg::tools::RunOptions run;
      run.terminal = isatty(fileno(stdout)) != 0;
      return mg::tools::run_train(train, run).finished ? 0 : 1;
    }
    if (*eval_cmd) {
      mg::tools::run_eval(eval);
      return 0;
    }
    if (*demo_cmd) {
      const auto r = mg::tools::run_demo(demo, stdout);
      fmt::print("loss fell from {:.4f} to {:.4f}\n", r.first_loss, r.final_loss);
      return r.final_loss < r.first_loss ? 0 : 1;
    }
  } catch (const mg::Error& e) {
    return fail(e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    return fail(e.what());
  }
  return 0;
}
