// The word + hashed n-gram tokenizer (datasets/tokenizer.h), and that nothing
// of the meta-test classes leaks into its vocabulary.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "autograd/errors.h"
#include "datasets/clinc150.h"
#include "datasets/hash.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "datasets/tokenizer.h"
#include "tests/datasets/fixtures.h"
#include "tests/datasets/text_fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

TEST_SUITE("datasets_tokenizer") {
  TEST_CASE("lower-cased words of letters, digits, apostrophes and non-ASCII bytes") {
    CHECK(Tokenizer::words("What's the APR on my Visa, 2024?!") ==
          std::vector<std::string>{"what's", "the", "apr", "on", "my", "visa", "2024"});
    CHECK(Tokenizer::words("Caf\xC3\xA9-au-lait") == std::vector<std::string>{"caf\xC3\xA9", "au", "lait"});
    CHECK(Tokenizer::words("  ...  ").empty());
  }

  TEST_CASE("one id space: pad, unknown, words, then n-gram buckets") {
    const std::vector<std::string> texts = {"book a flight", "Book a table", "a"};
    const Tokenizer t = Tokenizer::fit(texts, {.min_count = 1, .min_n = 3, .max_n = 4, .ngram_buckets = 100});
    CHECK(t.vocabulary() == std::vector<std::string>{"a", "book", "flight", "table"});
    CHECK(t.word_id("a") == 2);
    CHECK(t.word_id("table") == 5);
    CHECK(t.word_id("train") == Tokenizer::kUnknownWord);
    CHECK(t.vocab_size() == 2 + 4 + 100);
    CHECK(t.config().ngram_buckets == 100);

    // "a": word id 2, then the n-grams of "<a>": one 3-gram, no 4-gram.
    const std::int64_t base = 6;
    CHECK(t.encode("A") == std::vector<std::int64_t>{2, base + static_cast<std::int64_t>(stable_hash("<a>") % 100)});
    // "to": unknown word; "<to>" gives "<to", "to>" and "<to>".
    const std::vector<std::int64_t> to = t.encode("to");
    CHECK(to == std::vector<std::int64_t>{Tokenizer::kUnknownWord, base + static_cast<std::int64_t>(stable_hash("<to") % 100),
                                          base + static_cast<std::int64_t>(stable_hash("to>") % 100),
                                          base + static_cast<std::int64_t>(stable_hash("<to>") % 100)});
    // Word ids first in text order, then every n-gram, all inside the id space.
    const std::vector<std::int64_t> ids = t.encode("book a flight");
    CHECK(std::vector<std::int64_t>(ids.begin(), ids.begin() + 3) == std::vector<std::int64_t>{3, 2, 4});
    for (std::size_t i = 3; i < ids.size(); ++i) {
      CHECK(ids[i] >= base);
      CHECK(ids[i] < t.vocab_size());
    }
    CHECK(ids.size() == 3 + (4 + 3) + 1 + (6 + 5));  // "<book>": 6 chars, "<a>": 3, "<flight>": 8
    // No word at all still gives one id.
    CHECK(t.encode("?!") == std::vector<std::int64_t>{Tokenizer::kUnknownWord});
    std::vector<std::int64_t> out = {99};
    t.encode_into("a", out);
    CHECK(out.size() == 3);
    CHECK(out[0] == 99);
  }

  TEST_CASE("n-grams count code points, not bytes; min_count; word-only mode") {
    const std::vector<std::string> texts = {"\xC3\xA9t\xC3\xA9", "x x"};  // "été"
    const Tokenizer t = Tokenizer::fit(texts, {.min_count = 2, .min_n = 5, .max_n = 5, .ngram_buckets = 1000});
    CHECK(t.vocabulary() == std::vector<std::string>{"x"});
    // "<été>" is 5 code points: exactly one 5-gram, the whole marked word.
    CHECK(t.encode("\xC3\xA9t\xC3\xA9") ==
          std::vector<std::int64_t>{Tokenizer::kUnknownWord, 3 + static_cast<std::int64_t>(stable_hash("<\xC3\xA9t\xC3\xA9>") % 1000)});
    const Tokenizer words_only = Tokenizer::fit(texts, {.ngram_buckets = 0});
    CHECK(words_only.encode("x y \xC3\xA9t\xC3\xA9") == std::vector<std::int64_t>{2, 1, 3});
    CHECK(words_only.vocab_size() == 4);
  }

  TEST_CASE("bad configurations") {
    const std::vector<std::string> texts = {"a"};
    CHECK_THROWS_WITH_AS(Tokenizer::fit(texts, {.min_count = 0}),
                         doctest::Contains("tokenizer: need min_count >= 1, ngram_buckets >= 0 and 1 <= min_n <= max_n, "
                                           "got 0, 32768, 3 and 5"),
                         ValueError);
    CHECK_THROWS_WITH_AS(Tokenizer::fit(texts, {.min_n = 4, .max_n = 3}), doctest::Contains("tokenizer: need"), ValueError);
    CHECK_THROWS_WITH_AS(Tokenizer::fit(texts, {.ngram_buckets = -1}), doctest::Contains("tokenizer: need"), ValueError);
    CHECK_NOTHROW(Tokenizer::fit(texts, {.min_n = 0, .max_n = 0, .ngram_buckets = 0}));
  }

  TEST_CASE("the real CLINC150: the vocabulary holds no word seen only in meta-test classes") {
    const auto root = real_clinc150_root();
    if (!root) return;
    const ClincSetup clinc = clinc_setup(*root);
    const TextClasses& classes = clinc.classes;
    const ClassSplit& split = clinc.split;
    const Tokenizer& t = clinc.tokenizer;
    std::set<std::string> train_words;
    for (const std::string& text : training_texts(classes, split.train)) {
      for (const std::string& w : Tokenizer::words(text)) train_words.insert(w);
    }
    CHECK(std::set<std::string>(t.vocabulary().begin(), t.vocabulary().end()) == train_words);
    std::size_t test_only = 0;
    for (const std::string& text : training_texts(classes, split.test)) {
      for (const std::string& w : Tokenizer::words(text)) {
        if (train_words.contains(w)) continue;
        ++test_only;
        CHECK(t.word_id(w) == Tokenizer::kUnknownWord);
      }
    }
    CHECK(test_only > 0);  // the check above is not vacuous
  }
}
