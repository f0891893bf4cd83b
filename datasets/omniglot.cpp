// Omniglot folder scanning and parallel decoding; see omniglot.h.
#include "datasets/omniglot.h"

#include <algorithm>
#include <cstring>
#include <system_error>
#include <cctype>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "autograd/parallel.h"
#include "datasets/png_codec.h"

namespace mg::data {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kWho = "omniglot";

[[noreturn]] void fail(const std::string& what) { throw DataError("omniglot: " + what); }

bool hidden(const fs::path& p) { return p.filename().string().starts_with('.'); }

bool is_png(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return ext == ".png";
}

// Entries of `dir` that are folders (want_dirs) or PNG files, by name, sorted.
std::vector<std::string> entries(const fs::path& dir, bool want_dirs) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) fail("cannot list folder " + dir.string() + ": " + ec.message());
  std::vector<std::string> names;
  for (const fs::directory_entry& e : it) {
    if (hidden(e.path())) continue;
    const bool is_dir = e.is_directory(ec);
    if (want_dirs ? is_dir : (!is_dir && is_png(e.path()))) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

std::vector<std::string> list_omniglot_characters(const fs::path& root,
                                                  std::span<const std::string_view> folders) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    fail("missing folder " + root.string() +
         " (expected the unpacked images_background/ and images_evaluation/ inside it)");
  }
  std::vector<std::string> characters;
  for (std::string_view folder : folders) {
    const fs::path split = root / folder;
    if (!fs::is_directory(split, ec)) {
      fail("missing folder " + split.string() + " (unpack " + std::string(folder) + ".zip into " +
           root.string() + ")");
    }
    const std::vector<std::string> alphabets = entries(split, true);
    if (alphabets.empty()) fail("folder " + split.string() + " holds no alphabet folders");
    for (const std::string& alphabet : alphabets) {
      const std::vector<std::string> chars = entries(split / alphabet, true);
      if (chars.empty()) fail("alphabet folder " + (split / alphabet).string() + " holds no character folders");
      for (const std::string& c : chars) characters.push_back(std::string(folder) + "/" + alphabet + "/" + c);
    }
  }
  std::sort(characters.begin(), characters.end());
  return characters;
}

Omniglot Omniglot::load(const fs::path& root, std::vector<std::string> characters,
                        const OmniglotOptions& options) {
  if (options.image_size < 1 || options.expected_size < 1) {
    throw ValueError("omniglot: image_size and expected_size must be >= 1, got " +
                     std::to_string(options.image_size) + " and " + std::to_string(options.expected_size));
  }
  if (options.expected_size > kMaxPngSide) {
    throw ValueError("omniglot: expected_size must be at most " + std::to_string(kMaxPngSide) +
                     " (the largest PNG side decoded), got " + std::to_string(options.expected_size));
  }
  resolve_threads(options.threads, 1);  // validates

  Omniglot data;
  data.size_ = options.image_size;
  std::error_code ec;
  // Scan: the file list fixes every image's slot before any decoding starts.
  data.first_.push_back(0);
  for (const std::string& c : characters) {
    if (!data.index_.emplace(c, data.index_.size()).second) fail("character " + c + " is listed twice");
    const fs::path dir = root / c;
    if (!fs::is_directory(dir, ec)) fail("missing folder " + dir.string());
    std::vector<std::string> files = entries(dir, false);
    if (files.empty()) fail("character folder " + dir.string() + " holds no PNG files");
    for (std::string& f : files) data.files_.push_back(std::move(f));
    data.first_.push_back(data.files_.size());
  }
  data.characters_ = std::move(characters);

  // Decode: image i goes to slot i, whichever worker decodes it.
  const std::size_t n = data.files_.size();
  const std::size_t area = static_cast<std::size_t>(data.size_) * static_cast<std::size_t>(data.size_);
  const int src = options.expected_size;
  const int threads = resolve_threads(options.threads, n);
  // Everything is decoded into one buffer, and each worker keeps a source image and the
  // resizer's intermediate rows: refuse up front what the machine cannot hold.
  const auto side = static_cast<std::uint64_t>(src), out_side = static_cast<std::uint64_t>(data.size_);
  const std::uint64_t scratch_floats = saturating_add(side * side, side * out_side);
  check_memory("omniglot",
               std::to_string(n) + " images of " + std::to_string(data.size_) + "x" + std::to_string(data.size_) +
                   " float pixels",
               saturating_mul(saturating_add(saturating_mul(n, area),
                                             saturating_mul(static_cast<std::uint64_t>(threads), scratch_floats)),
                              sizeof(float)));
  data.pixels_.resize(n * area);
  struct Scratch {
    std::vector<std::uint8_t> bytes;
    std::vector<float> ink;
    Resizer resize;
  };
  std::vector<Scratch> scratch;
  for (int t = 0; t < threads; ++t) scratch.push_back({{}, {}, Resizer(src, src, data.size_, data.size_, options.filter)});
  parallel_for(n, threads, [&](std::size_t i, int worker) {
    Scratch& s = scratch[static_cast<std::size_t>(worker)];
    const std::size_t c = static_cast<std::size_t>(
        std::upper_bound(data.first_.begin(), data.first_.end(), i) - data.first_.begin() - 1);
    const fs::path file = root / data.characters_[c] / data.files_[i];
    read_file_bytes(file, s.bytes, kWho);
    // The size is checked from the header, before the pixels are decoded (Note [PNG sizes]).
    const GrayImage gray = decode_png(s.bytes, file.string(), kWho, {src, src});
    s.ink.resize(gray.pixels.size());
    to_ink(gray, s.ink);
    const std::span<float> out(data.pixels_.data() + i * area, area);
    s.resize(s.ink, out);
    // The area filter's weights sum to 1 only up to rounding.
    for (float& v : out) v = std::clamp(v, 0.0f, 1.0f);
  });
  return data;
}

Omniglot Omniglot::load_all(const fs::path& root, const OmniglotOptions& options) {
  return load(root, list_omniglot_characters(root), options);
}

const std::string& Omniglot::character(std::size_t c) const {
  if (c >= characters_.size()) {
    throw ValueError("omniglot: character index " + std::to_string(c) + " is out of range (" +
                     std::to_string(characters_.size()) + " characters loaded)");
  }
  return characters_[c];
}

std::optional<std::size_t> Omniglot::find(std::string_view character) const {
  const auto it = index_.find(std::string(character));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

int Omniglot::num_drawings(std::size_t c) const {
  character(c);  // bounds check
  return static_cast<int>(first_[c + 1] - first_[c]);
}

std::size_t Omniglot::slot(std::size_t c, int d) const {
  const int n = num_drawings(c);
  if (d < 0 || d >= n) {
    throw ValueError("omniglot: drawing " + std::to_string(d) + " of " + characters_[c] +
                     " is out of range (it has " + std::to_string(n) + ")");
  }
  return first_[c] + static_cast<std::size_t>(d);
}

const std::string& Omniglot::drawing_file(std::size_t c, int d) const { return files_[slot(c, d)]; }

std::span<const float> Omniglot::image(std::size_t c, int d) const {
  const std::size_t area = static_cast<std::size_t>(size_) * static_cast<std::size_t>(size_);
  return {pixels_.data() + slot(c, d) * area, area};
}

Tensor Omniglot::images(std::size_t c) const {
  const int n = num_drawings(c);
  Tensor out({n, 1, size_, size_}, DType::F32);
  const std::span<const float> first = image(c, 0);
  std::memcpy(out.mutable_data<float>(), first.data(), static_cast<std::size_t>(n) * first.size_bytes());
  return out;
}

}  // namespace mg::data
