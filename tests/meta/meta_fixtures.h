// Small float64 models and tasks for the meta-learner tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
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

// `g` against central differences of `objective` in every element of `params` (float64
// tensors, each element moved by ±h in place and restored): the largest relative error
// |fd − g| / (1e-4 + |fd|), and per tensor the largest |fd| (to show a check is not vacuous).
struct FdComparison {
  double worst = 0;
  std::vector<double> largest = {};
};
inline FdComparison compare_with_central_differences(const std::vector<Tensor>& params, const std::vector<Tensor>& g,
                                                     const std::function<double()>& objective, double h = 1e-6) {
  FdComparison out;
  out.largest.assign(params.size(), 0.0);
  for (std::size_t j = 0; j < params.size(); ++j)
    for (std::int64_t e = 0; e < params[j].numel(); ++e) {
      Tensor param = params[j];
      double* p = param.mutable_data<double>() + e;
      const double p0 = *p;
      *p = p0 + h;
      const double up = objective();
      *p = p0 - h;
      const double down = objective();
      *p = p0;
      const double fd = (up - down) / (2 * h);
      out.worst = std::max(out.worst, std::abs(fd - g[j].data<double>()[e]) / (1e-4 + std::abs(fd)));
      out.largest[j] = std::max(out.largest[j], std::abs(fd));
    }
  return out;
}

// Whether two parameter lists hold bit-identical values.
inline bool bit_identical(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].nbytes() != b[i].nbytes() || std::memcmp(a[i].raw_data(), b[i].raw_data(), a[i].nbytes()) != 0)
      return false;
  return true;
}

// 2 -> 6 -> `ways` tanh classifier in float64: a model that runs task stacks and takes
// int64 class labels.
inline nn::Sequential tiny_classifier(std::uint64_t seed, std::int64_t ways = 3) {
  Generator gen(seed);
  nn::Sequential net;
  net.emplace<nn::Linear>(2, 6, gen).emplace<nn::Tanh>().emplace<nn::Linear>(6, ways, gen);
  net.to(DType::F64);
  return net;
}

// N-way tasks of 2-D points in float64 with int64 labels: class c of task i is a unit
// Gaussian blob around a centre drawn for (seed, i, c); K support and Q query points per
// class, in class order.
class BlobTasks : public data::TaskSource {
 public:
  BlobTasks(std::int64_t ways, std::int64_t k, std::int64_t q, std::uint64_t seed)
      : ways_(ways), k_(k), q_(q), seed_(seed) {}
  data::Task sample(std::uint64_t i) const override {
    Generator gen = data::task_generator(seed_, i);
    std::vector<double> centres;
    for (std::int64_t c = 0; c < 2 * ways_; ++c) centres.push_back(gen.uniform(-3, 3));
    auto points = [&](std::int64_t per_class, Tensor& x, Tensor& y) {
      std::vector<double> xs;
      std::vector<std::int64_t> ys;
      for (std::int64_t c = 0; c < ways_; ++c)
        for (std::int64_t j = 0; j < per_class; ++j) {
          xs.push_back(centres[static_cast<std::size_t>(2 * c)] + gen.normal());
          xs.push_back(centres[static_cast<std::size_t>(2 * c + 1)] + gen.normal());
          ys.push_back(c);
        }
      x = from_vector(xs, Shape({ways_ * per_class, 2}));
      y = from_vector(ys, Shape({ways_ * per_class}));
    };
    data::Task task;
    points(k_, task.support_x, task.support_y);
    points(q_, task.query_x, task.query_y);
    return task;
  }

 private:
  std::int64_t ways_, k_, q_;
  std::uint64_t seed_;
};

}  // namespace mg::test
