// libpng decode/encode to 8-bit gray; see png_codec.h and Note [libpng errors].
#include "datasets/png_codec.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <string>

#include "autograd/errors.h"

namespace mg::data {
namespace {

// Larger images are rejected before any allocation (Note [PNG sizes] in png_codec.h):
// a corrupt header must not make us allocate gigabytes.
constexpr png_uint_32 kMaxSide = kMaxPngSide;

// State shared with libpng's callbacks. Plain data only: it lives across the
// setjmp/longjmp pair (Note [libpng errors]).
struct PngIo {
  const std::uint8_t* data = nullptr;       // reading: the encoded file
  std::size_t size = 0;
  std::size_t pos = 0;
  std::vector<std::uint8_t>* sink = nullptr;  // writing: the encoded output
  PngSize expect;                             // reading: the size the caller requires
  bool wrong_size = false;                    // reading: the header is not `expect`
  char message[256] = {};
};

// Note [PNG sizes]: called after png_read_info, before any transform or pixel buffer.
void check_header(png_structp png, png_infop info, PngIo& io) {
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (io.expect.width > 0 &&
      (width != static_cast<png_uint_32>(io.expect.width) || height != static_cast<png_uint_32>(io.expect.height))) {
    std::snprintf(io.message, sizeof io.message, "is %ux%u pixels, expected %dx%d", static_cast<unsigned>(width),
                  static_cast<unsigned>(height), io.expect.width, io.expect.height);
    io.wrong_size = true;
    png_error(png, io.message);
  }
  // Raw rows with their filter byte; interlacing adds at most a few bytes per pass row.
  const std::uint64_t raw = std::uint64_t{height} * (std::uint64_t{png_get_rowbytes(png, info)} + 1);
  const std::uint64_t most = std::uint64_t{kMaxDeflateRatio} * io.size + 1024;
  if (raw > most) {
    std::snprintf(io.message, sizeof io.message,
                  "header declares %ux%u pixels (%llu bytes of image data), more than a %zu-byte file can hold",
                  static_cast<unsigned>(width), static_cast<unsigned>(height), static_cast<unsigned long long>(raw),
                  io.size);
    png_error(png, io.message);
  }
}

[[noreturn]] void on_error(png_structp png, png_const_charp msg) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  // The read callback may already have stored a more precise message.
  if (io->message[0] == '\0') std::snprintf(io->message, sizeof io->message, "%s", msg);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_callback(png_structp png, png_bytep out, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (n > io->size - io->pos) {
    std::snprintf(io->message, sizeof io->message, "file is truncated (ends after %zu bytes)",
                  io->size);
    png_error(png, io->message);
  }
  std::memcpy(out, io->data + io->pos, n);
  io->pos += n;
}

void write_callback(png_structp png, png_bytep in, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  io->sink->insert(io->sink->end(), in, in + n);
}

void flush_callback(png_structp) {}

// Byte b of a packed 1-bit row -> its 8 pixels as 0 or 255 (most significant bit first).
struct ExpandTable {
  std::uint8_t pixels[256][8];
  ExpandTable() {
    for (int b = 0; b < 256; ++b)
      for (int i = 0; i < 8; ++i) pixels[b][i] = ((b >> (7 - i)) & 1) != 0 ? 255 : 0;
  }
};
const ExpandTable kExpand;

// Buffers the decode writes into, owned by the C++ caller (Note [libpng errors]).
struct DecodeBuffers {
  std::vector<png_bytep> rows;
  std::vector<std::uint8_t> packed;  // 1-bit fast path: the packed rows
};

// Reads a non-interlaced 1-bit gray image's rows packed (no libpng transform)
// and expands them with kExpand (Note [1-bit fast path]). Called inside
// decode_raw's setjmp scope.
void read_packed_1bit(png_structp png, png_infop info, GrayImage& image, DecodeBuffers& buf) {
  png_read_update_info(png, info);
  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  const std::size_t stride = png_get_rowbytes(png, info);  // ceil(width / 8)
  buf.packed.resize(stride * height);
  buf.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) buf.rows[y] = buf.packed.data() + y * stride;
  png_read_image(png, buf.rows.data());
  png_read_end(png, nullptr);

  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  // 8·stride >= width: expand whole bytes, with up to 7 spare pixels at the end.
  image.pixels.resize(static_cast<std::size_t>(width) * height + 8);
  for (png_uint_32 y = 0; y < height; ++y) {
    std::uint8_t* row = image.pixels.data() + std::size_t{y} * width;
    const std::uint8_t* src = buf.rows[y];
    for (std::size_t j = 0; j < stride; ++j) std::memcpy(row + 8 * j, kExpand.pixels[src[j]], 8);
  }
  image.pixels.resize(static_cast<std::size_t>(width) * height);
}

// The decode itself, C style (Note [libpng errors]): returns false with
// io.message set when libpng reports an error. `image` and `buf` belong to the
// caller, so nothing with a destructor lives in this frame.
bool decode_raw(png_structp png, png_infop info, PngIo& io, GrayImage& image, DecodeBuffers& buf) {
  if (setjmp(png_jmpbuf(png))) return false;

  png_set_read_fn(png, &io, read_callback);
  png_set_user_limits(png, kMaxSide, kMaxSide);
  // Strict: damaged ancillary chunks and "benign" errors are errors too.
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  png_set_benign_errors(png, 0);
  png_read_info(png, info);
  check_header(png, info, io);

  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  // Note [1-bit fast path]: Omniglot's 1-bit rows are read packed and expanded
  // with a lookup table: 16 µs of CPU per Omniglot file, where libpng's own
  // expand transform takes 27 µs (measured on the 2-core dev machine).
  const bool packed = color == PNG_COLOR_TYPE_GRAY && depth == 1 &&
                      png_get_interlace_type(png, info) == PNG_INTERLACE_NONE;
  if (packed) {
    read_packed_1bit(png, info, image, buf);
    return true;
  }
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color & PNG_COLOR_MASK_COLOR) != 0) png_set_rgb_to_gray_fixed(png, 1, -1, -1);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (depth == 16) png_set_strip_16(png);
  if ((color & PNG_COLOR_MASK_ALPHA) != 0) png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const png_uint_32 width = png_get_image_width(png, info);
  const png_uint_32 height = png_get_image_height(png, info);
  if (png_get_rowbytes(png, info) != width) png_error(png, "internal error: expected one byte per pixel");

  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.pixels.resize(static_cast<std::size_t>(width) * height);
  buf.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) buf.rows[y] = image.pixels.data() + std::size_t{y} * width;
  png_read_image(png, buf.rows.data());
  png_read_end(png, nullptr);
  return true;
}

