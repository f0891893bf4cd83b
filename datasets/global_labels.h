// Episodes with global labels: the tasks a pretrained classifier learns from
// (Note [Pretraining a classifier], meta/pretrain.h).
//
// An N-way episode labels its classes 0 … N − 1 in a new order every time, so one
// network cannot learn those labels jointly. GlobalLabelTasks relabels each row with
// its class's index in the pool (0 … pool classes − 1) and keeps x as the sampler
// made it: the same draws, one classifier over all the pool's classes. It works on
// any ClassEpisodes, the sources that can name the pool classes of a task: images
// (EpisodeSampler, episodes.h) and text (TextEpisodeSampler, text_episodes.h).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "datasets/task.h"

namespace mg::data {

// An N-way episode source that knows which pool classes task i holds.
class ClassEpisodes : public TaskSource {
 public:
  // The pool classes of task `task_index`, in label order (label j is classes[j]).
  virtual std::vector<std::int64_t> classes(std::uint64_t task_index) const = 0;
  // The classes of the pool the episodes are drawn from.
  virtual std::int64_t pool_classes() const = 0;
};

class GlobalLabelTasks : public TaskSource {
 public:
  // ValueError for a null source.
  explicit GlobalLabelTasks(std::shared_ptr<const ClassEpisodes> episodes);

  Task sample(std::uint64_t task_index) const override;
  std::uint64_t task_bytes() const override { return episodes_->task_bytes(); }
  // The classifier's outputs: the pool's classes.
  std::int64_t num_classes() const { return episodes_->pool_classes(); }

 private:
  std::shared_ptr<const ClassEpisodes> episodes_;
};

}  // namespace mg::data
