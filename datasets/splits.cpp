// Omniglot character splits; see splits.h for the versioned definition.
#include "datasets/splits.h"

#include <algorithm>
#include <utility>

#include "autograd/errors.h"
#include "autograd/random.h"
#include "datasets/omniglot.h"

namespace mg::data {
namespace {

bool under(const std::string& character, std::string_view folder) {
  return character.size() > folder.size() && character.starts_with(folder) &&
         character[folder.size()] == '/';
}

}  // namespace

CharacterSplit official_omniglot_split(std::span<const std::string> characters) {
  CharacterSplit split;
  for (const std::string& c : characters) {
    if (under(c, kOmniglotBackground)) {
      split.train.push_back(c);
    } else if (under(c, kOmniglotEvaluation)) {
      split.test.push_back(c);
    } else {
      throw DataError("omniglot: character " + c + " is under neither " +
                      std::string(kOmniglotBackground) + "/ nor " + std::string(kOmniglotEvaluation) + "/");
    }
  }
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

CharacterSplit vinyals_omniglot_split(std::span<const std::string> characters, int version) {
  if (version != 1) {
    throw ValueError("omniglot: unknown split version " + std::to_string(version) + " (known: 1)");
  }
  std::vector<std::string> all(characters.begin(), characters.end());
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end()) {
    throw DataError("omniglot: split v1: character " + *std::adjacent_find(all.begin(), all.end()) +
                    " is listed twice");
  }
  official_omniglot_split(all);  // every name under one of the two folders
  if (all.size() != kOmniglotCharacters) {
    throw DataError("omniglot: split v1 needs all " + std::to_string(kOmniglotCharacters) +
                    " character folders, got " + std::to_string(all.size()) +
                    "; list both images_background and images_evaluation");
  }
  Generator gen(kVinyalsSplitV1Seed);
  for (std::size_t i = all.size() - 1; i > 0; --i) std::swap(all[i], all[gen.below(i + 1)]);

  const auto cut = all.begin() + static_cast<std::ptrdiff_t>(kVinyalsTrainCharacters);
  CharacterSplit split{{all.begin(), cut}, {cut, all.end()}};
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

}  // namespace mg::data