bool encode_raw(png_structp png, png_infop info, PngIo& io, const GrayImage& image,
                int bit_depth, std::vector<png_bytep>& rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, &io, write_callback, flush_callback);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width),
               static_cast<png_uint_32>(image.height), bit_depth, PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (bit_depth == 1) png_set_packing(png);  // rows hold one byte (0 or 1) per pixel
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

GrayImage decode_png(std::span<const std::uint8_t> bytes, std::string_view origin,
                     std::string_view who, PngSize expect) {
  auto fail = [&](std::string_view reason) {
    return DataError(std::string(who) + ": cannot decode " + std::string(origin) + ": " +
                     std::string(reason));
  };
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0) {
    throw fail(bytes.empty() ? "file is empty" : "not a PNG file (bad signature)");
  }
  PngIo io;
  io.data = bytes.data();
  io.size = bytes.size();
  io.expect = expect;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
  if (png == nullptr) throw fail("out of memory");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    throw fail("out of memory");
  }
  GrayImage image;
  DecodeBuffers buf;
  bool ok = false;
  try {
    ok = decode_raw(png, info, io, image, buf);
  } catch (...) {  // std::bad_alloc from the pixel buffer
    png_destroy_read_struct(&png, &info, nullptr);
    throw;
  }
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok && io.wrong_size)
    throw DataError(std::string(who) + ": " + std::string(origin) + " " + io.message);
  if (!ok) throw fail(io.message);
  return image;
}

void read_file_bytes(const std::filesystem::path& file, std::vector<std::uint8_t>& out,
                     std::string_view who, std::size_t max_bytes) {
  auto fail = [&](const std::string& reason) {
    return DataError(std::string(who) + ": cannot read " + file.string() + ": " + reason);
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw fail(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw fail("is a directory");
  if (!S_ISREG(st.st_mode)) throw fail("not a regular file (a FIFO, device or socket)");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes)
    throw fail("the file has " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
               " accepted");
  out.resize(static_cast<std::size_t>(size));
  std::size_t at = 0;
  while (at < out.size()) {
    const ssize_t n = ::read(fd, out.data() + at, out.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw fail(std::strerror(errno));
    if (n == 0) break;  // the file shrank: decode what is there (it will be found truncated)
    at += static_cast<std::size_t>(n);
  }
  out.resize(at);
}

GrayImage read_png(const std::filesystem::path& file, std::string_view who) {
  std::vector<std::uint8_t> bytes;
  read_file_bytes(file, bytes, who);
  return decode_png(bytes, file.string(), who);
}

std::vector<std::uint8_t> encode_png(const GrayImage& image, int bit_depth) {
  if (bit_depth != 1 && bit_depth != 8) {
    throw ValueError("png: cannot encode bit depth " + std::to_string(bit_depth) +
                     "; use 1 or 8");
  }
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height)) {
    throw ValueError("png: cannot encode a " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + " image from " +
                     std::to_string(image.pixels.size()) + " pixels");
  }
  // 1-bit rows are handed to libpng as one byte (0 or 1) per pixel, see png_set_packing.
  std::vector<std::uint8_t> staged;
  if (bit_depth == 1) {
    staged.resize(image.pixels.size());
    for (std::size_t i = 0; i < staged.size(); ++i) staged[i] = image.pixels[i] >= 128 ? 1 : 0;
  }
  const std::uint8_t* base = bit_depth == 1 ? staged.data() : image.pixels.data();
  std::vector<png_bytep> rows(static_cast<std::size_t>(image.height));
  for (std::size_t y = 0; y < rows.size(); ++y) {
    rows[y] = const_cast<png_bytep>(base + y * static_cast<std::size_t>(image.width));
  }

  std::vector<std::uint8_t> out;
  PngIo io;
  io.sink = &out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
  png_infop info = png != nullptr ? png_create_info_struct(png) : nullptr;
  bool ok = false;
  if (info != nullptr) {
    try {
      ok = encode_raw(png, info, io, image, bit_depth, rows);
    } catch (...) {  // std::bad_alloc from the output buffer
      png_destroy_write_struct(&png, &info);
      throw;
    }
  }
  png_destroy_write_struct(&png, &info);
  if (!ok) throw ValueError(std::string("png: internal error: encoding failed: ") + io.message);
  return out;
}

void write_png(const std::filesystem::path& file, const GrayImage& image, int bit_depth) {
  const std::vector<std::uint8_t> bytes = encode_png(image, bit_depth);
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (f == nullptr) throw DataError("png: cannot write " + file.string() + ": " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int err = errno;
  if (std::fclose(f) != 0 || !ok) {
    throw DataError("png: cannot write " + file.string() + ": " + std::strerror(err));
  }
}

}  // namespace mg::data
