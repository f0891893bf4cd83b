// PNG in and out through libpng, as 8-bit grayscale.
// (Named png_codec, not png, so that it never shadows libpng's <png.h>.)
//
// Omniglot ships 105×105 PNGs of bit depth 1 (colour type 0): pixel value 1
// (white) is background, 0 (black) is ink. decode_png() expands any grayscale
// depth to one byte per pixel (0 or 255 for 1-bit files), and converts colour,
// palette and alpha images to gray as well, so that a user who re-saved the
// files in another PNG flavour still gets the same values.
//
// Conventions
//   * GrayImage holds width·height bytes, row-major, 0 = black, 255 = white.
//   * Decoding is strict: a CRC error in any chunk (critical or ancillary), a
//     zlib check failure, a truncated file or a missing IEND is an error, so
//     that a damaged file is never silently turned into a plausible image.
//   * Every failure is a DataError "<who>: cannot decode <origin>: <reason>",
//     where <reason> is libpng's own message (e.g. "CRC error") and `who` is the
//     caller's name ("omniglot") so the message says which loader failed.
//
// Note [libpng errors]: libpng reports errors by calling an error function that
// must not return. Throwing a C++ exception through libpng's C frames is not
// portable, so the error function longjmps back into a small C-style function
// (png_codec.cpp) that owns no objects with destructors; the C++ wrapper around it
// turns the saved message into a DataError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace mg::data {

struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels = {};  // width * height bytes, row-major

  std::uint8_t at(int x, int y) const {
    return pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                  static_cast<std::size_t>(x)];
  }
};

// Note [PNG sizes]: the header's declared size is checked before any pixel is
// decoded (and so before the pixel buffer is allocated):
//   * each side at most kMaxPngSide;
//   * the raw image data it declares (height × (row bytes + 1), the filter byte)
//     at most kMaxDeflateRatio times the file's size: deflate cannot expand more
//     than that, so a larger image is a lie of a damaged or hostile header;
//   * when the caller expects a size (`expect`), exactly that size.
// Files are read only when regular and at most kMaxPngFileBytes long.
inline constexpr int kMaxPngSide = 16384;
inline constexpr std::size_t kMaxDeflateRatio = 1032;
inline constexpr std::size_t kMaxPngFileBytes = std::size_t{256} << 20;

// An image size a caller requires; {0, 0}: any.
struct PngSize {
  int width = 0;
  int height = 0;
};

// Decodes the PNG held in `bytes`. `origin` names it in errors (usually its path).
// A header whose size differs from a nonzero `expect` is a DataError
// "<who>: <origin> is WxH pixels, expected wxh", raised before decoding the pixels.
GrayImage decode_png(std::span<const std::uint8_t> bytes, std::string_view origin,
                     std::string_view who = "png", PngSize expect = {});

// Reads and decodes one file. A file that cannot be read is a DataError
// "<who>: cannot read <path>: <reason>".
GrayImage read_png(const std::filesystem::path& file, std::string_view who = "png");

// Reads a whole file into `out` (reusing its capacity). DataError as read_png,
// also for a file that is not regular (a directory, FIFO or device) or is larger
// than `max_bytes`; the size is checked before anything is read.
void read_file_bytes(const std::filesystem::path& file, std::vector<std::uint8_t>& out,
                     std::string_view who = "png", std::size_t max_bytes = kMaxPngFileBytes);

// Encodes `image` as a grayscale PNG of bit depth 8, or 1 (a pixel >= 128 is
// stored as 1 = white), the format of the Omniglot files. ValueError for any
// other depth or for pixels that do not match width * height.
std::vector<std::uint8_t> encode_png(const GrayImage& image, int bit_depth = 8);

// encode_png() written to `file`; DataError "png: cannot write <path>: <reason>".
void write_png(const std::filesystem::path& file, const GrayImage& image, int bit_depth = 8);

}  // namespace mg::data
