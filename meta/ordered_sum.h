// OrderedSum: the sum of per-group tensor lists in group order, taken as groups
// finish on worker threads (Note [Task parallelism] in meta/meta_learner.h).
//
//   OrderedSum total(groups.size());
//   parallel_for(groups.size(), threads, [&](std::size_t i, int) { total.add(i, task_gradient(i)); });
//   std::vector<Tensor> sum = total.take();   // ((g0 + g1) + g2) + …, elementwise
//
// The additions are the same, in the same order, as summing all the lists after the
// batch, so the bits are too. But a group's list is added (and freed) as soon as the
// groups before it are in, instead of every list living until the batch ends: with
// one thread nothing waits, with T threads about T lists do. For an Omniglot conv4
// meta-batch of 32 that is 14 MB of per-task meta-gradients not kept.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "autograd/tensor.h"

namespace mg::meta {

class OrderedSum {
 public:
  explicit OrderedSum(std::size_t groups);
  // Group i's terms (the same count and shapes for every group). Thread-safe; each
  // group is added exactly once.
  void add(std::size_t group, std::vector<Tensor> terms);
  // The sum, once every group is in (ValueError otherwise).
  std::vector<Tensor> take();

 private:
  std::mutex mutex_;
  std::size_t next_ = 0;  // the first group not yet summed
  std::vector<std::vector<Tensor>> waiting_;
  std::vector<char> arrived_;
  std::vector<Tensor> sum_;
};

}  // namespace mg::meta
