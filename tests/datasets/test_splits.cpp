#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "autograd/errors.h"
#include "datasets/splits.h"

using namespace mg;
using namespace mg::data;

namespace {

// 964 + 659 names shaped like the real folders (the real ones are tested in test_omniglot_real.cpp).
std::vector<std::string> fake_characters() {
  std::vector<std::string> names;
  for (int i = 0; i < 964; ++i) names.push_back("images_background/Alpha" + std::to_string(i % 30) + "/character" + std::to_string(i));
  for (int i = 0; i < 659; ++i) names.push_back("images_evaluation/Beta" + std::to_string(i % 20) + "/character" + std::to_string(i));
  return names;
}

}  // namespace

TEST_SUITE("datasets_splits") {
  TEST_CASE("official split: background trains, evaluation tests") {
    const std::vector<std::string> names = {"images_evaluation/C/character01", "images_background/B/character01",
                                            "images_background/A/character02"};
    const CharacterSplit s = official_omniglot_split(names);
    CHECK(s.train == std::vector<std::string>{"images_background/A/character02", "images_background/B/character01"});
    CHECK(s.test == std::vector<std::string>{"images_evaluation/C/character01"});
    const std::vector<std::string> stray = {"images_background_small1/A/character01"};
    CHECK_THROWS_WITH_AS(official_omniglot_split(stray),
                         doctest::Contains("omniglot: character images_background_small1/A/character01 is under neither "
                                           "images_background/ nor images_evaluation/"),
                         DataError);
  }

  TEST_CASE("Vinyals split v1: 1200 train, 423 test, disjoint, sorted, independent of input order") {
    std::vector<std::string> names = fake_characters();
    const CharacterSplit s = vinyals_omniglot_split(names);
    CHECK(s.train.size() == 1200);
    CHECK(s.test.size() == 423);
    CHECK(std::is_sorted(s.train.begin(), s.train.end()));
    CHECK(std::is_sorted(s.test.begin(), s.test.end()));
    std::set<std::string> all(s.train.begin(), s.train.end());
    all.insert(s.test.begin(), s.test.end());
    CHECK(all.size() == 1623);
    // Both folders contribute to both sides.
    CHECK(std::count_if(s.train.begin(), s.train.end(), [](const std::string& c) { return c.starts_with("images_evaluation"); }) > 300);
    std::reverse(names.begin(), names.end());
    const CharacterSplit again = vinyals_omniglot_split(names, 1);
    CHECK(again.train == s.train);
    CHECK(again.test == s.test);
  }

  TEST_CASE("Vinyals split input errors") {
    std::vector<std::string> names = fake_characters();
    CHECK_THROWS_WITH_AS(vinyals_omniglot_split(names, 2), doctest::Contains("omniglot: unknown split version 2 (known: 1)"),
                         ValueError);
    names.pop_back();
    CHECK_THROWS_WITH_AS(vinyals_omniglot_split(names),
                         doctest::Contains("omniglot: split v1 needs all 1623 character folders, got 1622"), DataError);
    names.push_back(names.front());
    CHECK_THROWS_WITH_AS(vinyals_omniglot_split(names),
                         doctest::Contains("omniglot: split v1: character images_background/Alpha0/character0 is listed twice"),
                         DataError);
    names.back() = "elsewhere/X/character01";
    CHECK_THROWS_WITH_AS(vinyals_omniglot_split(names), doctest::Contains("is under neither"), DataError);
  }
}
