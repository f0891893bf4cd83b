// Train/test splits of the Omniglot characters.
//
// Official split (Lake et al. 2015): images_background (30 alphabets, 964
// characters) for training, images_evaluation (20 alphabets, 659) for testing.
//
// Vinyals split (Vinyals et al. 2016, Matching Networks, §4.1.1; used by MAML,
// Finn et al. 2017, §5.2): 1,200 characters for training and the remaining 423
// for testing, drawn from both folders together. The papers shuffled with their
// own (unpublished or Python-specific) random state, so we fix our own:
//
//   Split version 1
//     1. the 1,623 character folders as relative paths
//        ("images_background/Greek/character03"), sorted byte-wise;
//     2. a Fisher–Yates shuffle: for i = n−1 down to 1, swap items i and
//        gen.below(i + 1), with gen = mg::Generator(kVinyalsSplitV1Seed)
//        (std::mt19937_64, fixed by the C++ standard; see autograd/random.h);
//     3. the first 1,200 shuffled folders are train, the rest test.
//   Both lists are returned sorted. Changing any step is a new version; tests
//   pin known members and counts of version 1.
//
// The split works on names only, so it can be computed before loading pixels
// (load just the train characters for training).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mg::data {

struct CharacterSplit {
  std::vector<std::string> train = {};
  std::vector<std::string> test = {};
};

inline constexpr std::uint64_t kVinyalsSplitV1Seed = 20160613;  // arXiv date of Vinyals et al.
inline constexpr std::size_t kOmniglotCharacters = 1623;
inline constexpr std::size_t kVinyalsTrainCharacters = 1200;

// Background characters train, evaluation characters test. DataError for a
// name under neither folder.
CharacterSplit official_omniglot_split(std::span<const std::string> characters);

// The split described above. DataError unless `characters` are exactly 1,623
// distinct folders under the two official folders (e.g. list_omniglot_characters(root));
// ValueError for a version other than 1.
CharacterSplit vinyals_omniglot_split(std::span<const std::string> characters, int version = 1);

}  // namespace mg::data
