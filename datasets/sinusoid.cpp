// Sinusoid task family; see sinusoid.h.
#include "datasets/sinusoid.h"

#include <cmath>
#include <string>

#include "autograd/errors.h"
#include "autograd/memory.h"

namespace mg::data {
namespace {

void check_range(const char* name, double lo, double hi) {
  if (!(lo < hi)) {
    throw ValueError(std::string("sinusoid: ") + name + " range must have min < max, got [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

// Draws n points x ~ U[x_min, x_max] from `gen` and their values under `wave`.
void draw_points(const SinusoidConfig& c, const SinusoidParams& wave, int n, Generator& gen,
                 Tensor& x, Tensor& y) {
  x = Tensor({n, 1}, DType::F32);
  y = Tensor({n, 1}, DType::F32);
  float* xs = x.mutable_data<float>();
  float* ys = y.mutable_data<float>();
  for (int i = 0; i < n; ++i) {
    const double v = gen.uniform(c.x_min, c.x_max);
    xs[i] = static_cast<float>(v);
    ys[i] = static_cast<float>(wave(v));
  }
}

}  // namespace

double SinusoidParams::operator()(double x) const { return amplitude * std::sin(x - phase); }

SinusoidTasks::SinusoidTasks(const SinusoidConfig& config) : config_(config) {
  if (config.k_shot < 1) {
    throw ValueError("sinusoid: k_shot must be >= 1, got " + std::to_string(config.k_shot));
  }
  if (config.q_query < 0) {
    throw ValueError("sinusoid: q_query must be >= 0, got " + std::to_string(config.q_query));
  }
  check_range("amplitude", config.amplitude_min, config.amplitude_max);
  check_range("phase", config.phase_min, config.phase_max);
  check_range("x", config.x_min, config.x_max);
  check_memory("sinusoid", "tasks of " + std::to_string(config.k_shot) + " shots and " +
                               std::to_string(config.q_query) + " queries",
               task_bytes());
}

// x and y, float32, for each of the K + Q points.
std::uint64_t SinusoidTasks::task_bytes() const {
  const auto points = static_cast<std::uint64_t>(config_.k_shot) + static_cast<std::uint64_t>(config_.q_query);
  return saturating_mul(points, 2 * sizeof(float));
}

SinusoidParams SinusoidTasks::params(std::uint64_t task_index) const {
  Generator gen = task_generator(config_.seed, task_index);
  const double amplitude = gen.uniform(config_.amplitude_min, config_.amplitude_max);
  const double phase = gen.uniform(config_.phase_min, config_.phase_max);
  return {amplitude, phase};
}

Task SinusoidTasks::sample(std::uint64_t task_index) const {
  Generator gen = task_generator(config_.seed, task_index);
  SinusoidParams wave{};
  wave.amplitude = gen.uniform(config_.amplitude_min, config_.amplitude_max);
  wave.phase = gen.uniform(config_.phase_min, config_.phase_max);
  Task task;
  draw_points(config_, wave, config_.k_shot, gen, task.support_x, task.support_y);
  draw_points(config_, wave, config_.q_query, gen, task.query_x, task.query_y);
  return task;
}

}  // namespace mg::data
