// N-way K-shot text classification tasks (issue 17): the draws of episode_draw.h
// (the same as the image sampler's, from the same config and seed) over
// tokenized utterances.
//
// Putting it together (CLINC150, 5-way 1-shot):
//
//   const mg::data::Clinc150 clinc = mg::data::load_clinc150(root);
//   const mg::data::ClassSplit split = mg::data::clinc150_intent_split(clinc);    // text_splits.h
//   const mg::data::TextClasses classes = mg::data::group_by_label(clinc.examples);
//   const mg::data::Tokenizer tok = mg::data::Tokenizer::fit(training_texts(classes, split.train));
//   auto pool = std::make_shared<const mg::data::TextPool>(classes, split.train, tok);
//   const mg::data::TextEpisodeSampler sampler(pool, {.n_way = 5, .k_shot = 1, .q_query = 1, .seed = 1});
//   mg::data::Task task = sampler.sample(0);   // support_x [5, L] int64, support_y [5] int64
//
// Note [Padded token matrices]: a text task's support_x and query_x are int64
// matrices [rows, L], one utterance's token ids (tokenizer.h) per row, padded on
// the right with Tokenizer::kPad (id 0); L is the longest encoded utterance of
// the whole pool, the same for every task of a sampler. Why this and not offsets
// plus a flat id list: a Task is four tensors and every meta-learner slices,
// batches and checkpoints those as they are, so a rectangular tensor goes through
// them untouched; a fixed L keeps every task's shapes the same, so memory
// estimates (task_bytes) are exact and a model sees one shape throughout. The
// cost is padding: with the default tokenizer CLINC150 utterances encode to 81
// ids on average and L is 295, so rows are mostly pads, yet a row is 2.4 KB and a
// 5-way 5-shot task with 15 queries 240 KB. An embedding-bag model
// masks the pad id (its mean is over the ids that are not 0); a CNN over words
// uses a word-only tokenizer (ngram_buckets = 0) and treats pads as zeros.
// support_y / query_y are [rows] int64 labels, class-major as for images.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "datasets/episode_draw.h"
#include "datasets/global_labels.h"
#include "datasets/task.h"
#include "datasets/text_classes.h"
#include "datasets/tokenizer.h"

namespace mg::data {

// The texts of the classes named `names`, concatenated: e.g. the meta-training
// texts to fit a tokenizer on (Note [Vocabulary from meta-training classes]).
// DataError for a name that is not a class of `data`.
std::vector<std::string> training_texts(const TextClasses& data, std::span<const std::string> names);

// The utterances of some classes, tokenized once, read-only afterwards.
class TextPool : public ClassCounts {
 public:
  // Classes `names` of `data`, in that order (class i is names[i]). DataError for
  // a name that is not a class of `data` or is listed twice.
  TextPool(const TextClasses& data, std::span<const std::string> names, const Tokenizer& tokenizer);

  std::int64_t num_classes() const override { return static_cast<std::int64_t>(names_.size()); }
  int num_examples(std::int64_t cls) const override;
  std::string class_name(std::int64_t cls) const override;
  // The token ids of example `example` of class `cls`; ValueError when out of range.
  std::span<const std::int64_t> tokens(std::int64_t cls, int example) const;
  // L: the most ids of any example (at least 1).
  std::int64_t max_length() const { return max_length_; }
  std::size_t num_tokens() const { return ids_.size(); }

 private:
  std::size_t example_index(std::int64_t cls, int example) const;

  std::vector<std::string> names_;
  std::vector<std::size_t> first_example_;  // per class, plus the total
  std::vector<std::size_t> first_id_;       // per example, plus the total
  std::vector<std::int64_t> ids_;
  std::int64_t max_length_ = 1;
};

class TextEpisodeSampler : public ClassEpisodes {
 public:
  // The errors of check_episode_config (a class with fewer than K + Q examples is
  // named); MemoryError when one task exceeds the machine's memory.
  TextEpisodeSampler(std::shared_ptr<const TextPool> pool, const EpisodeConfig& config);

  // See Note [Padded token matrices].
  Task sample(std::uint64_t task_index) const override;
  std::uint64_t task_bytes() const override;
  // The pool classes of task `task_index`, in label order.
  std::vector<std::int64_t> classes(std::uint64_t task_index) const override;
  std::int64_t pool_classes() const override { return pool_->num_classes(); }
  const EpisodeConfig& config() const { return config_; }
  const TextPool& pool() const { return *pool_; }

 private:
  std::uint64_t example_bytes() const;  // one x row: L int64 ids

  std::shared_ptr<const TextPool> pool_;
  EpisodeConfig config_;
};

}  // namespace mg::data
