// Word + hashed character n-gram tokenizer; see tokenizer.h.
#include "datasets/tokenizer.h"

#include <algorithm>
#include <map>

#include "autograd/errors.h"
#include "datasets/hash.h"

namespace mg::data {
namespace {

bool word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Calls f(word) for each lower-cased word of text, reusing one buffer.
template <class F>
void for_each_word(std::string_view text, F f) {
  std::string word;
  for (std::size_t i = 0; i < text.size();) {
    if (!word_byte(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    word.clear();
    while (i < text.size() && word_byte(static_cast<unsigned char>(text[i]))) word.push_back(lower(text[i++]));
    f(word);
  }
}

}  // namespace

Tokenizer Tokenizer::fit(std::span<const std::string> texts, const TokenizerConfig& config) {
  if (config.min_count < 1 || config.ngram_buckets < 0 ||
      (config.ngram_buckets > 0 && !(config.min_n >= 1 && config.min_n <= config.max_n))) {
    throw ValueError("tokenizer: need min_count >= 1, ngram_buckets >= 0 and 1 <= min_n <= max_n, got " +
                     std::to_string(config.min_count) + ", " + std::to_string(config.ngram_buckets) + ", " +
                     std::to_string(config.min_n) + " and " + std::to_string(config.max_n));
  }
  std::map<std::string, int, std::less<>> counts;
  for (const std::string& text : texts) {
    for_each_word(text, [&](const std::string& w) {
      const auto it = counts.find(w);
      if (it == counts.end()) counts.emplace(w, 1); else ++it->second;
    });
  }
  Tokenizer t;
  t.config_ = config;
  for (const auto& [word, count] : counts) {
    if (count < config.min_count) continue;
    t.ids_.emplace(word, 2 + static_cast<std::int64_t>(t.vocabulary_.size()));
    t.vocabulary_.push_back(word);
  }
  return t;
}

std::vector<std::string> Tokenizer::words(std::string_view text) {
  std::vector<std::string> out;
  for_each_word(text, [&](const std::string& w) { out.push_back(w); });
  return out;
}

std::int64_t Tokenizer::word_id(std::string_view word) const {
  const auto it = ids_.find(std::string(word));
  return it == ids_.end() ? kUnknownWord : it->second;
}

std::int64_t Tokenizer::vocab_size() const {
  return 2 + static_cast<std::int64_t>(vocabulary_.size()) + config_.ngram_buckets;
}

void Tokenizer::encode_into(std::string_view text, std::vector<std::int64_t>& out) const {
  const std::size_t first = out.size();
  for_each_word(text, [&](const std::string& w) { out.push_back(word_id(w)); });
  if (out.size() == first) {
    out.push_back(kUnknownWord);
    return;
  }
  if (config_.ngram_buckets == 0) return;
  const std::int64_t base = 2 + static_cast<std::int64_t>(vocabulary_.size());
  const auto buckets = static_cast<std::uint64_t>(config_.ngram_buckets);
  std::string marked;
  std::vector<std::size_t> starts;  // byte offset of each code point of `marked`, plus its size
  for_each_word(text, [&](const std::string& w) {
    marked = "<" + w + ">";
    starts.clear();
    for (std::size_t i = 0; i < marked.size(); ++i) {
      if ((static_cast<unsigned char>(marked[i]) & 0xC0) != 0x80) starts.push_back(i);
    }
    const std::size_t chars = starts.size();
    starts.push_back(marked.size());
    for (std::size_t n = static_cast<std::size_t>(config_.min_n); n <= static_cast<std::size_t>(config_.max_n) && n <= chars; ++n) {
      for (std::size_t s = 0; s + n <= chars; ++s) {
        const std::string_view gram(marked.data() + starts[s], starts[s + n] - starts[s]);
        out.push_back(base + static_cast<std::int64_t>(stable_hash(gram) % buckets));
      }
    }
  });
}

std::vector<std::int64_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int64_t> out;
  encode_into(text, out);
  return out;
}

}  // namespace mg::data
