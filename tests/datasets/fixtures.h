// Test fixtures for datasets/: temporary folders, synthetic Omniglot trees
// written with our own libpng encoder, and the location of the real data sets.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/png_codec.h"
#include "tests/temp_dir.h"

namespace mg::data::testing {

namespace fs = std::filesystem;

using mg::test::TempDir;  // tests/temp_dir.h

// A white `size`² image with a black (ink) horizontal bar, one pixel high, on `row`.
inline GrayImage drawing(int size, int row) {
  GrayImage img{size, size, std::vector<std::uint8_t>(static_cast<std::size_t>(size * size), 255)};
  for (int c = 0; c < size; ++c) img.pixels[static_cast<std::size_t>(row * size + c)] = 0;
  return img;
}

// Writes `count` 1-bit PNGs of side `size` into root/<character>/ named like
// Omniglot's ("0001_01.png" …). Drawing d has its bar on row (4d + 1) mod size:
// nearest 105 -> 28 samples rows 1, 5, 9, 13, 16, …, so drawings 0–3 land on
// output rows 0–3 and drawing 4 (row 17) falls between samples.
inline void write_character(const fs::path& root, const std::string& character, int count,
                            int size = 105) {
  const fs::path dir = root / character;
  fs::create_directories(dir);
  for (int d = 0; d < count; ++d) {
    char name[32];
    std::snprintf(name, sizeof name, "0001_%02d.png", d + 1);
    write_png(dir / name, drawing(size, (4 * d + 1) % size), 1);
  }
}

// doctest::Contains for a message assembled at run time.
inline doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

inline void write_bytes(const fs::path& file, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A tiny two-folder Omniglot: background has alphabets A (2 characters) and B
// (1), evaluation has C (2); every character has `drawings` drawings.
inline std::vector<std::string> write_small_omniglot(const fs::path& root, int drawings = 4) {
  const std::vector<std::string> chars = {
      "images_background/A/character01", "images_background/A/character02",
      "images_background/B/character01", "images_evaluation/C/character01",
      "images_evaluation/C/character02"};
  for (const std::string& c : chars) write_character(root, c, drawings);
  return chars;
}

// Offset of the first byte of chunk `type` (its length field) in a PNG.
inline std::size_t chunk_offset(const std::vector<std::uint8_t>& png, const char* type) {
  for (std::size_t i = 8; i + 8 <= png.size();) {
    const std::size_t len = (std::size_t{png[i]} << 24) | (std::size_t{png[i + 1]} << 16) |
                            (std::size_t{png[i + 2]} << 8) | png[i + 3];
    if (std::string(png.begin() + static_cast<std::ptrdiff_t>(i + 4),
                    png.begin() + static_cast<std::ptrdiff_t>(i + 8)) == type) {
      return i;
    }
    i += 12 + len;
  }
  FAIL("fixture: no " << type << " chunk");
  return 0;
}

// A real data set at $<var>, else $<var with DEFAULT_ after METAGRAD_> (set by
// tests/meson.build under ../shared/data), recognised by the file or folder
// `marker` in it. When it is missing the calling test fails if $CI is set and is
// skipped with a message otherwise.
inline std::optional<fs::path> real_data_root(const std::string& var, const std::string& name,
                                              const fs::path& marker) {
  const std::string default_var = "METAGRAD_DEFAULT_" + var.substr(std::string("METAGRAD_").size());
  const char* env = std::getenv(var.c_str());
  if (env == nullptr || *env == '\0') env = std::getenv(default_var.c_str());
  const fs::path root = env != nullptr ? fs::path(env) : fs::path();
  std::error_code ec;
  if (!root.empty() && fs::exists(root / marker, ec)) return root;
  const std::string why = root.empty() ? "neither " + var + " nor " + default_var + " is set"
                                       : "no " + marker.string() + " under " + root.string();
  if (std::getenv("CI") != nullptr) FAIL("real " << name << " is required when CI is set: " << why);
  MESSAGE("skipping real-" << name << " test: " << why);
  return std::nullopt;
}

// The real Omniglot: $METAGRAD_OMNIGLOT, else $METAGRAD_DEFAULT_OMNIGLOT.
inline std::optional<fs::path> real_omniglot_root() {
  return real_data_root("METAGRAD_OMNIGLOT", "Omniglot", "images_background");
}

// The real CLINC150: $METAGRAD_CLINC150, else $METAGRAD_DEFAULT_CLINC150.
inline std::optional<fs::path> real_clinc150_root() {
  return real_data_root("METAGRAD_CLINC150", "CLINC150", "data_full.json");
}

// Writes `text` to `file` as it is (bytes, no newline translation).
inline void write_text(const fs::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace mg::data::testing
