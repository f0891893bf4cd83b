// Omniglot class pool and the N-way K-shot sampler; see episodes.h.
#include "datasets/episodes.h"

#include <numeric>
#include <unordered_map>
#include <utility>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "datasets/resize.h"

namespace mg::data {
namespace {

constexpr int kRotations = 4;

// The first m entries of a uniformly random permutation of 0..n−1 (partial
// Fisher–Yates: step i swaps item i with a uniform pick from i..n−1).
//
// Note [Sparse Fisher–Yates]: the items are held densely (n entries) only when n is
// small next to m. Otherwise only the swapped positions are kept, in a map from
// position to item (an absent position holds its own index): the same draws, the
// same result, O(m) memory. A pool class with 2^31 examples drew 8 GB for a 1-shot
// task before (found by tests/fuzz/fuzz_episodes).
template <class Int>
std::vector<Int> draw_distinct(Int n, Int m, Generator& gen) {
  const auto count = static_cast<std::size_t>(m);
  if (static_cast<std::uint64_t>(n) <= 4 * static_cast<std::uint64_t>(count) + 64) {
    std::vector<Int> items(static_cast<std::size_t>(n));
    std::iota(items.begin(), items.end(), Int{0});
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t j = i + gen.below(static_cast<std::uint64_t>(n) - i);
      std::swap(items[i], items[j]);
    }
    items.resize(count);
    return items;
  }
  std::unordered_map<std::uint64_t, Int> moved;
  moved.reserve(count);
  auto item = [&](std::uint64_t at) {
    const auto it = moved.find(at);
    return it == moved.end() ? static_cast<Int>(at) : it->second;
  };
  std::vector<Int> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t j = i + gen.below(static_cast<std::uint64_t>(n) - i);
    const Int at_i = item(i), at_j = item(j);
    out[i] = at_j;
    moved[j] = at_i;  // position i is never read again
  }
  return out;
}

}  // namespace

// --- OmniglotClasses --------------------------------------------------------

OmniglotClasses::OmniglotClasses(std::shared_ptr<const Omniglot> data,
                                 std::span<const std::string> characters, bool rotations)
    : data_(std::move(data)), rotations_(rotations) {
  if (!data_) throw ValueError("omniglot classes: no data (null pointer)");
  for (const std::string& name : characters) {
    const std::optional<std::size_t> c = data_->find(name);
    if (!c) throw DataError("omniglot: character " + name + " is not loaded");
    characters_.push_back(*c);
  }
}

OmniglotClasses::OmniglotClasses(std::shared_ptr<const Omniglot> data, bool rotations)
    : data_(std::move(data)), rotations_(rotations) {
  if (!data_) throw ValueError("omniglot classes: no data (null pointer)");
  characters_.resize(data_->num_characters());
  std::iota(characters_.begin(), characters_.end(), std::size_t{0});
}

std::int64_t OmniglotClasses::num_classes() const {
  return static_cast<std::int64_t>(characters_.size()) * (rotations_ ? kRotations : 1);
}

std::size_t OmniglotClasses::character_of(std::int64_t cls) const {
  if (cls < 0 || cls >= num_classes()) {
    throw ValueError("omniglot classes: class " + std::to_string(cls) + " is out of range (" +
                     std::to_string(num_classes()) + " classes)");
  }
  return characters_[static_cast<std::size_t>(cls / (rotations_ ? kRotations : 1))];
}

int OmniglotClasses::num_examples(std::int64_t cls) const { return data_->num_drawings(character_of(cls)); }

Shape OmniglotClasses::example_shape() const {
  return {1, data_->image_size(), data_->image_size()};
}

void OmniglotClasses::copy_example(std::int64_t cls, int example, float* out) const {
  const std::span<const float> image = data_->image(character_of(cls), example);
  const int turns = rotations_ ? static_cast<int>(cls % kRotations) : 0;
  rotate_quarter_turns(image, data_->image_size(), turns, {out, image.size()});
}

std::string OmniglotClasses::class_name(std::int64_t cls) const {
  std::string name = data_->character(character_of(cls));
  if (rotations_) name += " rotated " + std::to_string(90 * (cls % kRotations)) + "°";
  return name;
}

// --- EpisodeSampler ---------------------------------------------------------

