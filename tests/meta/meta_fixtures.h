// Small float64 models and tasks for the meta-learner tests.
#pragma once

#include <cstring>
#include <vector>

#include "autograd/creation.h"
#include "datasets/sinusoid.h"
#include "datasets/task.h"
#include "nn/activations.h"
#include "nn/linear.h"
#include "nn/sequential.h"

namespace mg::test {

// 1 -> 4 -> 1 tanh MLP in float64.
inline nn::Sequential tiny_mlp(std::uint64_t seed) {
  Generator gen(seed);
  nn::Sequential net;
  net.emplace<nn::Linear>(1, 4, gen).emplace<nn::Tanh>().emplace<nn::Linear>(4, 1, gen);
  net.to(DType::F64);
  return net;
}

inline data::Task to_f64(const data::Task& t) {
  return {t.support_x.to(DType::F64), t.support_y.to(DType::F64), t.query_x.to(DType::F64), t.query_y.to(DType::F64)};
}

// A float64 view of a float32 task source.
class F64Tasks : public data::TaskSource {
 public:
  explicit F64Tasks(const data::TaskSource& inner) : inner_(inner) {}
  data::Task sample(std::uint64_t i) const override { return to_f64(inner_.sample(i)); }

 private:
  const data::TaskSource& inner_;
};

// `n` sinusoid tasks in float64 (K support, Q query points).
inline std::vector<data::Task> sine_tasks(int n, int k = 5, int q = 6, std::uint64_t seed = 3) {
  data::SinusoidConfig config;
  config.k_shot = k;
  config.q_query = q;
  config.seed = seed;
  const data::SinusoidTasks source(config);
  std::vector<data::Task> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(to_f64(source.sample(static_cast<std::uint64_t>(i))));
  return tasks;
}

// Whether two parameter lists hold bit-identical values.
inline bool bit_identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].nbytes() != b[i].nbytes() || std::memcmp(a[i].raw_data(), b[i].raw_data(), a[i].nbytes()) != 0)
      return false;
  return true;
}

}  // namespace mg::test
