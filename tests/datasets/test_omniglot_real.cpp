// Tests on the real Omniglot (see fixtures.h for where it is found; with $CI set
// a missing data set fails these tests instead of skipping them). The numbers
// checked here are those of shared/data/README.md.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "datasets/episodes.h"
#include "datasets/omniglot.h"
#include "datasets/splits.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

// All 1,623 characters at 28×28 (nearest), loaded once for this file (~1 s).
std::shared_ptr<const Omniglot> all_characters(const fs::path& root) {
  static std::shared_ptr<const Omniglot> data = std::make_shared<const Omniglot>(Omniglot::load_all(root));
  return data;
}

std::string alphabet_of(const std::string& character) {
  const std::size_t a = character.find('/') + 1;
  return character.substr(0, character.find('/', a));
}

}  // namespace

TEST_SUITE("datasets_omniglot_real") {
  TEST_CASE("964 + 659 characters in 30 + 20 alphabets, 20 drawings each, 32,460 images") {
    const auto root = real_omniglot_root();
    if (!root) return;
    const std::vector<std::string> chars = list_omniglot_characters(*root);
    CHECK(chars.size() == 1623);
    const CharacterSplit official = official_omniglot_split(chars);
    CHECK(official.train.size() == 964);
    CHECK(official.test.size() == 659);
    std::set<std::string> bg, ev;
    for (const auto& c : official.train) bg.insert(alphabet_of(c));
    for (const auto& c : official.test) ev.insert(alphabet_of(c));
    CHECK(bg.size() == 30);
    CHECK(ev.size() == 20);
    CHECK(bg.count("images_background/Japanese_(hiragana)") == 1);
    CHECK(ev.count("images_evaluation/Old_Church_Slavonic_(Cyrillic)") == 1);

    const auto data = all_characters(*root);
    CHECK(data->num_characters() == 1623);
    CHECK(data->num_images() == 32460);
    std::set<std::string> ids;
    for (std::size_t c = 0; c < data->num_characters(); ++c) {
      REQUIRE(data->num_drawings(c) == 20);
      // <XXXX>_<YY>.png: one global id per character, drawers 01–20 in order.
      const std::string id = data->drawing_file(c, 0).substr(0, 4);
      CHECK(ids.insert(id).second);
      for (int d = 0; d < 20; ++d) {
        char want[16];
        std::snprintf(want, sizeof want, "%s_%02d.png", id.c_str(), d + 1);
        CHECK(data->drawing_file(c, d) == want);
      }
      const bool background = data->character(c).starts_with("images_background/");
      CHECK((std::stoi(id) <= 964) == background);
    }
    CHECK(ids.size() == 1623);
  }

  TEST_CASE("decoded originals: 105x105, black/white only, ink fraction within the README's range") {
    const auto root = real_omniglot_root();
    if (!root) return;
    const GrayImage spot = read_png(*root / "images_background/Alphabet_of_the_Magi/character01/0709_01.png");
    CHECK(spot.width == 105);
    CHECK(spot.height == 105);
    // Every 16th drawing of every character: ~2,000 images.
    const std::vector<std::string> chars = list_omniglot_characters(*root);
    std::vector<double> fractions;
    for (std::size_t c = 0; c < chars.size(); ++c) {
      for (int d = static_cast<int>(c % 16); d < 20; d += 16) {
        char name[16];
        const fs::path dir = *root / chars[c];
        const std::string first = fs::directory_iterator(dir)->path().filename().string();
        std::snprintf(name, sizeof name, "%s_%02d.png", first.substr(0, 4).c_str(), d + 1);
        const GrayImage g = read_png(dir / name);
        REQUIRE(g.pixels.size() == 105u * 105u);
        const auto ink = std::count(g.pixels.begin(), g.pixels.end(), std::uint8_t{0});
        const auto paper = std::count(g.pixels.begin(), g.pixels.end(), std::uint8_t{255});
        CHECK(ink + paper == 105 * 105);
        fractions.push_back(static_cast<double>(ink) / (105.0 * 105.0));
      }
    }
    REQUIRE(fractions.size() > 1500);
    std::sort(fractions.begin(), fractions.end());
    CHECK(fractions.front() >= 0.0015);  // README: min 0.2%
    CHECK(fractions.back() <= 0.2215);   // README: max 22.1%
    const double median = fractions[fractions.size() / 2];
    CHECK(median > 0.06);  // README: median 7.9%
    CHECK(median < 0.10);
  }

  TEST_CASE("after resizing: 28x28, values in [0, 1] (exactly 0 or 1 with nearest), ink is the minority") {
    const auto root = real_omniglot_root();
    if (!root) return;
    const auto data = all_characters(*root);
    double ink = 0;
    std::size_t values = 0, non_binary = 0;
    for (std::size_t c = 0; c < data->num_characters(); ++c) {
      for (int d = 0; d < 20; ++d) {
        for (float v : data->image(c, d)) {
          non_binary += (v != 0.0f && v != 1.0f);
          ink += v;
          ++values;
        }
      }
    }
    CHECK(values == 32460u * 28u * 28u);
    CHECK(non_binary == 0);
    CHECK(ink / static_cast<double>(values) > 0.04);
    CHECK(ink / static_cast<double>(values) < 0.14);
    // The area filter gives gray levels, still in [0, 1], with the same mean ink
    // as the 105x105 originals.
    const std::vector<std::string> one = {"images_background/Greek/character03"};
    const Omniglot area = Omniglot::load(*root, one, {.filter = ResizeFilter::kArea});
    const GrayImage original = read_png(*root / one[0] / area.drawing_file(0, 6));
    const double orig_ink = static_cast<double>(std::count(original.pixels.begin(), original.pixels.end(), 0)) / (105.0 * 105.0);
    double mean = 0;
    for (float v : area.image(0, 6)) {
      CHECK(v >= 0.0f);
      CHECK(v <= 1.0f);
      mean += v / (28.0 * 28.0);
    }
    CHECK(mean == doctest::Approx(orig_ink).epsilon(1e-4));
  }

  TEST_CASE("Vinyals split version 1: pinned counts and members") {
    const auto root = real_omniglot_root();
    if (!root) return;
    const CharacterSplit s = vinyals_omniglot_split(list_omniglot_characters(*root));
    REQUIRE(s.train.size() == 1200);
    REQUIRE(s.test.size() == 423);
    CHECK(std::count_if(s.train.begin(), s.train.end(),
                        [](const std::string& c) { return c.starts_with("images_background/"); }) == 702);
    CHECK(s.train[0] == "images_background/Alphabet_of_the_Magi/character01");
    CHECK(s.train[1] == "images_background/Alphabet_of_the_Magi/character02");
    CHECK(s.train[599] == "images_background/Ojibwe_(Canadian_Aboriginal_Syllabics)/character14");
    CHECK(s.train[1199] == "images_evaluation/ULOG/character25");
    CHECK(s.test[0] == "images_background/Alphabet_of_the_Magi/character04");
    CHECK(s.test[1] == "images_background/Alphabet_of_the_Magi/character07");
    CHECK(s.test[200] == "images_background/Malay_(Jawi_-_Arabic)/character39");
    CHECK(s.test[422] == "images_evaluation/ULOG/character26");
  }

  TEST_CASE("sampler over 500 real episodes: rows are drawings of their labelled class, rotated as named") {
    const auto root = real_omniglot_root();
    if (!root) return;
    const auto data = all_characters(*root);
    const CharacterSplit split = vinyals_omniglot_split(list_omniglot_characters(*root));
    auto pool = std::make_shared<const OmniglotClasses>(data, split.train, true);
    CHECK(pool->num_classes() == 4800);
    const EpisodeSampler sampler(pool, {.n_way = 20, .k_shot = 5, .q_query = 15, .seed = 2017});
    std::set<std::int64_t> used;
    std::map<int, int> rotation_count;
    std::vector<float> want(28 * 28);
    const std::size_t area = 28 * 28;
    for (std::uint64_t i = 0; i < 500; ++i) {
      const Task t = sampler.sample(i);
      const std::vector<std::int64_t> classes = sampler.classes(i);
      REQUIRE(std::set<std::int64_t>(classes.begin(), classes.end()).size() == 20);
      used.insert(classes.begin(), classes.end());
      for (std::int64_t c : classes) rotation_count[static_cast<int>(c % 4)]++;
      if (i % 50 != 0) continue;  // full pixel checks on every 50th task
      const auto sx = t.support_x.to_vector<float>(), qx = t.query_x.to_vector<float>();
      const auto sy = t.support_y.to_vector<std::int64_t>(), qy = t.query_y.to_vector<std::int64_t>();
      auto drawing_of = [&](const float* row, std::int64_t cls) {
        for (int d = 0; d < 20; ++d) {
          pool->copy_example(cls, d, want.data());
          if (std::equal(want.begin(), want.end(), row)) return d;
        }
        return -1;
      };
      for (int label = 0; label < 20; ++label) {
        const std::int64_t cls = classes[static_cast<std::size_t>(label)];
        std::set<int> drawings;
        for (std::size_t r = 0; r < 5; ++r) {
          const std::size_t row = static_cast<std::size_t>(label) * 5 + r;
          CHECK(sy[row] == label);
          const int d = drawing_of(sx.data() + row * area, cls);
          CHECK(d >= 0);
          drawings.insert(d);
        }
        for (std::size_t r = 0; r < 15; ++r) {
          const std::size_t row = static_cast<std::size_t>(label) * 15 + r;
          CHECK(qy[row] == label);
          const int d = drawing_of(qx.data() + row * area, cls);
          CHECK(d >= 0);
          drawings.insert(d);
        }
        // 5 + 15 = all 20 drawings, each once (up to Braille/character01's identical pair).
        if (pool->class_name(cls).find("Braille/character01 ") == std::string::npos) CHECK(drawings.size() == 20);
      }
    }
    CHECK(used.size() > 4000);  // 10,000 draws from 4,800 classes cover ~87%
    for (int r = 0; r < 4; ++r) {
      CHECK(rotation_count[r] > 2250);  // expected 2,500 each
      CHECK(rotation_count[r] < 2750);
    }
  }
}
