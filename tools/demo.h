// The `metalearn demo` job: fits a small MLP to one sine curve with the
// autograd engine alone (no nn/ needed), printing the loss as it falls.
// It is also the smallest complete example of the autograd API.
#pragma once

#include <cstdint>
#include <cstdio>

namespace mg::tools {

struct DemoOptions {
  int steps = 2000;
  double lr = 0.01;
  std::uint64_t seed = 0;
  int print_every = 200;
};

struct DemoResult {
  double first_loss = 0.0;
  double final_loss = 0.0;
};

// Runs the fit, printing one line every print_every steps to `out`.
DemoResult run_demo(const DemoOptions& options, std::FILE* out);

}  // namespace mg::tools
