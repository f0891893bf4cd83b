#include "nn/lr_schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "autograd/errors.h"

namespace mg::nn {

StepLr::StepLr(double base, std::int64_t step_size, double gamma) : base_(base), gamma_(gamma), step_size_(step_size) {
  if (step_size <= 0 || gamma < 0.0)
    throw ValueError(fmt::format("StepLr: need step_size > 0 and gamma >= 0, got {} and {}", step_size, gamma));
}

double StepLr::lr(std::int64_t step) const {
  return base_ * std::pow(gamma_, static_cast<double>(std::max<std::int64_t>(step, 0) / step_size_));
}

CosineLr::CosineLr(double base, std::int64_t total_steps, double min_lr) : base_(base), min_(min_lr), total_(total_steps) {
  if (total_steps <= 0) throw ValueError(fmt::format("CosineLr: need total_steps > 0, got {}", total_steps));
}

double CosineLr::lr(std::int64_t step) const {
  const double progress = static_cast<double>(std::clamp<std::int64_t>(step, 0, total_)) / static_cast<double>(total_);
  return min_ + (base_ - min_) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace mg::nn
