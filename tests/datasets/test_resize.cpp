#include <doctest/doctest.h>

#include <numeric>
#include <vector>

#include "autograd/errors.h"
#include "datasets/resize.h"

using namespace mg;
using namespace mg::data;

TEST_SUITE("datasets_resize") {
  TEST_CASE("to_ink maps white to 0 and black to 1") {
    const GrayImage img{3, 1, {255, 0, 51}};
    std::vector<float> ink(3);
    to_ink(img, ink);
    CHECK(ink[0] == 0.0f);
    CHECK(ink[1] == 1.0f);
    CHECK(ink[2] == doctest::Approx(0.8));
    std::vector<float> wrong(2);
    CHECK_THROWS_WITH_AS(to_ink(img, wrong), doctest::Contains("resize: ink output holds 2 values, a 3x1 image needs 3"),
                         ValueError);
    const GrayImage torn{3, 1, {255, 0}};
    CHECK_THROWS_WITH_AS(to_ink(torn, ink), doctest::Contains("resize: gray input holds 2 values, a 3x1 image needs 3"),
                         ValueError);
  }

  TEST_CASE("nearest 105 -> 28 samples pixel centres like Pillow: columns 1, 5, 9, 13, 16, ..., 103") {
    // Value of a source pixel = its column index, so the output shows which column was taken.
    std::vector<float> in(105 * 105);
    for (int y = 0; y < 105; ++y)
      for (int x = 0; x < 105; ++x) in[static_cast<std::size_t>(y * 105 + x)] = static_cast<float>(x);
    std::vector<float> out(28 * 28);
    resize(in, 105, 105, out, 28, 28, ResizeFilter::kNearest);
    CHECK(out[0] == 1);
    CHECK(out[1] == 5);
    CHECK(out[2] == 9);
    CHECK(out[3] == 13);
    CHECK(out[4] == 16);
    CHECK(out[27] == 103);
    CHECK(out[27 * 28 + 27] == 103);  // every row samples the same columns
    // Rows follow the same rule: transpose the input.
    for (int y = 0; y < 105; ++y)
      for (int x = 0; x < 105; ++x) in[static_cast<std::size_t>(y * 105 + x)] = static_cast<float>(y);
    resize(in, 105, 105, out, 28, 28, ResizeFilter::kNearest);
    CHECK(out[28 * 4] == 16);
    CHECK(out[28 * 27] == 103);
  }

  TEST_CASE("nearest keeps binary images binary and can upsample") {
    const std::vector<float> in = {0, 1, 1, 0};
    std::vector<float> out(16);
    resize(in, 2, 2, out, 4, 4, ResizeFilter::kNearest);
    const std::vector<float> want = {0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0};
    CHECK(out == want);
  }

  TEST_CASE("area averages each output pixel's footprint exactly") {
    SUBCASE("integer factor: 2x2 blocks") {
      const std::vector<float> in = {1, 0, 0, 0,  //
                                     1, 0, 1, 1,  //
                                     0, 0, 0, 0,  //
                                     0, 1, 0, 0};
      std::vector<float> out(4);
      resize(in, 4, 4, out, 2, 2, ResizeFilter::kArea);
      CHECK(out[0] == doctest::Approx(0.5));
      CHECK(out[1] == doctest::Approx(0.5));
      CHECK(out[2] == doctest::Approx(0.25));
      CHECK(out[3] == doctest::Approx(0.0));
    }
    SUBCASE("fractional factor 3 -> 2: weights 2/3 and 1/3") {
      const std::vector<float> in = {1, 0, 0};
      std::vector<float> out(2);
      resize(in, 3, 1, out, 2, 1, ResizeFilter::kArea);
      CHECK(out[0] == doctest::Approx(2.0 / 3.0));
      CHECK(out[1] == doctest::Approx(0.0));
    }
    SUBCASE("105 -> 28 preserves the mean and constants") {
      std::vector<float> in(105 * 105);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * 7919) % 13) / 12.0f;
      std::vector<float> out(28 * 28);
      resize(in, 105, 105, out, 28, 28, ResizeFilter::kArea);
      const double mean_in = std::accumulate(in.begin(), in.end(), 0.0) / static_cast<double>(in.size());
      const double mean_out = std::accumulate(out.begin(), out.end(), 0.0) / static_cast<double>(out.size());
      CHECK(mean_out == doctest::Approx(mean_in).epsilon(1e-5));
      std::fill(in.begin(), in.end(), 0.75f);
      resize(in, 105, 105, out, 28, 28, ResizeFilter::kArea);
      for (float v : out) CHECK(v == doctest::Approx(0.75).epsilon(1e-6));
    }
  }

  TEST_CASE("a Resizer computes its taps once and gives what resize() gives, image after image") {
    Resizer area(6, 3, 2, 1, ResizeFilter::kArea);
    Resizer nearest(6, 3, 2, 1, ResizeFilter::kNearest);
    std::vector<float> in(18), a(2), b(2);
    for (int round = 0; round < 3; ++round) {
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>((i * (round + 3)) % 7);
      area(in, a);
      resize(in, 6, 3, b, 2, 1, ResizeFilter::kArea);
      CHECK(a == b);
      nearest(in, a);
      CHECK(a == std::vector<float>{in[6 + 1], in[6 + 4]});  // row 1, columns 1 and 4
    }
    CHECK_THROWS_WITH_AS(Resizer(6, 3, 0, 1, ResizeFilter::kArea), doctest::Contains("resize: output size must be positive, got 0x1"),
                         ValueError);
    std::vector<float> small(3);
    CHECK_THROWS_WITH_AS(area(small, a), doctest::Contains("resize: input holds 3 values, a 6x3 image needs 18"), ValueError);
  }

  TEST_CASE("resize rejects bad sizes") {
    const std::vector<float> in(6);
    std::vector<float> out(4);
    CHECK_THROWS_WITH_AS(resize(in, 0, 6, out, 2, 2, ResizeFilter::kArea),
                         doctest::Contains("resize: input size must be positive, got 0x6"), ValueError);
    CHECK_THROWS_WITH_AS(resize(in, 2, 2, out, 2, 2, ResizeFilter::kArea),
                         doctest::Contains("resize: input holds 6 values, a 2x2 image needs 4"), ValueError);
    CHECK_THROWS_WITH_AS(resize(in, 3, 2, out, 3, 3, ResizeFilter::kNearest),
                         doctest::Contains("resize: output holds 4 values, a 3x3 image needs 9"), ValueError);
  }

  TEST_CASE("rotate_quarter_turns turns counter-clockwise like numpy.rot90") {
    const std::vector<float> m = {1, 2, 3,  //
                                  4, 5, 6,  //
                                  7, 8, 9};
    std::vector<float> out(9);
    rotate_quarter_turns(m, 3, 1, out);
    CHECK(out == std::vector<float>{3, 6, 9, 2, 5, 8, 1, 4, 7});
    rotate_quarter_turns(m, 3, 2, out);
    CHECK(out == std::vector<float>{9, 8, 7, 6, 5, 4, 3, 2, 1});
    rotate_quarter_turns(m, 3, 3, out);
    CHECK(out == std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3});
    rotate_quarter_turns(m, 3, -1, out);  // k modulo 4
    CHECK(out == std::vector<float>{7, 4, 1, 8, 5, 2, 9, 6, 3});
    rotate_quarter_turns(m, 3, 4, out);
    CHECK(out == m);
    CHECK_THROWS_WITH_AS(rotate_quarter_turns(m, 2, 1, out), doctest::Contains("rotation input holds 9 values"),
                         ValueError);
  }

  TEST_CASE("resize_filter_name") {
    CHECK(resize_filter_name(ResizeFilter::kNearest) == "nearest");
    CHECK(resize_filter_name(ResizeFilter::kArea) == "area");
  }
}
