// libFuzzer harness: the TrainConfig metadata parser (tools/train_config.h,
// from_metadata) that `metalearn eval` and `--resume` run on a checkpoint's
// metadata, then the defaults and the validation. Input: "key=value" lines.
// A config that validates must survive to_metadata/from_metadata unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "autograd/errors.h"
#include "tools/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> metadata;
  for (std::size_t at = 0; at <= text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    const std::size_t eq = line.find('=');
    if (eq != std::string_view::npos) metadata.emplace_back(line.substr(0, eq), line.substr(eq + 1));
    at = end + 1;
  }
  try {
    mg::tools::TrainConfig c = mg::tools::from_metadata(metadata);
    mg::tools::resolve_defaults(c);
    mg::tools::validate(c);
    const mg::tools::TrainConfig back = mg::tools::from_metadata(mg::tools::to_metadata(c));
    if (mg::tools::to_metadata(back) != mg::tools::to_metadata(c)) std::abort();
  } catch (const mg::Error&) {
  }
  return 0;
}
