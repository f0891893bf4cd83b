#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "autograd/errors.h"
#include "datasets/episodes.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

// Each example is a [1, 2, 2] block filled with 1000·class + example, so a
// task's tensors say which class and example every row came from.
class CodedPool : public ClassPool {
 public:
  CodedPool(std::int64_t classes, int examples, std::int64_t short_class = -1)
      : classes_(classes), examples_(examples), short_class_(short_class) {}
  std::int64_t num_classes() const override { return classes_; }
  int num_examples(std::int64_t cls) const override { return cls == short_class_ ? 2 : examples_; }
  Shape example_shape() const override { return {1, 2, 2}; }
  void copy_example(std::int64_t cls, int example, float* out) const override {
    std::fill(out, out + 4, static_cast<float>(1000 * cls + example));
  }
  std::string class_name(std::int64_t cls) const override { return "coded" + std::to_string(cls); }

 private:
  std::int64_t classes_;
  int examples_;
  std::int64_t short_class_;
};

struct Row {
  std::int64_t cls;
  int example;
  std::int64_t label;
};

std::vector<Row> rows(const Tensor& x, const Tensor& y) {
  const auto xs = x.to_vector<float>();
  const auto ys = y.to_vector<std::int64_t>();
  std::vector<Row> out;
  for (std::size_t i = 0; i < ys.size(); ++i) {
    const auto code = static_cast<std::int64_t>(xs[i * 4]);
    out.push_back({code / 1000, static_cast<int>(code % 1000), ys[i]});
  }
  return out;
}

}  // namespace

