// N-way K-shot episodes (Vinyals et al. 2016, §2; MAML, Finn et al. 2017, §3.1
// and §5.2): a classification task is N classes drawn from a pool, K labelled
// support examples and Q query examples of each.
//
// Sampling task i: the draws of episode_draw.h (N classes, then K + Q examples
// of each, all from task_generator(seed, i)), shared with the text sampler.
// Layout (class-major): support_x [N·K, …example shape] float32 with rows
// class 0's K shots, then class 1's, …; support_y [N·K] int64 holds the labels;
// query_x [N·Q, …], query_y [N·Q] likewise. For Omniglot the example shape is
// [1, 28, 28], ready for a conv net.
//
// Omniglot classes (OmniglotClasses): with rotations on, each character c gives
// four classes 4c + r, its drawings rotated counter-clockwise by r·90° (Santoro
// et al. 2016; MAML §5.2) — rotated on the fly, nothing extra is stored. The
// MAML setting is rotations on for meta-training and off for meta-testing.
//
// Putting it together (the MAML Omniglot setting, 5-way 1-shot, meta-batch 32):
//
//   const auto chars = mg::data::list_omniglot_characters(root);
//   const auto split = mg::data::vinyals_omniglot_split(chars);          // splits.h
//   auto train = std::make_shared<const mg::data::Omniglot>(mg::data::Omniglot::load(root, split.train));
//   const mg::data::EpisodeSampler sampler(
//       std::make_shared<mg::data::OmniglotClasses>(train, /*rotations=*/true),
//       {.n_way = 5, .k_shot = 1, .q_query = 1, .seed = 1});
//   std::vector<mg::data::Task> batch = mg::data::sample_tasks(sampler, step * 32, 32, /*threads=*/2);
//
// A pool of your own: derive from ClassPool (num_classes, num_examples,
// example_shape, copy_example, class_name) and hand it to EpisodeSampler.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autograd/shape.h"
#include "datasets/episode_draw.h"
#include "datasets/global_labels.h"
#include "datasets/omniglot.h"
#include "datasets/task.h"

namespace mg::data {

// Labelled examples grouped by class: what an episode sampler draws from.
// Implementations are read-only after construction (see TaskSource::sample).
// num_classes, num_examples and class_name come from ClassCounts (episode_draw.h).
class ClassPool : public ClassCounts {
 public:
  // Shape of one example, e.g. [1, 28, 28].
  virtual Shape example_shape() const = 0;
  // Writes example_shape().numel() floats of example `example` of class `cls`.
  virtual void copy_example(std::int64_t cls, int example, float* out) const = 0;
};

// Characters of a loaded Omniglot as classes, optionally with rotated copies.
class OmniglotClasses : public ClassPool {
 public:
  // `characters` must all be loaded in `data` (DataError naming the first that is not).
  // Rotations are on by default, the MAML training setting; pass false for test pools.
  OmniglotClasses(std::shared_ptr<const Omniglot> data, std::span<const std::string> characters,
                  bool rotations = true);
  // Every loaded character. Class indices out of range are ValueErrors.
  explicit OmniglotClasses(std::shared_ptr<const Omniglot> data, bool rotations = true);

  std::int64_t num_classes() const override;
  int num_examples(std::int64_t cls) const override;
  Shape example_shape() const override;
  void copy_example(std::int64_t cls, int example, float* out) const override;
  std::string class_name(std::int64_t cls) const override;
  bool rotations() const { return rotations_; }

 private:
  // Index into data_ of class `cls`'s character; ValueError when out of range.
  std::size_t character_of(std::int64_t cls) const;

  std::shared_ptr<const Omniglot> data_;
  std::vector<std::size_t> characters_;  // indices into data_
  bool rotations_;
};

class EpisodeSampler : public ClassEpisodes {
 public:
  // The errors of check_episode_config (episode_draw.h); MemoryError when one
  // task (N·(K + Q) examples) exceeds the machine's memory.
  EpisodeSampler(std::shared_ptr<const ClassPool> pool, const EpisodeConfig& config);

  Task sample(std::uint64_t task_index) const override;
  // N·(K + Q) examples of example_shape() float32 values and their int64 labels.
  std::uint64_t task_bytes() const override;
  // The pool classes of task `task_index`, in label order (label j = classes[j]).
  std::vector<std::int64_t> classes(std::uint64_t task_index) const override;
  std::int64_t pool_classes() const override { return pool_->num_classes(); }
  const EpisodeConfig& config() const { return config_; }
  const ClassPool& pool() const { return *pool_; }

 private:
  std::uint64_t example_bytes() const;  // one x row: example_shape().numel() floats

  std::shared_ptr<const ClassPool> pool_;
  EpisodeConfig config_;
};

}  // namespace mg::data
