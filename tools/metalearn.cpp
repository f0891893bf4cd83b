// metalearn: the command line of metagrad.
//
//   metalearn demo [--steps N] [--lr X] [--seed S]   fit a small MLP to a sine curve
//
// Invalid arguments print one line and exit with status 2.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "autograd/errors.h"
#include "autograd/kernels/blas.h"
#include "tools/demo.h"

int main(int argc, char** argv) {
  CLI::App app{"metalearn: meta-learning with metagrad"};
  app.require_subcommand(1);

  mg::tools::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand("demo", "Fit a 1-40-40-1 MLP to sin(x) with the autograd engine");
  demo_cmd->add_option("--steps", demo.steps, "Adam steps")->check(CLI::Range(1, 10'000'000))->capture_default_str();
  demo_cmd->add_option("--lr", demo.lr, "Adam learning rate")->check(CLI::PositiveNumber)->capture_default_str();
  demo_cmd->add_option("--seed", demo.seed, "Seed of the initialisation")->capture_default_str();
  demo_cmd->add_option("--print-every", demo.print_every, "Print the loss every N steps")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "metalearn: {}\n", e.what());
    return 2;
  }

  mg::kernels::set_blas_threads(1);
  try {
    if (*demo_cmd) {
      const auto r = mg::tools::run_demo(demo, stdout);
      fmt::print("loss fell from {:.4f} to {:.4f}\n", r.first_loss, r.final_loss);
      return r.final_loss < r.first_loss ? 0 : 1;
    }
  } catch (const mg::Error& e) {
    fmt::print(stderr, "metalearn: {}\n", e.what());
    return 2;
  }
  return 0;
}
