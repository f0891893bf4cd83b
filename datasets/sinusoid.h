// Sinusoid regression tasks (Finn et al. 2017, MAML, §5.1).
//
// Each task is a sine wave  y = A · sin(x − φ)  with amplitude A ~ U[0.1, 5.0] and
// phase φ ~ U[0, π]; its K support points and Q query points have x ~ U[−5, 5].
// (The paper trains with K = 5 or 10 and uses K query points per task.)
//
// Conventions
//   * Task i is drawn from task_generator(seed, i) in this order: A, φ, the K
//     support x values, the Q query x values (see task.h).
//   * support_x, support_y are [K, 1] float32; query_x, query_y are [Q, 1].
//   * y is computed in double and rounded once to float32.
#pragma once

#include <cstdint>
#include <numbers>

#include "datasets/task.h"

namespace mg::data {

struct SinusoidConfig {
  int k_shot = 10;   // K support points per task
  int q_query = 10;  // Q query points per task (may be 0)
  double amplitude_min = 0.1, amplitude_max = 5.0;
  double phase_min = 0.0, phase_max = std::numbers::pi;
  double x_min = -5.0, x_max = 5.0;
  std::uint64_t seed = 0;
};

struct SinusoidParams {
  double amplitude = 0;  // A
  double phase = 0;      // φ
  // A · sin(x − φ)
  double operator()(double x) const;
};

class SinusoidTasks : public TaskSource {
 public:
  // ValueError for k_shot < 1, q_query < 0 or an empty/reversed range; MemoryError
  // when one task's K + Q points exceed the machine's memory.
  explicit SinusoidTasks(const SinusoidConfig& config = {});

  // The wave of task `task_index` (the first two draws of its generator).
  SinusoidParams params(std::uint64_t task_index) const;
  Task sample(std::uint64_t task_index) const override;
  std::uint64_t task_bytes() const override;
  const SinusoidConfig& config() const { return config_; }

 private:
  SinusoidConfig config_;
};

}  // namespace mg::data