EpisodeSampler::EpisodeSampler(std::shared_ptr<const ClassPool> pool, const EpisodeConfig& config)
    : pool_(std::move(pool)), config_(config) {
  if (!pool_) throw ValueError("episodes: no class pool (null pointer)");
  if (config.n_way < 1 || config.k_shot < 1 || config.q_query < 0) {
    throw ValueError("episodes: need n_way >= 1, k_shot >= 1 and q_query >= 0, got " +
                     std::to_string(config.n_way) + ", " + std::to_string(config.k_shot) + " and " +
                     std::to_string(config.q_query));
  }
  const std::int64_t classes = pool_->num_classes();
  if (classes < config.n_way) {
    throw DataError("episodes: " + std::to_string(config.n_way) + "-way tasks need at least " +
                    std::to_string(config.n_way) + " classes, but the pool has " +
                    std::to_string(classes));
  }
  // int64: K + Q can exceed an int.
  const std::int64_t needed = std::int64_t{config.k_shot} + config.q_query;
  for (std::int64_t c = 0; c < classes; ++c) {
    if (pool_->num_examples(c) < needed) {
      throw DataError("episodes: " + std::to_string(config.k_shot) + "-shot tasks with " +
                      std::to_string(config.q_query) + " queries need " + std::to_string(needed) +
                      " examples per class, but class " + pool_->class_name(c) + " has " +
                      std::to_string(pool_->num_examples(c)));
    }
  }
  check_memory("episodes",
               "tasks of " + std::to_string(config.n_way) + " ways, " + std::to_string(config.k_shot) + " shots and " +
                   std::to_string(config.q_query) + " queries of " + pool_->example_shape().str() + " examples",
               task_bytes());
}

std::uint64_t EpisodeSampler::task_bytes() const {
  const auto examples = saturating_mul(static_cast<std::uint64_t>(config_.n_way),
                                       static_cast<std::uint64_t>(config_.k_shot) + static_cast<std::uint64_t>(config_.q_query));
  const auto per_example = saturating_add(
      saturating_mul(static_cast<std::uint64_t>(pool_->example_shape().numel()), sizeof(float)), sizeof(std::int64_t));
  return saturating_mul(examples, per_example);
}

std::vector<std::int64_t> EpisodeSampler::classes(std::uint64_t task_index) const {
  Generator gen = task_generator(config_.seed, task_index);
  return draw_distinct<std::int64_t>(pool_->num_classes(), config_.n_way, gen);
}

Task EpisodeSampler::sample(std::uint64_t task_index) const {
  // int64: N·K and N·Q can exceed an int (the constructor bounded them by the memory).
  const std::int64_t n = config_.n_way, k = config_.k_shot, q = config_.q_query;
  Generator gen = task_generator(config_.seed, task_index);
  const std::vector<std::int64_t> classes = draw_distinct<std::int64_t>(pool_->num_classes(), n, gen);

  const Shape example = pool_->example_shape();
  const std::size_t stride = static_cast<std::size_t>(example.numel());
  auto stacked = [&](std::int64_t rows) {
    Shape s{rows};
    for (std::int64_t d : example) s.push_back(d);
    return Tensor(s, DType::F32);
  };
  Task task;
  task.support_x = stacked(n * k);
  task.query_x = stacked(n * q);
  task.support_y = Tensor({n * k}, DType::I64);
  task.query_y = Tensor({n * q}, DType::I64);
  float* sx = task.support_x.mutable_data<float>();
  float* qx = task.query_x.mutable_data<float>();
  std::int64_t* sy = task.support_y.mutable_data<std::int64_t>();
  std::int64_t* qy = task.query_y.mutable_data<std::int64_t>();

  for (std::int64_t label = 0; label < n; ++label) {
    const std::int64_t cls = classes[static_cast<std::size_t>(label)];
    const std::vector<int> picks = draw_distinct<int>(pool_->num_examples(cls), static_cast<int>(k + q), gen);
    for (std::int64_t j = 0; j < k + q; ++j) {
      const bool support = j < k;
      const std::size_t row = static_cast<std::size_t>(label) * static_cast<std::size_t>(support ? k : q) +
                              static_cast<std::size_t>(support ? j : j - k);
      pool_->copy_example(cls, picks[static_cast<std::size_t>(j)], (support ? sx : qx) + row * stride);
      (support ? sy : qy)[row] = label;
    }
  }
  return task;
}

}  // namespace mg::data
