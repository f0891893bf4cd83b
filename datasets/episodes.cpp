// Omniglot class pool and the N-way K-shot sampler; see episodes.h.
#include "datasets/episodes.h"

#include <numeric>
#include <utility>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "datasets/resize.h"

namespace mg::data {
namespace {

constexpr int kRotations = 4;

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
  check_episode_config(*pool_, config);
  check_episode_memory("episodes", config, example_bytes(), pool_->example_shape().str() + " examples");
}

std::uint64_t EpisodeSampler::example_bytes() const {
  return saturating_mul(static_cast<std::uint64_t>(pool_->example_shape().numel()), sizeof(float));
}

std::uint64_t EpisodeSampler::task_bytes() const { return episode_task_bytes(config_, example_bytes()); }

std::vector<std::int64_t> EpisodeSampler::classes(std::uint64_t task_index) const {
  return draw_episode_classes(*pool_, config_, task_index);
}

Task EpisodeSampler::sample(std::uint64_t task_index) const {
  // int64: N·K and N·Q can exceed an int (the constructor bounded them by the memory).
  const std::int64_t n = config_.n_way, k = config_.k_shot, q = config_.q_query;
  const EpisodeDraw draw = draw_episode(*pool_, config_, task_index);

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
  float* sx = task.support_x.mutable_data<float>();
  float* qx = task.query_x.mutable_data<float>();
  lay_out_episode(draw, config_, task, [&](std::int64_t cls, int pick, bool support, std::int64_t row) {
    pool_->copy_example(cls, pick, (support ? sx : qx) + static_cast<std::size_t>(row) * stride);
  });
  return task;
}

}  // namespace mg::data