TEST_SUITE("datasets_episodes") {
  TEST_CASE("episodes have the documented shapes, layout and labels") {
    const EpisodeSampler sampler(std::make_shared<CodedPool>(50, 20), {.n_way = 5, .k_shot = 3, .q_query = 2, .seed = 1});
    CHECK(sampler.config().n_way == 5);
    CHECK(sampler.pool().num_classes() == 50);
    const Task t = sampler.sample(0);
    CHECK(t.support_x.shape() == Shape{15, 1, 2, 2});
    CHECK(t.support_y.shape() == Shape{15});
    CHECK(t.query_x.shape() == Shape{10, 1, 2, 2});
    CHECK(t.query_y.shape() == Shape{10});
    CHECK(t.support_x.dtype() == DType::F32);
    CHECK(t.support_y.dtype() == DType::I64);
    CHECK(t.support_y.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4});
    CHECK(t.query_y.to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4});
    // Label j is pool class classes(i)[j].
    const std::vector<std::int64_t> classes = sampler.classes(0);
    for (const Row& r : rows(t.support_x, t.support_y)) CHECK(r.cls == classes[static_cast<std::size_t>(r.label)]);
    for (const Row& r : rows(t.query_x, t.query_y)) CHECK(r.cls == classes[static_cast<std::size_t>(r.label)]);
  }

  TEST_CASE("over many episodes: distinct classes, disjoint support and query, shuffled labels, uniform use") {
    const int n = 5, k = 2, q = 3;
    const EpisodeSampler sampler(std::make_shared<CodedPool>(12, 6), {.n_way = n, .k_shot = k, .q_query = q, .seed = 9});
    std::map<std::int64_t, int> class_count;
    std::set<std::int64_t> classes_with_label0;
    for (std::uint64_t i = 0; i < 600; ++i) {
      const Task t = sampler.sample(i);
      const auto support = rows(t.support_x, t.support_y), query = rows(t.query_x, t.query_y);
      std::set<std::int64_t> classes;
      std::set<std::pair<std::int64_t, int>> seen;
      for (const auto* set : {&support, &query})
        for (const Row& r : *set) {
          classes.insert(r.cls);
          CHECK(seen.insert({r.cls, r.example}).second);  // no example twice in a task
        }
      CHECK(classes.size() == n);
      for (std::int64_t c : classes) class_count[c]++;
      classes_with_label0.insert(support[0].cls);
    }
    CHECK(classes_with_label0.size() == 12);  // label 0 is not tied to any class
    CHECK(class_count.size() == 12);
    for (const auto& [c, count] : class_count) {
      CHECK(count > 600 * n / 12 * 0.75);  // expected 250 each
      CHECK(count < 600 * n / 12 * 1.25);
    }
  }

  TEST_CASE("sampling is deterministic and independent of the thread count") {
    const EpisodeSampler a(std::make_shared<CodedPool>(30, 20), {.n_way = 4, .k_shot = 1, .q_query = 5, .seed = 3});
    const EpisodeSampler b(std::make_shared<CodedPool>(30, 20), {.n_way = 4, .k_shot = 1, .q_query = 5, .seed = 3});
    const EpisodeSampler other(std::make_shared<CodedPool>(30, 20), {.n_way = 4, .k_shot = 1, .q_query = 5, .seed = 4});
    CHECK(a.sample(77).query_x.to_vector<float>() == b.sample(77).query_x.to_vector<float>());
    CHECK(a.classes(77) != other.classes(77));
    const std::vector<Task> one = sample_tasks(a, 40, 9, 1), two = sample_tasks(a, 40, 9, 2);
    for (std::size_t i = 0; i < 9; ++i) {
      CHECK(one[i].support_x.to_vector<float>() == two[i].support_x.to_vector<float>());
      CHECK(one[i].query_x.to_vector<float>() == a.sample(40 + i).query_x.to_vector<float>());
    }
  }

  TEST_CASE("N-way over exactly N classes and zero queries work") {
    const EpisodeSampler s(std::make_shared<CodedPool>(3, 2), {.n_way = 3, .k_shot = 2, .q_query = 0});
    const Task t = s.sample(5);
    CHECK(t.query_x.shape() == Shape{0, 1, 2, 2});
    std::vector<std::int64_t> cls = s.classes(5);
    std::sort(cls.begin(), cls.end());
    CHECK(cls == std::vector<std::int64_t>{0, 1, 2});
  }

  TEST_CASE("too few classes or examples are DataErrors; bad configs ValueErrors") {
    CHECK_THROWS_WITH_AS(EpisodeSampler(std::make_shared<CodedPool>(3, 20), {.n_way = 5}),
                         doctest::Contains("episodes: 5-way tasks need at least 5 classes, but the pool has 3"), DataError);
    CHECK_THROWS_WITH_AS(EpisodeSampler(std::make_shared<CodedPool>(10, 20, 7), {.n_way = 5, .k_shot = 1, .q_query = 15}),
                         doctest::Contains("episodes: 1-shot tasks with 15 queries need 16 examples per class, but class "
                                           "coded7 has 2"),
                         DataError);
    CHECK_THROWS_WITH_AS(EpisodeSampler(std::make_shared<CodedPool>(10, 20), {.n_way = 0}),
                         doctest::Contains("episodes: need n_way >= 1, k_shot >= 1 and q_query >= 0, got 0, 1 and 1"),
                         ValueError);
    CHECK_THROWS_WITH_AS(EpisodeSampler(nullptr, {}), doctest::Contains("episodes: no class pool"), ValueError);
  }

  TEST_CASE("OmniglotClasses: characters as classes, rotated copies as four times as many") {
    TempDir tmp;
    const std::vector<std::string> chars = write_small_omniglot(tmp.path(), 4);
    const auto data = std::make_shared<const Omniglot>(Omniglot::load_all(tmp.path()));
    const std::vector<std::string> train = {chars[1], chars[3]};
    const OmniglotClasses plain(data, train, false);
    const OmniglotClasses rotated(data, train, true);
    CHECK_FALSE(plain.rotations());
    CHECK(rotated.rotations());
    CHECK(plain.num_classes() == 2);
    CHECK(rotated.num_classes() == 8);
    CHECK(OmniglotClasses(data, true).num_classes() == 20);
    CHECK(OmniglotClasses(data).rotations());  // on by default
    CHECK(OmniglotClasses(data, train).num_classes() == 8);
    CHECK(rotated.num_examples(7) == 4);
    CHECK(rotated.example_shape() == Shape{1, 28, 28});
    CHECK(plain.class_name(1) == "images_evaluation/C/character01");
    CHECK(rotated.class_name(5) == "images_evaluation/C/character01 rotated 90°");

    // Class 4c + r is character c's drawing turned r quarter turns counter-clockwise.
    std::vector<float> base(28 * 28), turned(28 * 28), want(28 * 28);
    plain.copy_example(1, 2, base.data());
    const std::span<const float> stored = data->image(3, 2);
    CHECK(std::equal(base.begin(), base.end(), stored.begin()));
    for (int r = 0; r < 4; ++r) {
      rotated.copy_example(4 + r, 2, turned.data());
      rotate_quarter_turns(base, 28, r, want);
      CHECK(turned == want);
    }
    // Drawing 2's bar is on output row 2; a quarter turn makes it column 2.
    rotated.copy_example(5, 2, turned.data());
    CHECK(turned[10 * 28 + 2] == 1.0f);
    CHECK(turned[2 * 28 + 10] == 0.0f);

    const EpisodeSampler sampler(std::make_shared<OmniglotClasses>(data, train, true), {.n_way = 8, .k_shot = 2, .q_query = 2});
    CHECK(sampler.sample(0).support_x.shape() == Shape{16, 1, 28, 28});

    CHECK_THROWS_WITH_AS(rotated.num_examples(8), doctest::Contains("omniglot classes: class 8 is out of range (8 classes)"),
                         ValueError);
    CHECK_THROWS_WITH_AS(plain.copy_example(-1, 0, turned.data()), doctest::Contains("class -1 is out of range"), ValueError);
    CHECK_THROWS_WITH_AS(plain.class_name(2), doctest::Contains("class 2 is out of range (2 classes)"), ValueError);
    // Too few characters for the requested ways, and too few drawings for K + Q.
    CHECK_THROWS_WITH_AS(EpisodeSampler(std::make_shared<OmniglotClasses>(data, false), {.n_way = 20}),
                         doctest::Contains("episodes: 20-way tasks need at least 20 classes, but the pool has 5"), DataError);
    CHECK_THROWS_WITH_AS(EpisodeSampler(std::make_shared<OmniglotClasses>(data, false), {.n_way = 5, .k_shot = 1, .q_query = 4}),
                         doctest::Contains("need 5 examples per class, but class images_background/A/character01 has 4"),
                         DataError);

    const std::vector<std::string> missing = {"images_background/Z/character01"};
    CHECK_THROWS_WITH_AS(OmniglotClasses(data, missing, false),
                         doctest::Contains("omniglot: character images_background/Z/character01 is not loaded"), DataError);
    CHECK_THROWS_WITH_AS(OmniglotClasses(nullptr, true), doctest::Contains("omniglot classes: no data"), ValueError);
  }

  TEST_CASE("global labels on image episodes: each row is labelled with its pool class, x unchanged") {
    const auto episodes = std::make_shared<const EpisodeSampler>(std::make_shared<CodedPool>(9, 6),
                                                                 EpisodeConfig{.n_way = 3, .k_shot = 2, .q_query = 2});
    const GlobalLabelTasks global(episodes);
    CHECK(global.num_classes() == 9);
    CHECK(episodes->pool_classes() == 9);
    CHECK(global.task_bytes() == episodes->task_bytes());
    std::set<std::int64_t> seen;
    for (std::uint64_t i = 0; i < 6; ++i) {
      const Task local = episodes->sample(i), task = global.sample(i);
      CHECK(task.support_x.to_vector<float>() == local.support_x.to_vector<float>());
      CHECK(task.query_x.to_vector<float>() == local.query_x.to_vector<float>());
      // A coded row holds 1000·class + example: its label must be that class.
      for (const auto& [x, y] : {std::pair{&task.support_x, &task.support_y}, std::pair{&task.query_x, &task.query_y}}) {
        const std::vector<float> values = x->to_vector<float>();
        const std::vector<std::int64_t> labels = y->to_vector<std::int64_t>();
        for (std::size_t r = 0; r < labels.size(); ++r) {
          CHECK(labels[r] == static_cast<std::int64_t>(values[4 * r]) / 1000);
          seen.insert(labels[r]);
        }
      }
    }
    CHECK(seen.size() > 3);  // more than the 3 ways: the labels are global
  }
}
