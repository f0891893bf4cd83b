#include "meta/reptile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/grad.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "autograd/tape.h"
#include "meta/option_checks.h"

namespace mg::meta {

namespace {

// A seed for task `task_number`'s minibatches, mixed so that neighbouring tasks
// and seeds give unrelated streams: splitmix64 of seed·φ + task_number + c, where
// φ·2⁶⁴ = 0x9E37…7C15 and c keeps the streams of the first runs (the finaliser of
// seed·φ + task_number + 0x632B…E019, as this was first written).
std::uint64_t mix(std::uint64_t seed, std::uint64_t task_number) {
  return splitmix64(seed * 0x9E3779B97F4A7C15ULL + task_number + 0xC4F46BE25A6A6404ULL);
}

}  // namespace

std::vector<std::vector<std::int64_t>> minibatch_rows(std::int64_t n, std::int64_t batch, int k, std::uint64_t seed) {
  if (n < 1 || batch < 1 || k < 0)
    throw ValueError(fmt::format("minibatch rows: need n >= 1, batch >= 1, k >= 0; got n {}, batch {}, k {}", n,
                                 batch, k));
  Generator gen(seed);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::size_t next = order.size();  // the current permutation is used up
  std::vector<std::vector<std::int64_t>> out(static_cast<std::size_t>(k));
  for (auto& rows : out) {
    while (static_cast<std::int64_t>(rows.size()) < batch) {
      if (next == order.size()) {  // a fresh permutation (Fisher–Yates)
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
        for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[gen.below(i + 1)]);
        next = 0;
      }
      rows.push_back(order[next++]);
    }
  }
  return out;
}

Reptile::Reptile(nn::Module& model, Objective objective, const ReptileOptions& options)
    : MetaLearner(model, std::move(objective), options.meta_batch, options.threads, options.task_stacks),
      options_(options) {
  check_inner_steps("reptile", options.inner_steps, 1);
  check_task_stacks("reptile", options.task_stacks);
  check_inner_lr("reptile", options.inner_lr, RateBound::Positive);
  check_reptile_epsilon("reptile", options.epsilon, options.anneal_iterations);
  if (options.inner_batch < 0)
    throw ValueError(fmt::format("reptile: inner_batch must be >= 0, got {}", options.inner_batch));
  if (keeps_adam_state()) {
    NoGradGuard no_grad;
    for (const Tensor& t : model.parameters()) adam_v_.push_back(zeros_like(t.detach()));
    adam_step_ = scalar(0.0, DType::F64);
  }
}

bool Reptile::keeps_adam_state() const {
  return options_.keep_adam_state && options_.inner_optimizer == InnerOptimizer::Adam;
}

double Reptile::epsilon_at(std::int64_t iteration) const {
  return annealed_epsilon(options_.epsilon, options_.anneal_iterations, iteration);
}

std::vector<Tensor> Reptile::inner_loop(const data::Task& task, std::uint64_t task_number) const {
  return adapt_group(TaskGroup(model(), objective(), std::span(&task, 1), false), task_number).weights();
}

Adaptation Reptile::adapt_group(const TaskGroup& group, std::uint64_t first_task) const {
  // Adam and SGD act elementwise, so one optimizer over a stack of W_i is the same
  // as one optimizer per task.
  InnerLrSetting rule = test_inner_lr_for(options_.inner_lr);
  rule.adam_v = group.start(rule.adam_v);  // the kept v, repeated like θ over a stack
  // Aliases: stacking records on this thread's tape, and recording binds its inputs; the
  // shared parameters themselves must not be bound by several workers at once (a data
  // race that ThreadSanitizer found, tools/quickstart.sh tsan).
  Adaptation w(group.start(thread_aliases(model().parameters())), rule);
  const int k = options_.inner_steps;
  if (options_.inner_batch == 0) {
    w.run([&](std::span<const Tensor> t) { return group.support_loss(t); }, k);
    return w;
  }
  // Minibatches: rows[t][s] are task t's examples at inner step s.
  std::vector<std::vector<std::vector<std::int64_t>>> rows;
  for (std::int64_t t = 0; t < group.size(); ++t)
    rows.push_back(minibatch_rows(group.support_size(), options_.inner_batch, k,
                                  mix(options_.seed, first_task + static_cast<std::uint64_t>(t))));
  for (int s = 0; s < k; ++s) {
    std::vector<std::vector<std::int64_t>> step_rows;
    for (const auto& r : rows) step_rows.push_back(r[static_cast<std::size_t>(s)]);
    w.run([&](std::span<const Tensor> t) { return group.support_loss(t, step_rows); }, 1);
  }
  return w;
}

