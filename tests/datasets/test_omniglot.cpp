// Omniglot loading on small fixture trees that the tests write themselves.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "datasets/omniglot.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

TEST_SUITE("datasets_omniglot") {
  TEST_CASE("list_omniglot_characters lists character folders sorted, skipping files and hidden entries") {
    TempDir tmp;
    const std::vector<std::string> chars = write_small_omniglot(tmp.path());
    write_bytes(tmp.path() / "images_background" / "A" / ".DS_Store", {1, 2});
    fs::create_directories(tmp.path() / "images_background" / ".hidden" / "character01");
    CHECK(list_omniglot_characters(tmp.path()) == chars);
    const std::string_view only_eval[] = {kOmniglotEvaluation};
    CHECK(list_omniglot_characters(tmp.path(), only_eval) ==
          std::vector<std::string>{"images_evaluation/C/character01", "images_evaluation/C/character02"});
  }

  TEST_CASE("load decodes, inverts and resizes every drawing in order") {
    TempDir tmp;
    write_small_omniglot(tmp.path(), 4);
    write_bytes(tmp.path() / "images_background" / "A" / "character01" / "notes.txt", {'x'});
    const Omniglot data = Omniglot::load_all(tmp.path(), {.threads = 1});
    CHECK(data.num_characters() == 5);
    CHECK(data.num_images() == 20);
    CHECK(data.image_size() == 28);
    CHECK(data.character(2) == "images_background/B/character01");
    CHECK(data.find("images_evaluation/C/character02") == std::optional<std::size_t>(4));
    CHECK_FALSE(data.find("images_evaluation/C/character09").has_value());
    CHECK(data.num_drawings(0) == 4);
    CHECK(data.drawing_file(0, 3) == "0001_04.png");
    // Drawing d has an ink bar on source row 4d + 1, which nearest sampling maps
    // to output row d (see fixtures.h); everything else is paper (0).
    for (int d = 0; d < 4; ++d) {
      const std::span<const float> img = data.image(0, d);
      REQUIRE(img.size() == 28 * 28);
      for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) CHECK(img[static_cast<std::size_t>(y * 28 + x)] == (y == d ? 1.0f : 0.0f));
    }
    const Tensor t = data.images(3);
    CHECK(t.shape() == Shape{4, 1, 28, 28});
    CHECK(t.at({1, 0, 1, 7}) == 1.0);
    CHECK(t.at({1, 0, 0, 7}) == 0.0);
  }

  TEST_CASE("the area filter keeps thin strokes as gray values in [0, 1]") {
    TempDir tmp;
    write_character(tmp.path(), "images_background/A/character01", 5);
    const Omniglot data = Omniglot::load(tmp.path(), {"images_background/A/character01"},
                                         {.image_size = 28, .filter = ResizeFilter::kArea});
    // Drawing 4's bar (row 17) falls between nearest samples but not through the area filter.
    const std::span<const float> d4 = data.image(0, 4);
    double sum = 0;
    for (float v : d4) {
      CHECK(v >= 0.0f);
      CHECK(v <= 1.0f);
      sum += v;
    }
    CHECK(sum * 105.0 * 105.0 / (28.0 * 28.0) == doctest::Approx(105.0).epsilon(1e-4));  // ink area kept
    CHECK(d4[4 * 28 + 5] == doctest::Approx(1.0 / 3.75));  // output row 4 covers source rows [15, 18.75)
    CHECK(d4[3 * 28 + 5] == 0.0f);
  }

  TEST_CASE("load does not depend on the thread count") {
    TempDir tmp;
    for (int c = 1; c <= 7; ++c) write_character(tmp.path(), "images_background/A/character0" + std::to_string(c), 6);
    const auto chars = list_omniglot_characters(tmp.path(), std::vector<std::string_view>{kOmniglotBackground});
    const Omniglot one = Omniglot::load(tmp.path(), chars, {.threads = 1});
    const Omniglot three = Omniglot::load(tmp.path(), chars, {.threads = 3});
    for (std::size_t c = 0; c < 7; ++c)
      for (int d = 0; d < 6; ++d) {
        const auto a = one.image(c, d), b = three.image(c, d);
        CHECK(std::equal(a.begin(), a.end(), b.begin()));
      }
  }

  TEST_CASE("missing and empty folders are DataErrors naming the folder") {
    TempDir tmp;
    const std::string root = tmp.path().string();
    CHECK_THROWS_WITH_AS(list_omniglot_characters(tmp.path() / "nothing"),
                         contains("omniglot: missing folder " + root + "/nothing (expected the unpacked"),
                         DataError);
    CHECK_THROWS_WITH_AS(list_omniglot_characters(tmp.path()),
                         contains("omniglot: missing folder " + root + "/images_background (unpack images_background.zip"),
                         DataError);
    fs::create_directories(tmp.path() / "images_background");
    CHECK_THROWS_WITH_AS(list_omniglot_characters(tmp.path()),
                         contains("omniglot: folder " + root + "/images_background holds no alphabet folders"),
                         DataError);
    fs::create_directories(tmp.path() / "images_background" / "Greek");
    CHECK_THROWS_WITH_AS(list_omniglot_characters(tmp.path()),
                         contains("omniglot: alphabet folder " + root +
                                           "/images_background/Greek holds no character folders"),
                         DataError);
    fs::create_directories(tmp.path() / "images_background" / "Greek" / "character01");
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {"images_background/Greek/character01"}),
                         contains("omniglot: character folder " + root +
                                           "/images_background/Greek/character01 holds no PNG files"),
                         DataError);
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {"images_background/Greek/character02"}),
                         contains("omniglot: missing folder " + root + "/images_background/Greek/character02"),
                         DataError);
  }

  TEST_CASE("a listed character twice is a DataError") {
    TempDir tmp;
    write_character(tmp.path(), "images_background/A/character01", 2);
    CHECK_THROWS_WITH_AS(
        Omniglot::load(tmp.path(), {"images_background/A/character01", "images_background/A/character01"}),
        doctest::Contains("omniglot: character images_background/A/character01 is listed twice"), DataError);
  }

  TEST_CASE("corrupt, truncated and wrongly sized PNGs are DataErrors naming the file") {
    TempDir tmp;
    const std::string c = "images_background/A/character01";
    write_character(tmp.path(), c, 5);
    const fs::path file = tmp.path() / c / "0001_03.png";
    std::vector<std::uint8_t> good;
    read_file_bytes(file, good);

    SUBCASE("CRC error") {
      std::vector<std::uint8_t> bad = good;
      bad[29] ^= 0x40;
      write_bytes(file, bad);
      CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {c}),
                           contains("omniglot: cannot decode " + file.string() + ": IHDR: CRC error"),
                           DataError);
    }
    SUBCASE("truncated") {
      write_bytes(file, std::vector<std::uint8_t>(good.begin(), good.begin() + 40));
      CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {c}),
                           contains("omniglot: cannot decode " + file.string() + ": file is truncated"),
                           DataError);
    }
    SUBCASE("not a PNG") {
      write_bytes(file, {'G', 'I', 'F', '8', '9', 'a', 0, 0, 0, 0});
      CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {c}),
                           contains("omniglot: cannot decode " + file.string() + ": not a PNG file"),
                           DataError);
    }
    SUBCASE("wrong size") {
      write_png(file, drawing(104, 1), 1);
      CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {c}),
                           contains("omniglot: " + file.string() + " is 104x104 pixels, expected 105x105"),
                           DataError);
      // expected_size follows the option
      write_character(tmp.path(), "images_background/B/character01", 2, 52);
      CHECK(Omniglot::load(tmp.path(), {"images_background/B/character01"}, {.expected_size = 52}).num_images() == 2);
    }
    SUBCASE("the lowest failing file is reported whatever the thread count") {
      write_bytes(tmp.path() / c / "0001_05.png", {1, 2, 3});
      write_bytes(tmp.path() / c / "0001_02.png", {1, 2, 3});
      for (int threads : {1, 2, 4}) {
        CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), {c}, {.threads = threads}),
                             doctest::Contains("0001_02.png: not a PNG file"), DataError);
      }
    }
  }

  TEST_CASE("bad options and indices are ValueErrors") {
    TempDir tmp;
    write_character(tmp.path(), "images_background/A/character01", 2);
    const std::vector<std::string> c = {"images_background/A/character01"};
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), c, {.image_size = 0}),
                         doctest::Contains("omniglot: image_size and expected_size must be >= 1, got 0 and 105"),
                         ValueError);
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), c, {.threads = -1}), doctest::Contains("threads: must be >= 0"),
                         ValueError);
    const Omniglot data = Omniglot::load(tmp.path(), c);
    CHECK_THROWS_WITH_AS(data.character(1), doctest::Contains("omniglot: character index 1 is out of range (1 characters loaded)"),
                         ValueError);
    CHECK_THROWS_WITH_AS(data.image(0, 2),
                         doctest::Contains("omniglot: drawing 2 of images_background/A/character01 is out of range (it has 2)"),
                         ValueError);
    CHECK_THROWS_WITH_AS(data.drawing_file(0, -1), doctest::Contains("drawing -1"), ValueError);
    CHECK_THROWS_WITH_AS(data.num_drawings(5), doctest::Contains("character index 5"), ValueError);
    CHECK_THROWS_WITH_AS(data.images(5), doctest::Contains("character index 5"), ValueError);
  }
}
