// The random draws of an N-way K-shot episode, shared by every episode sampler
// (images: episodes.h; text: text_episodes.h). Which classes and which examples a
// task holds depends only on the pool's sizes, the config and the task index, not
// on what an example is, so the samplers differ only in how they copy examples.
//
// Sampling task i (all draws from task_generator(seed, i), see task.h):
//   1. N distinct classes by a partial Fisher–Yates shuffle of 0..C−1. The draw
//      order is a uniformly random permutation, and the j-th drawn class gets
//      label j, so labels 0..N−1 are assigned in a shuffled order.
//   2. For each class in label order, K + Q distinct examples by a partial
//      Fisher–Yates shuffle of its examples: the first K are support, the next Q
//      query (so support and query never share an example).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/task.h"

namespace mg::data {

// What an episode draw needs to know of a pool: its classes, how many examples
// each has, and their names for error messages. Read-only after construction.
class ClassCounts {
 public:
  virtual ~ClassCounts() = default;
  virtual std::int64_t num_classes() const = 0;
  virtual int num_examples(std::int64_t cls) const = 0;
  // Names a class in error messages ("images_background/Greek/character03 rotated 90°").
  virtual std::string class_name(std::int64_t cls) const = 0;
};

struct EpisodeConfig {
  int n_way = 5;    // N classes per task
  int k_shot = 1;   // K support examples per class
  int q_query = 1;  // Q query examples per class (MAML trains with Q = K)
  std::uint64_t seed = 0;
};

// ValueError for n_way, k_shot < 1 or q_query < 0; DataError when the pool has
// fewer than N classes or a class (named) has fewer than K + Q examples.
void check_episode_config(const ClassCounts& pool, const EpisodeConfig& config);

// The bytes of one task whose examples take `example_bytes` each (x) plus an
// int64 label (y): N·(K + Q)·(example_bytes + 8), saturating at mg::kUnbounded.
std::uint64_t episode_task_bytes(const EpisodeConfig& config, std::uint64_t example_bytes);

// MemoryError from `who` when one task of episode_task_bytes(config, example_bytes)
// exceeds the machine's memory; `examples` describes an example ("[1, 28, 28] examples").
void check_episode_memory(std::string_view who, const EpisodeConfig& config, std::uint64_t example_bytes,
                          std::string_view examples);

struct EpisodeDraw {
  std::vector<std::int64_t> classes;   // pool class of label j, j = 0..N−1
  std::vector<std::vector<int>> picks;  // picks[j]: K support then Q query examples of classes[j]
};

// Step 1 only: the classes of task `task_index`, in label order.
std::vector<std::int64_t> draw_episode_classes(const ClassCounts& pool, const EpisodeConfig& config,
                                               std::uint64_t task_index);

// Steps 1 and 2. The config must have passed check_episode_config for this pool.
EpisodeDraw draw_episode(const ClassCounts& pool, const EpisodeConfig& config, std::uint64_t task_index);

// The class-major layout of a drawn task, shared by the samplers: the i-th pick
// of label j is support row j·K + i (i < K) or query row j·Q + (i − K). Sets
// task.support_y [N·K] and task.query_y [N·Q] (int64 labels) and calls
// place(cls, example, support, row) once per pick, to fill the x tensors.
template <class Place>
void lay_out_episode(const EpisodeDraw& draw, const EpisodeConfig& config, Task& task, Place place) {
  const std::int64_t n = config.n_way, k = config.k_shot, q = config.q_query;
  task.support_y = Tensor({n * k}, DType::I64);
  task.query_y = Tensor({n * q}, DType::I64);
  std::int64_t* sy = task.support_y.mutable_data<std::int64_t>();
  std::int64_t* qy = task.query_y.mutable_data<std::int64_t>();
  for (std::int64_t label = 0; label < n; ++label) {
    const std::vector<int>& picks = draw.picks[static_cast<std::size_t>(label)];
    for (std::int64_t j = 0; j < k + q; ++j) {
      const bool support = j < k;
      const std::int64_t row = label * (support ? k : q) + (support ? j : j - k);
      place(draw.classes[static_cast<std::size_t>(label)], picks[static_cast<std::size_t>(j)], support, row);
      (support ? sy : qy)[row] = label;
    }
  }
}

}  // namespace mg::data