// The inner loop and its statistics for one group of the batch, on a worker thread:
// W_i for each task, and Σ_i W_i (and Σ_i of the final Adam v) as the terms the
// driver sums (Note [Meta-batch driver]).
GroupResult Reptile::task_step(const GroupAt& at) const {
  const TaskGroup tasks = group(at);
  const Adaptation adapted = adapt_group(tasks, at.first_task);
  const std::vector<Tensor>& w = adapted.weights();
  // Statistics: the adapted weights on the tasks' query sets.
  TapeScope scope;
  NoGradGuard no_grad;
  const Tensor prediction = tasks.predict_query(w);
  GroupResult r{{}, tasks.query_loss(prediction).item(), {tasks.query_metrics(prediction)}};
  for (const Tensor& wj : w) r.terms.push_back(at.stacked ? sum(wj, {0}) : wj);
  if (keeps_adam_state())
    for (const Tensor& vj : adapted.second_moments()) r.terms.push_back(at.stacked ? sum(vj, {0}) : vj);
  return r;
}

// mean_i (W_i − θ), then (kept Adam state) the mean of the tasks' final v.
std::vector<Tensor> Reptile::outer_direction(const BatchResult& batch, std::int64_t) const {
  std::vector<Tensor> d = batch.mean();
  const std::vector<Tensor> theta = model().parameters();
  NoGradGuard no_grad;
  for (std::size_t j = 0; j < theta.size(); ++j) d[j] = d[j] - theta[j];
  return d;
}

// θ ← θ + ε · mean_i (W_i − θ); the kept v becomes the batch's mean, its step count
// advances by k. Written in place (the optimizers do the same, under no-grad).
void Reptile::outer_update(const std::vector<Tensor>& direction, std::int64_t iteration) {
  auto overwrite = [](Tensor& target, const Tensor& value) {
    std::copy_n(static_cast<const char*>(value.raw_data()), value.nbytes(), static_cast<char*>(target.mutable_raw_data()));
  };
  const double eps = epsilon_at(iteration);
  NoGradGuard no_grad;
  std::vector<Tensor> theta = model().parameters();
  for (std::size_t j = 0; j < theta.size(); ++j) overwrite(theta[j], theta[j] + direction[j] * eps);
  if (!keeps_adam_state()) return;
  for (std::size_t j = 0; j < adam_v_.size(); ++j) overwrite(adam_v_[j], direction[theta.size() + j]);
  overwrite(adam_step_, adam_step_ + static_cast<double>(options_.inner_steps));
}

InnerLrSetting Reptile::test_inner_lr() const {
  return test_inner_lr_for(options_.eval_inner_lr < 0 ? options_.inner_lr : options_.eval_inner_lr);
}

InnerLrSetting Reptile::test_inner_lr_for(double lr) const {
  InnerLrSetting rule{lr, {}, options_.inner_optimizer, options_.inner_adam_beta1};
  if (keeps_adam_state()) {
    rule.adam_v = adam_v_;
    rule.adam_step = static_cast<std::int64_t>(adam_step_.item());
  }
  return rule;
}

std::vector<nn::NamedTensor> Reptile::extra_parameters() const {
  if (!keeps_adam_state()) return {};
  std::vector<nn::NamedTensor> out;
  for (std::size_t j = 0; j < adam_v_.size(); ++j) out.push_back({fmt::format("reptile.adam_v.{}", j), adam_v_[j]});
  out.push_back({"reptile.adam_step", adam_step_});
  return out;
}

}  // namespace mg::meta
