// TaskGroup: the tasks one worker handles at once in a meta-step.
//
// A group is either a single task, run through the module's ordinary functional
// forward, or a stack of T tasks of equal shapes run through forward_tasks
// (Note [Task stacks] in nn/module.h): θ is repeated into T copies, the support
// and query sets are stacked along a new leading axis, and every loss is the
// sum of the group's task losses. Because the copies never mix, the gradient of
// that sum with respect to the stacked θ holds each task's own gradient, so the
// inner loop of MAML is the same code for one task or many; the stacked form
// replaces T small ops by one batched op, which is what makes small networks
// (the sinusoid MLP) fast.
//
//   TaskGroup group(model, objective, tasks.subspan(b, n), /*stack=*/true);
//   theta_i = adapt([&](auto t) { return group.support_loss(t); }, group.start(theta), lr, k, mode);
//   Tensor prediction = group.predict_query(theta_i);
//   Tensor loss_sum = group.query_loss(prediction);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/task.h"
#include "meta/objective.h"
#include "nn/module.h"

namespace mg::meta {

class TaskGroup {
 public:
  // Stacks `tasks` when `stack` is true, else `tasks` must hold exactly one task.
  // ValueError for an empty group or several tasks unstacked; ShapeError when
  // stacked tasks differ in shape.
  TaskGroup(nn::Module& model, const Objective& objective, std::span<const data::Task> tasks, bool stack);

  // Whether `model` can run `tasks` as one stack: it supports task stacks and all
  // tasks' sets have the same shapes.
  static bool can_stack(const nn::Module& model, std::span<const data::Task> tasks);

  std::int64_t size() const { return size_; }
  bool stacked() const { return stacked_; }

  // The starting parameters: θ itself, or θ repeated into one copy per task.
  std::vector<Tensor> start(std::span<const Tensor> theta) const;
  // Σ over the group of L(f_θ(support x), support y).
  Tensor support_loss(std::span<const Tensor> theta) const;
  // The same on a minibatch: rows[t] are the support examples of the group's t-th task
  // to use (one list per task, all of one length; repeats allowed). ValueError for a
  // wrong number of lists, unequal or empty lists, or a row out of range.
  Tensor support_loss(std::span<const Tensor> theta, const std::vector<std::vector<std::int64_t>>& rows) const;
  // Support examples per task.
  std::int64_t support_size() const { return support_x_.shape()[stacked_ ? 1 : 0]; }
  // f_θ(query x) (stacked: [T, n, ...]).
  Tensor predict_query(std::span<const Tensor> theta) const;
  // Σ over the group of L(prediction, query y).
  Tensor query_loss(const Tensor& prediction) const;
  // The objective's metric on each task's query set, in task order (no tape).
  std::vector<double> query_metrics(const Tensor& prediction) const;

 private:
  Tensor forward(const Tensor& x, std::span<const Tensor> theta) const;
  Tensor summed_loss(const Tensor& prediction, const Tensor& target) const;

  nn::Module& model_;
  const Objective& objective_;
  Tensor support_x_, support_y_, query_x_, query_y_;
  std::int64_t size_ = 0;
  bool stacked_ = false;
};

// Contiguous index ranges [begin, end) covering n tasks: one per task when
// `stacks` is 0, else min(stacks, n) nearly equal ranges. The split depends only
// on n and `stacks`, never on the thread count (Note [Task parallelism]).
std::vector<std::pair<std::size_t, std::size_t>> task_ranges(std::size_t n, int stacks);

// How a meta-step splits its tasks into groups: `stacks` task stacks when the model
// can run them stacked (can_stack; stacks > 0), else one task per group.
struct GroupPlan {
  bool stacked = false;
  std::vector<std::pair<std::size_t, std::size_t>> ranges = {};
  // The TaskGroup of ranges[i].
  TaskGroup group(nn::Module& model, const Objective& objective, std::span<const data::Task> tasks,
                  std::size_t i) const;
};
GroupPlan plan_groups(const nn::Module& model, std::span<const data::Task> tasks, int stacks);

}  // namespace mg::meta
