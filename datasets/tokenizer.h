// Tokenizer for few-shot text classification (issue 17): word ids plus hashed
// character n-grams (Bojanowski et al. 2017, fastText subword model, §3.2), so
// an unseen or misspelt word still shares ids with the words it resembles.
//
// Steps for one text:
//   1. Lower-case ASCII letters (other bytes are kept: UTF-8 stays valid).
//   2. Words: maximal runs of ASCII letters, digits, apostrophes and non-ASCII
//      bytes (so "what's" and "café" are one word each); everything else separates.
//   3. Each word's id from the vocabulary, kUnknownWord when it is not in it.
//   4. For each word w, the character n-grams of "<w>" for n = min_n..max_n
//      (characters are UTF-8 code points; '<' and '>' mark the word's ends, so
//      "<at>" of "at" differs from the "at" in "cat"), each hashed with stable_hash
//      (hash.h) into one of ngram_buckets buckets (the hash modulo ngram_buckets).
//
// One id space (what an embedding table of vocab_size() rows is indexed by):
//   0                                   kPad: padding in token matrices (text_episodes.h)
//   1                                   kUnknownWord: a word outside the vocabulary
//   2 … 2 + W − 1                       the W vocabulary words, in byte-wise order
//   2 + W … 2 + W + ngram_buckets − 1   n-gram bucket b is id 2 + W + b
// encode() lists the word ids in text order, then the n-gram ids word by word. A
// text without any word encodes as {kUnknownWord}, so no utterance is empty.
//
// Note [Vocabulary from meta-training classes]: the word vocabulary is built by
// fit() from the texts it is given, and callers give it the meta-training
// classes' texts only. A word seen only in meta-test classes then maps to
// kUnknownWord (plus its n-gram buckets, which are fixed by the hash, not
// learned from data), so nothing of the test classes leaks into the model
// before evaluation. tests/datasets/test_tokenizer.cpp checks it on CLINC150.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mg::data {

struct TokenizerConfig {
  int min_count = 1;            // words seen fewer times are left out of the vocabulary
  int min_n = 3;                // character n-gram lengths (fastText's default 3..6)
  int max_n = 5;
  int ngram_buckets = 1 << 15;  // 0: no n-grams (word ids only, e.g. for a text CNN)
};

class Tokenizer {
 public:
  static constexpr std::int64_t kPad = 0;
  static constexpr std::int64_t kUnknownWord = 1;

  // Builds the vocabulary from `texts` (see the Note). ValueError for min_count < 1,
  // ngram_buckets < 0, or ngram_buckets > 0 with not 1 <= min_n <= max_n.
  static Tokenizer fit(std::span<const std::string> texts, const TokenizerConfig& config = {});

  // Steps 1–2: the lower-cased words of `text`.
  static std::vector<std::string> words(std::string_view text);

  std::vector<std::int64_t> encode(std::string_view text) const;
  // Appends encode(text) to `out` (no allocation per call once `out` has grown).
  void encode_into(std::string_view text, std::vector<std::int64_t>& out) const;

  // The id of a vocabulary word, or kUnknownWord.
  std::int64_t word_id(std::string_view word) const;
  // The vocabulary, in id order (word_id(vocabulary()[i]) == 2 + i).
  const std::vector<std::string>& vocabulary() const { return vocabulary_; }
  // The number of ids: 2 + W + ngram_buckets.
  std::int64_t vocab_size() const;
  const TokenizerConfig& config() const { return config_; }

 private:
  TokenizerConfig config_;
  std::vector<std::string> vocabulary_;
  std::unordered_map<std::string, std::int64_t> ids_;
};

}  // namespace mg::data
