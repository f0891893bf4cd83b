// N-way K-shot text tasks (datasets/text_episodes.h) and the shared draws
// (datasets/episode_draw.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "datasets/episodes.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "tests/datasets/fixtures.h"
#include "tests/datasets/text_fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

// Class c<i> has `per_class` texts "c<i> w<j>" (j = 0..), except that class
// `short_class` has 2; with a word-only tokenizer, each row says its class and example.
TextClasses coded_classes(int classes, int per_class, int short_class = -1) {
  std::vector<LabelledText> rows;
  for (int c = 0; c < classes; ++c) {
    for (int j = 0; j < (c == short_class ? 2 : per_class); ++j) {
      rows.push_back({std::string("c").append(std::to_string(c)).append(" w").append(std::to_string(j)).append(j % 3 == 0 ? " long tail" : ""),
                      std::string("class").append(std::to_string(c)), 0});
    }
  }
  return group_by_label(rows);
}

std::shared_ptr<const TextPool> coded_pool(const TextClasses& data, const Tokenizer& tok) {
  return std::make_shared<const TextPool>(data, data.names, tok);
}

}  // namespace

TEST_SUITE("datasets_text_episodes") {
  TEST_CASE("text pools: tokens per example, L the longest, names, range errors") {
    const TextClasses data = coded_classes(3, 4);
    const Tokenizer tok = Tokenizer::fit(training_texts(data, data.names), {.ngram_buckets = 0});
    const TextPool pool(data, std::vector<std::string>{"class2", "class0"}, tok);
    CHECK(pool.num_classes() == 2);
    CHECK(pool.class_name(0) == "class2");
    CHECK(pool.num_examples(1) == 4);
    CHECK(pool.max_length() == 4);  // "c<i> w0 long tail"
    const auto ids = pool.tokens(0, 1);  // "c2 w1"
    CHECK(std::vector<std::int64_t>(ids.begin(), ids.end()) == std::vector<std::int64_t>{tok.word_id("c2"), tok.word_id("w1")});
    CHECK(pool.num_tokens() == 2 * (4 * 2 + 2 * 2));
    CHECK_THROWS_WITH_AS(pool.tokens(2, 0), doctest::Contains("text pool: class 2 is out of range (2 classes)"), ValueError);
    CHECK_THROWS_WITH_AS(pool.tokens(0, 4),
                         doctest::Contains("text pool: example 4 of class class2 is out of range (4 examples)"), ValueError);
    CHECK_THROWS_WITH_AS(pool.class_name(-1), doctest::Contains("text pool: class -1 is out of range"), ValueError);
    CHECK_THROWS_WITH_AS(TextPool(data, std::vector<std::string>{"class0", "nope"}, tok),
                         doctest::Contains("text episodes: class nope is not in the data"), DataError);
    CHECK_THROWS_WITH_AS(TextPool(data, std::vector<std::string>{"class0", "class0"}, tok),
                         doctest::Contains("text episodes: class class0 is listed twice"), DataError);
    CHECK_THROWS_WITH_AS(training_texts(data, std::vector<std::string>{"nope"}),
                         doctest::Contains("text episodes: class nope is not in the data"), DataError);
    CHECK(training_texts(data, std::vector<std::string>{"class1"}).size() == 4);
  }

  TEST_CASE("tasks: padded [rows, L] int64 token matrices, class-major labels, disjoint support and query") {
    const TextClasses data = coded_classes(6, 10);
    const Tokenizer tok = Tokenizer::fit(training_texts(data, data.names), {.ngram_buckets = 0});
    const auto pool = coded_pool(data, tok);
    const TextEpisodeSampler sampler(pool, {.n_way = 3, .k_shot = 2, .q_query = 3, .seed = 9});
    const Task task = sampler.sample(4);
    CHECK(task.support_x.shape() == Shape{6, 4});
    CHECK(task.query_x.shape() == Shape{9, 4});
    CHECK(task.support_x.dtype() == DType::I64);
    CHECK(task.support_y.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 1, 1, 2, 2});
    CHECK(task.query_y.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, 2, 2, 2});
    const std::vector<std::int64_t> classes = sampler.classes(4);
    const auto sx = task.support_x.to_vector<std::int64_t>();
    const auto qx = task.query_x.to_vector<std::int64_t>();
    std::set<std::vector<std::int64_t>> seen;
    auto check_row = [&](const std::vector<std::int64_t>& x, std::size_t row, std::int64_t label) {
      const std::vector<std::int64_t> ids(x.begin() + static_cast<std::ptrdiff_t>(4 * row),
                                          x.begin() + static_cast<std::ptrdiff_t>(4 * row + 4));
      const std::string cls = pool->class_name(classes[static_cast<std::size_t>(label)]);
      CHECK(ids[0] == tok.word_id(std::string("c").append(cls.substr(5))));  // the row's text is of its label's class
      const auto end = std::find(ids.begin(), ids.end(), Tokenizer::kPad);
      CHECK(std::all_of(end, ids.end(), [](std::int64_t id) { return id == Tokenizer::kPad; }));  // pads on the right
      CHECK(seen.insert(ids).second);  // no example twice in a task
    };
    for (std::size_t r = 0; r < 6; ++r) check_row(sx, r, static_cast<std::int64_t>(r / 2));
    for (std::size_t r = 0; r < 9; ++r) check_row(qx, r, static_cast<std::int64_t>(r / 3));
    CHECK(sampler.task_bytes() == 3u * 5u * (4u + 1u) * 8u);
    CHECK(sampler.config().n_way == 3);
    CHECK(&sampler.pool() == pool.get());
    // Deterministic: the same index gives the same task; others differ.
    CHECK(sampler.sample(4).support_x.to_vector<std::int64_t>() == sx);
    CHECK(sampler.sample(5).query_x.to_vector<std::int64_t>() != qx);
  }

  TEST_CASE("text and image samplers make the same draws from the same config") {
    struct Sizes : ClassPool {
      std::int64_t num_classes() const override { return 6; }
      int num_examples(std::int64_t) const override { return 10; }
      std::string class_name(std::int64_t cls) const override { return std::to_string(cls); }
      Shape example_shape() const override { return {1}; }
      void copy_example(std::int64_t cls, int example, float* out) const override {
        *out = static_cast<float>(100 * cls + example);
      }
    };
    const TextClasses data = coded_classes(6, 10);
    const Tokenizer tok = Tokenizer::fit(training_texts(data, data.names), {.ngram_buckets = 0});
    const EpisodeConfig config{.n_way = 4, .k_shot = 1, .q_query = 2, .seed = 3};
    const TextEpisodeSampler text(coded_pool(data, tok), config);
    const EpisodeSampler image(std::make_shared<Sizes>(), config);
    for (std::uint64_t i = 0; i < 5; ++i) {
      CHECK(text.classes(i) == image.classes(i));
      const EpisodeDraw draw = draw_episode(text.pool(), config, i);
      CHECK(draw.classes == image.classes(i));
      const auto sx = image.sample(i).support_x.to_vector<float>();
      for (std::size_t label = 0; label < 4; ++label) {
        CHECK(sx[label] == static_cast<float>(100 * draw.classes[label] + draw.picks[label][0]));
      }
    }
  }

  TEST_CASE("task sizes: N·(K + Q)·(example + label) bytes, saturating; refused up front when too large") {
    const EpisodeConfig config{.n_way = 5, .k_shot = 1, .q_query = 15};
    CHECK(episode_task_bytes(config, 100) == 5u * 16u * 108u);
    const EpisodeConfig huge{.n_way = 1 << 30, .k_shot = 1 << 30, .q_query = 1 << 30};
    CHECK(episode_task_bytes(huge, ~std::uint64_t{0}) == kUnbounded);
    CHECK_NOTHROW(check_episode_memory("text episodes", config, 100, "7 tokens"));
    CHECK_THROWS_WITH_AS(check_episode_memory("text episodes", huge, 8, "1 tokens"),
                         doctest::Contains("text episodes: tasks of 1073741824 ways, 1073741824 shots and 1073741824 "
                                           "queries of 1 tokens"),
                         MemoryError);
  }

  TEST_CASE("errors: too few classes for the ways, a class too small for shots + queries (named)") {
    const TextClasses data = coded_classes(4, 6, /*short_class=*/2);
    const Tokenizer tok = Tokenizer::fit(training_texts(data, data.names));
    const auto pool = coded_pool(data, tok);
    CHECK_THROWS_WITH_AS(TextEpisodeSampler(pool, {.n_way = 5, .k_shot = 1, .q_query = 1}),
                         doctest::Contains("episodes: 5-way tasks need at least 5 classes, but the pool has 4"), DataError);
    CHECK_THROWS_WITH_AS(TextEpisodeSampler(pool, {.n_way = 3, .k_shot = 2, .q_query = 1}),
                         doctest::Contains("episodes: 2-shot tasks with 1 queries need 3 examples per class, but class "
                                           "class2 has 2"),
                         DataError);
    CHECK_THROWS_WITH_AS(TextEpisodeSampler(pool, {.n_way = 0}), doctest::Contains("episodes: need n_way >= 1"), ValueError);
    CHECK_THROWS_WITH_AS(TextEpisodeSampler(nullptr, {}), doctest::Contains("text episodes: no class pool (null pointer)"),
                         ValueError);
    CHECK_NOTHROW(TextEpisodeSampler(pool, {.n_way = 4, .k_shot = 1, .q_query = 1}));
    CHECK_THROWS_WITH_AS(check_episode_config(*pool, {.n_way = 2, .k_shot = 1, .q_query = 2}),
                         doctest::Contains("but class class2 has 2"), DataError);
  }

  TEST_CASE("the real CLINC150: 5-way 5-shot meta-test tasks from the pinned split") {
    const auto root = real_clinc150_root();
    if (!root) return;
    const ClincSetup clinc = clinc_setup(*root);
    const Tokenizer& tok = clinc.tokenizer;
    auto pool = std::make_shared<const TextPool>(clinc.classes, clinc.split.test, tok);
    CHECK(pool->num_classes() == 30);
    const TextEpisodeSampler sampler(pool, {.n_way = 5, .k_shot = 5, .q_query = 15, .seed = 1});
    const Task task = sampler.sample(0);
    CHECK(task.support_x.shape() == Shape{25, pool->max_length()});
    CHECK(task.query_x.shape() == Shape{75, pool->max_length()});
    const auto ids = task.query_x.to_vector<std::int64_t>();
    CHECK(*std::max_element(ids.begin(), ids.end()) < tok.vocab_size());
    CHECK(*std::min_element(ids.begin(), ids.end()) == Tokenizer::kPad);
  }

  TEST_CASE("global labels: each row's label is its class's index in the pool, x unchanged") {
    const TextClasses data = coded_classes(6, 5);
    const Tokenizer tok = Tokenizer::fit(training_texts(data, data.names), {.ngram_buckets = 0});
    const auto episodes =
        std::make_shared<const TextEpisodeSampler>(coded_pool(data, tok), EpisodeConfig{3, 2, 1, 9});
    const GlobalLabelTasks global(episodes);
    CHECK(global.num_classes() == 6);
    CHECK(global.task_bytes() == episodes->task_bytes());
    for (std::uint64_t i = 0; i < 5; ++i) {
      const Task local = episodes->sample(i), task = global.sample(i);
      const std::vector<std::int64_t> classes = episodes->classes(i);
      CHECK(task.support_x.to_vector<std::int64_t>() == local.support_x.to_vector<std::int64_t>());
      CHECK(task.query_x.to_vector<std::int64_t>() == local.query_x.to_vector<std::int64_t>());
      const auto y = task.support_y.to_vector<std::int64_t>(), y_local = local.support_y.to_vector<std::int64_t>();
      const auto q = task.query_y.to_vector<std::int64_t>(), q_local = local.query_y.to_vector<std::int64_t>();
      for (std::size_t r = 0; r < y.size(); ++r) CHECK(y[r] == classes[static_cast<std::size_t>(y_local[r])]);
      for (std::size_t r = 0; r < q.size(); ++r) CHECK(q[r] == classes[static_cast<std::size_t>(q_local[r])]);
      // Each row's first token is "c<k>": the class it names is the pool's class y (classes are sorted).
      const auto ids = task.support_x.to_vector<std::int64_t>();
      const std::int64_t len = task.support_x.shape()[1];
      for (std::size_t r = 0; r < y.size(); ++r)
        CHECK(ids[r * static_cast<std::size_t>(len)] == tok.word_id(std::string("c").append(std::to_string(y[r]))));
    }
    CHECK_THROWS_WITH_AS(GlobalLabelTasks(nullptr), "global label tasks: no episode sampler (null pointer)",
                         ValueError);
  }
}
