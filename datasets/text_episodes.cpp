// Text class pool and the N-way K-shot text sampler; see text_episodes.h.
#include "datasets/text_episodes.h"

#include <algorithm>
#include <set>
#include <utility>

#include "autograd/errors.h"
#include "autograd/memory.h"

namespace mg::data {
namespace {

std::size_t class_index(const TextClasses& data, const std::string& name) {
  const std::optional<std::size_t> c = data.find(name);
  if (!c) throw DataError("text episodes: class " + name + " is not in the data");
  return *c;
}

}  // namespace

std::vector<std::string> training_texts(const TextClasses& data, std::span<const std::string> names) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const auto& texts = data.texts[class_index(data, name)];
    out.insert(out.end(), texts.begin(), texts.end());
  }
  return out;
}

TextPool::TextPool(const TextClasses& data, std::span<const std::string> names, const Tokenizer& tokenizer) {
  std::set<std::string> seen;
  first_example_.push_back(0);
  first_id_.push_back(0);
  for (const std::string& name : names) {
    if (!seen.insert(name).second) throw DataError("text episodes: class " + name + " is listed twice");
    const std::size_t c = class_index(data, name);
    names_.push_back(name);
    for (const std::string& text : data.texts[c]) {
      tokenizer.encode_into(text, ids_);
      max_length_ = std::max(max_length_, static_cast<std::int64_t>(ids_.size() - first_id_.back()));
      first_id_.push_back(ids_.size());
    }
    first_example_.push_back(first_id_.size() - 1);
  }
}

std::size_t TextPool::example_index(std::int64_t cls, int example) const {
  if (cls < 0 || cls >= num_classes()) {
    throw ValueError("text pool: class " + std::to_string(cls) + " is out of range (" + std::to_string(num_classes()) +
                     " classes)");
  }
  const auto c = static_cast<std::size_t>(cls);
  if (example < 0 || example >= num_examples(cls)) {
    throw ValueError("text pool: example " + std::to_string(example) + " of class " + names_[c] + " is out of range (" +
                     std::to_string(num_examples(cls)) + " examples)");
  }
  return first_example_[c] + static_cast<std::size_t>(example);
}

int TextPool::num_examples(std::int64_t cls) const {
  if (cls < 0 || cls >= num_classes()) {
    throw ValueError("text pool: class " + std::to_string(cls) + " is out of range (" + std::to_string(num_classes()) +
                     " classes)");
  }
  const auto c = static_cast<std::size_t>(cls);
  return static_cast<int>(first_example_[c + 1] - first_example_[c]);
}

std::string TextPool::class_name(std::int64_t cls) const {
  num_examples(cls);  // range check
  return names_[static_cast<std::size_t>(cls)];
}

std::span<const std::int64_t> TextPool::tokens(std::int64_t cls, int example) const {
  const std::size_t e = example_index(cls, example);
  return {ids_.data() + first_id_[e], first_id_[e + 1] - first_id_[e]};
}

TextEpisodeSampler::TextEpisodeSampler(std::shared_ptr<const TextPool> pool, const EpisodeConfig& config)
    : pool_(std::move(pool)), config_(config) {
  if (!pool_) throw ValueError("text episodes: no class pool (null pointer)");
  check_episode_config(*pool_, config);
  check_episode_memory("text episodes", config, example_bytes(),
                       std::to_string(pool_->max_length()) + " tokens");
}

std::uint64_t TextEpisodeSampler::example_bytes() const {
  return saturating_mul(static_cast<std::uint64_t>(pool_->max_length()), sizeof(std::int64_t));
}

std::uint64_t TextEpisodeSampler::task_bytes() const { return episode_task_bytes(config_, example_bytes()); }

std::vector<std::int64_t> TextEpisodeSampler::classes(std::uint64_t task_index) const {
  return draw_episode_classes(*pool_, config_, task_index);
}

Task TextEpisodeSampler::sample(std::uint64_t task_index) const {
  const std::int64_t n = config_.n_way, k = config_.k_shot, q = config_.q_query, len = pool_->max_length();
  const EpisodeDraw draw = draw_episode(*pool_, config_, task_index);
  Task task;
  task.support_x = Tensor({n * k, len}, DType::I64);
  task.query_x = Tensor({n * q, len}, DType::I64);
  std::int64_t* sx = task.support_x.mutable_data<std::int64_t>();
  std::int64_t* qx = task.query_x.mutable_data<std::int64_t>();
  std::fill(sx, sx + n * k * len, Tokenizer::kPad);
  std::fill(qx, qx + n * q * len, Tokenizer::kPad);
  lay_out_episode(draw, config_, task, [&](std::int64_t cls, int pick, bool support, std::int64_t row) {
    const std::span<const std::int64_t> ids = pool_->tokens(cls, pick);
    std::copy(ids.begin(), ids.end(), (support ? sx : qx) + row * len);
  });
  return task;
}

}  // namespace mg::data
