#include "meta/option_checks.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "autograd/errors.h"

namespace mg::meta {

void check_inner_steps(std::string_view who, int steps, int at_least) {
  if (steps < at_least) throw ValueError(fmt::format("{}: inner_steps must be >= {}, got {}", who, at_least, steps));
}

void check_task_stacks(std::string_view who, int stacks) {
  if (stacks < 0) throw ValueError(fmt::format("{}: task_stacks must be >= 0, got {}", who, stacks));
}

void check_inner_lr(std::string_view who, double lr, RateBound bound) {
  switch (bound) {
    case RateBound::Any:
      if (!std::isfinite(lr)) throw ValueError(fmt::format("{}: inner_lr must be finite, got {}", who, lr));
      return;
    case RateBound::NonNegative:
      if (!(lr >= 0.0) || !std::isfinite(lr))
        throw ValueError(fmt::format("{}: inner_lr must be finite and >= 0, got {}", who, lr));
      return;
    case RateBound::Positive:
      if (!(lr > 0.0) || !std::isfinite(lr))
        throw ValueError(fmt::format("{}: inner_lr must be finite and > 0, got {}", who, lr));
      return;
  }
}

void check_checkpoint_steps(std::string_view who, bool checkpoint_steps, bool first_order) {
  if (checkpoint_steps && first_order)
    throw ValueError(fmt::format("{}: checkpoint_steps is for second order: first order differentiates through no "
                                 "inner gradient, so it has no inner-step graph to recompute",
                                 who));
}

void check_reptile_epsilon(std::string_view who, double epsilon, std::int64_t anneal_iterations) {
  if (!(epsilon > 0.0) || !std::isfinite(epsilon))
    throw ValueError(fmt::format("{}: epsilon must be finite and > 0, got {}", who, epsilon));
  if (anneal_iterations < 0)
    throw ValueError(fmt::format("{}: anneal_iterations must be >= 0, got {}", who, anneal_iterations));
}

double annealed_epsilon(double epsilon, std::int64_t anneal_iterations, std::int64_t iteration) {
  if (anneal_iterations == 0) return epsilon;
  const double frac = static_cast<double>(iteration) / static_cast<double>(anneal_iterations);
  return epsilon * std::max(0.0, 1.0 - frac);
}

}  // namespace mg::meta
