// Learning-rate schedules: lr(step) for step = 0, 1, 2, ... (the number of
// optimizer steps taken so far).
//   StepLr:   lr = base · gamma^floor(step / step_size)
//   CosineLr: lr = min + (base - min) · (1 + cos(π · min(step, total) / total)) / 2
//             (Loshchilov & Hutter 2017, without restarts); stays at min after `total`.
//
//   for (step = 0; ...; ++step) { schedule.apply(opt, step); opt.step(grads); }
#pragma once

#include <cstdint>

#include "nn/optimizer.h"

namespace mg::nn {

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  virtual double lr(std::int64_t step) const = 0;
  // Sets the optimizer's learning rate for `step`.
  void apply(Optimizer& opt, std::int64_t step) const { opt.set_lr(lr(step)); }
};

class StepLr : public LrSchedule {
 public:
  // ValueError unless step_size > 0 and gamma >= 0.
  StepLr(double base, std::int64_t step_size, double gamma);
  double lr(std::int64_t step) const override;

 private:
  double base_, gamma_;
  std::int64_t step_size_;
};

class CosineLr : public LrSchedule {
 public:
  // ValueError unless total_steps > 0.
  CosineLr(double base, std::int64_t total_steps, double min_lr = 0.0);
  double lr(std::int64_t step) const override;

 private:
  double base_, min_;
  std::int64_t total_;
};

}  // namespace mg::nn
