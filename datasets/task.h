// Tasks: what a meta-learner trains on (Finn et al. 2017, MAML, §2.1).
//
// A task T_i is a small supervised problem: a support set D_i = (support_x,
// support_y) that the inner loop adapts on (θ'_i = θ − α∇L_{D_i}(θ)) and a query
// set D'_i = (query_x, query_y) on which the adapted θ'_i is scored for the
// meta-update. A TaskSource is a family p(T) of such tasks, indexed by an
// integer: sample(i) always returns the same task i.
//
// Conventions
//   * Determinism: task i depends only on (the source's seed, i). Sources draw
//     their randomness from task_generator(seed, i), so any worker thread can
//     make any task, and a meta-batch is the same whatever the thread count.
//     Meta-step s with batch size B conventionally uses tasks s·B … s·B + B − 1.
//   * sample() is const and must be safe to call from several threads at once
//     (no mutable state; shared data is read-only).
//   * Tensors never require grad. Classification: x is [n, 1, 28, 28] and y is
//     [n] int64 labels; regression: x and y are [n, 1].
//   * Dtypes: the sources of this library (Omniglot, sinusoid) make float32 x (and
//     regression y), for float32 models. A float64 model (gradient checks; Note
//     [Models of either dtype] in nn/module.h) needs float64 inputs: task.to(DType::F64)
//     converts x and regression y and keeps int64 labels, and a source of your own may
//     make float64 tasks directly. The model's forward names the first parameter whose
//     dtype differs from x's; losses and metrics take y in the dtype of the model's output.
//
// Adding a task family of your own: derive from TaskSource, keep the seed, and
// build each task from task_generator(seed_, task_index). For example, tasks
// y = a·x + b with a, b ~ U[−1, 1] (tests/datasets/test_task.cpp runs it):
//
//   class LineTasks : public mg::data::TaskSource {
//    public:
//     explicit LineTasks(std::uint64_t seed) : seed_(seed) {}
//     mg::data::Task sample(std::uint64_t task_index) const override {
//       mg::Generator gen = mg::data::task_generator(seed_, task_index);
//       const double a = gen.uniform(-1, 1), b = gen.uniform(-1, 1);
//       auto points = [&](int n, mg::Tensor& x, mg::Tensor& y) {
//         x = mg::uniform({n, 1}, -5, 5, gen);
//         y = mg::Tensor(x.shape(), mg::DType::F32);
//         for (int i = 0; i < n; ++i) y.mutable_data<float>()[i] = float(a * x.data<float>()[i] + b);
//       };
//       mg::data::Task task;
//       points(5, task.support_x, task.support_y);
//       points(10, task.query_x, task.query_y);
//       return task;
//     }
//    private:
//     std::uint64_t seed_;
//   };
//
// then `sample_tasks(LineTasks(7), step * 8, 8)` gives meta-step `step`'s batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "autograd/random.h"
#include "autograd/tensor.h"

namespace mg::data {

struct Task {
  Tensor support_x = {}, support_y = {};  // D_i: what the inner loop adapts on
  Tensor query_x = {}, query_y = {};      // D'_i: what the adapted parameters are scored on

  // The same task with its floating tensors converted to `dtype` (copies); int64 labels
  // and undefined tensors are kept as they are. DTypeError for a dtype that is not floating.
  Task to(DType dtype) const;
};

class TaskSource {
 public:
  virtual ~TaskSource() = default;
  // Task number `task_index` of this family; the same index gives the same task.
  virtual Task sample(std::uint64_t task_index) const = 0;
  // An estimate of the bytes of one task's tensors, for the up-front memory checks of
  // sample_tasks and meta::evaluate (autograd/memory.h); 0 when unknown. Saturates at
  // mg::kUnbounded instead of overflowing.
  virtual std::uint64_t task_bytes() const { return 0; }
};

// The generator for task `task_index` of a source seeded with `seed`: the two are
// mixed with SplitMix64 (Steele et al. 2014) so that neighbouring seeds and
// indices give unrelated streams. Part of the reproducibility contract: changing
// it changes every task of every source.
Generator task_generator(std::uint64_t seed, std::uint64_t task_index);

// Tasks first_task, …, first_task + count − 1 of `source`, in that order, made by
// `threads` worker threads (1: the calling thread only; 0: one per core). The
// result does not depend on `threads`. An exception from a task is rethrown for
// the lowest failing index. ValueError for negative `threads`; MemoryError, before
// any task is made, when `count` tasks of source.task_bytes() exceed the machine's memory.
std::vector<Task> sample_tasks(const TaskSource& source, std::uint64_t first_task,
                               std::size_t count, int threads = 1);

}  // namespace mg::data
