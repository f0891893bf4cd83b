#include <doctest/doctest.h>

#include <png.h>

#include <cstring>

#include "autograd/errors.h"
#include "datasets/png_codec.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

GrayImage gradient(int w, int h) {
  GrayImage img{w, h, {}};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.pixels.push_back(static_cast<std::uint8_t>((x * 37 + y * 11) % 256));
  return img;
}

// A PNG of another flavour, written with libpng's simplified API.
std::vector<std::uint8_t> encode_with_format(const std::vector<std::uint8_t>& pixels, int w, int h,
                                             png_uint_32 format) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(w);
  image.height = static_cast<png_uint_32>(h);
  image.format = format;
  png_alloc_size_t size = 0;
  REQUIRE(png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr) != 0);
  std::vector<std::uint8_t> out(size);
  REQUIRE(png_image_write_to_memory(&image, out.data(), &size, 0, pixels.data(), 0, nullptr) != 0);
  out.resize(size);
  return out;
}

}  // namespace

TEST_SUITE("datasets_png") {
  TEST_CASE("8-bit gray round-trips exactly through encode_png and decode_png") {
    const GrayImage img = gradient(13, 7);
    const GrayImage back = decode_png(encode_png(img, 8), "memory");
    CHECK(back.width == 13);
    CHECK(back.height == 7);
    CHECK(back.pixels == img.pixels);
    CHECK(back.at(3, 2) == img.pixels[2 * 13 + 3]);
  }

  TEST_CASE("1-bit PNGs (the Omniglot format) decode to 0 and 255") {
    const GrayImage img = drawing(105, 10);
    const std::vector<std::uint8_t> bytes = encode_png(img, 1);
    CHECK(bytes[24] == 1);  // IHDR bit depth
    CHECK(bytes[25] == 0);  // IHDR colour type: gray
    const GrayImage back = decode_png(bytes, "memory");
    CHECK(back.pixels == img.pixels);
    CHECK(back.at(4, 10) == 0);
    CHECK(back.at(4, 11) == 255);
    CHECK(back.at(50, 9) == 255);
  }

  TEST_CASE("colour, alpha and 16-bit PNGs are converted to 8-bit gray") {
    SUBCASE("RGB with equal channels keeps its gray level") {
      const std::vector<std::uint8_t> rgb = {0, 0, 0, 255, 255, 255, 128, 128, 128};
      const GrayImage g = decode_png(encode_with_format(rgb, 3, 1, PNG_FORMAT_RGB), "rgb");
      CHECK(g.pixels == std::vector<std::uint8_t>{0, 255, 128});
    }
    SUBCASE("gray + alpha drops the alpha") {
      const std::vector<std::uint8_t> ga = {10, 255, 200, 0};
      const GrayImage g = decode_png(encode_with_format(ga, 2, 1, PNG_FORMAT_GA), "ga");
      CHECK(g.pixels == std::vector<std::uint8_t>{10, 200});
    }
    SUBCASE("16-bit gray is reduced to 8 bits") {
      const std::vector<std::uint16_t> g16 = {0, 65535};
      std::vector<std::uint8_t> raw(4);
      std::memcpy(raw.data(), g16.data(), 4);
      const GrayImage g = decode_png(encode_with_format(raw, 2, 1, PNG_FORMAT_LINEAR_Y), "g16");
      CHECK(g.pixels == std::vector<std::uint8_t>{0, 255});
    }
  }

  TEST_CASE("read_png and write_png go through files") {
    TempDir tmp;
    const GrayImage img = gradient(9, 4);
    write_png(tmp.path() / "a.png", img);
    CHECK(read_png(tmp.path() / "a.png").pixels == img.pixels);
    std::vector<std::uint8_t> bytes;
    read_file_bytes(tmp.path() / "a.png", bytes);
    CHECK(bytes == encode_png(img));
  }

  TEST_CASE("a damaged PNG is a DataError naming the file and libpng's reason") {
    const std::vector<std::uint8_t> good = encode_png(drawing(20, 3), 1);
    SUBCASE("CRC error in a critical chunk") {
      std::vector<std::uint8_t> bad = good;
      const std::size_t idat = chunk_offset(bad, "IDAT");
      const std::size_t len = (std::size_t{bad[idat + 2]} << 8) | bad[idat + 3];
      bad[idat + 8 + len] ^= 0xff;  // first byte of the IDAT CRC
      CHECK_THROWS_WITH_AS(decode_png(bad, "dir/0396_07.png", "omniglot"),
                           doctest::Contains("omniglot: cannot decode dir/0396_07.png: IDAT: CRC error"),
                           DataError);
    }
    SUBCASE("CRC error in the header") {
      std::vector<std::uint8_t> bad = good;
      bad[29] ^= 0x01;  // IHDR CRC
      CHECK_THROWS_WITH_AS(decode_png(bad, "x.png"), doctest::Contains("png: cannot decode x.png: IHDR: CRC error"),
                           DataError);
    }
    SUBCASE("truncated file") {
      std::vector<std::uint8_t> bad(good.begin(), good.end() - 20);
      CHECK_THROWS_WITH_AS(decode_png(bad, "t.png"),
                           doctest::Contains("cannot decode t.png: file is truncated (ends after"),
                           DataError);
    }
    SUBCASE("missing IEND") {
      std::vector<std::uint8_t> bad(good.begin(), good.end() - 12);
      CHECK_THROWS_WITH_AS(decode_png(bad, "t.png"), doctest::Contains("file is truncated"), DataError);
    }
    SUBCASE("not a PNG") {
      const std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
      CHECK_THROWS_WITH_AS(decode_png(text, "n.png"),
                           doctest::Contains("cannot decode n.png: not a PNG file (bad signature)"), DataError);
    }
    SUBCASE("empty file") {
      CHECK_THROWS_WITH_AS(decode_png({}, "e.png"), doctest::Contains("cannot decode e.png: file is empty"),
                           DataError);
    }
  }

  TEST_CASE("files that cannot be read or written are DataErrors naming them") {
    TempDir tmp;
    CHECK_THROWS_WITH_AS(read_png(tmp.path() / "nope.png", "omniglot"),
                         contains("omniglot: cannot read " + (tmp.path() / "nope.png").string() +
                                           ": No such file"),
                         DataError);
    std::vector<std::uint8_t> bytes;
    CHECK_THROWS_WITH_AS(read_file_bytes(tmp.path(), bytes), doctest::Contains("is a directory"), DataError);
    CHECK_THROWS_WITH_AS(write_png(tmp.path() / "no" / "dir.png", gradient(2, 2)),
                         contains("png: cannot write " + (tmp.path() / "no" / "dir.png").string()),
                         DataError);
  }

  TEST_CASE("encode_png rejects bad depths and pixel counts") {
    CHECK_THROWS_WITH_AS(encode_png(gradient(2, 2), 4), doctest::Contains("png: cannot encode bit depth 4; use 1 or 8"),
                         ValueError);
    GrayImage short_img = gradient(3, 3);
    short_img.pixels.pop_back();
    CHECK_THROWS_WITH_AS(encode_png(short_img), doctest::Contains("cannot encode a 3x3 image from 8 pixels"),
                         ValueError);
  }
}
