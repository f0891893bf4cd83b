// Omniglot (Lake, Salakhutdinov & Tenenbaum 2015): 1,623 handwritten characters
// from 50 alphabets, 20 drawings each, read from the layout of the official
// images_background.zip and images_evaluation.zip, unpacked:
//
//   <root>/images_background/<Alphabet>/character<NN>/<XXXX>_<YY>.png   964 characters
//   <root>/images_evaluation/<Alphabet>/character<NN>/<XXXX>_<YY>.png   659 characters
//
// Each PNG is 105×105, 1-bit gray, white = paper, black = ink. Loading follows
// the MAML reference preprocessing (see resize.h): decode, ink = 1 − gray/255,
// resize to 28×28 (nearest by default), values in [0, 1]. Rotated copies are not
// stored: episodes.h rotates on the fly when a rotated class is drawn.
//
// Conventions
//   * A character is named by its folder relative to root, with '/' separators:
//     "images_background/Greek/character03". Lists of characters are sorted
//     byte-wise (std::string order), which is the same on every machine.
//   * Drawings of a character are its *.png files in sorted file-name order;
//     other files (.DS_Store, Thumbs.db) and hidden entries are ignored.
//   * Nothing is cached on disk and nothing beyond the requested characters is
//     decoded. Memory: 4·S² bytes per image (3.1 KB at S = 28; ~102 MB for all).
//   * Loading uses `threads` workers (0: one per core) over a fixed block split;
//     the result, and which error is reported, do not depend on the thread count.
//   * Errors are DataError "omniglot: <what is wrong>" naming the file or folder.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/resize.h"

namespace mg::data {

inline constexpr std::string_view kOmniglotBackground = "images_background";
inline constexpr std::string_view kOmniglotEvaluation = "images_evaluation";
inline constexpr std::string_view kOmniglotFolders[] = {kOmniglotBackground, kOmniglotEvaluation};
inline constexpr int kOmniglotSourceSize = 105;

struct OmniglotOptions {
  int image_size = 28;                          // stored images are image_size²
  ResizeFilter filter = ResizeFilter::kNearest;  // see resize.h for the choice
  int expected_size = kOmniglotSourceSize;       // every PNG must be this square size
  int threads = 0;                              // loader workers; 0 = one per core
};

// The character folders under root/<folder> for each of `folders`, as sorted
// relative paths. DataError when root or a folder is missing, when a folder has
// no alphabet folders, or when an alphabet has no character folders.
std::vector<std::string> list_omniglot_characters(
    const std::filesystem::path& root,
    std::span<const std::string_view> folders = kOmniglotFolders);

class Omniglot {
 public:
  // Decodes every drawing of `characters` (relative paths, e.g. from
  // list_omniglot_characters() or a split) in the given order. DataError for a
  // missing character folder, one without PNGs, a duplicate, a PNG that does not
  // decode or has the wrong size; ValueError for bad options.
  static Omniglot load(const std::filesystem::path& root, std::vector<std::string> characters,
                       const OmniglotOptions& options = {});
  // Both official folders, all 1,623 characters.
  static Omniglot load_all(const std::filesystem::path& root, const OmniglotOptions& options = {});

  int image_size() const { return size_; }
  std::size_t num_characters() const { return characters_.size(); }
  std::size_t num_images() const { return files_.size(); }
  // Relative path of character `c`.
  const std::string& character(std::size_t c) const;
  // Index of a character by relative path, if loaded.
  std::optional<std::size_t> find(std::string_view character) const;
  int num_drawings(std::size_t c) const;
  // File name of drawing d of character c ("0709_01.png").
  const std::string& drawing_file(std::size_t c, int d) const;
  // image_size² values in [0, 1], ink = 1, row-major.
  std::span<const float> image(std::size_t c, int d) const;
  // All drawings of character c as a new [num_drawings, 1, S, S] float32 tensor.
  Tensor images(std::size_t c) const;

 private:
  Omniglot() = default;
  std::size_t slot(std::size_t c, int d) const;  // bounds-checked image index

  int size_ = 0;
  std::vector<std::string> characters_;
  std::unordered_map<std::string, std::size_t> index_;  // relative path -> character index
  std::vector<std::size_t> first_;   // first image index of each character, plus the total
  std::vector<std::string> files_;   // file name of each image
  std::vector<float> pixels_;        // num_images · size² values
};

}  // namespace mg::data
