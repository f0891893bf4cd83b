// libFuzzer harness: the Omniglot character splits (datasets/splits.h) on
// arbitrary lists of character names (one per line).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/errors.h"
#include "datasets/splits.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> names;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    names.emplace_back(text.substr(at, end - at));
    at = end + 1;
  }
  try {
    const mg::data::CharacterSplit official = mg::data::official_omniglot_split(names);
    if (official.train.size() + official.test.size() != names.size()) std::abort();
  } catch (const mg::Error&) {
  }
  try {
    const mg::data::CharacterSplit vinyals = mg::data::vinyals_omniglot_split(names, 1);
    if (vinyals.train.size() != mg::data::kVinyalsTrainCharacters) std::abort();
  } catch (const mg::Error&) {
  }
  return 0;
}
