// libFuzzer harness: the PNG decoder (datasets/png_codec.h) on arbitrary bytes.
// Any mg::Error is an accepted answer; anything else (a crash, a sanitizer report,
// another exception, an allocation over -rss_limit_mb) is a finding.
#include <cstdint>
#include <cstdlib>

#include "autograd/errors.h"
#include "datasets/png_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    const mg::data::GrayImage image = mg::data::decode_png(bytes, "fuzz.png");
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height))
      std::abort();
  } catch (const mg::Error&) {
  }
  try {  // the Omniglot loader's call: the size is checked from the header
    const mg::data::GrayImage image = mg::data::decode_png(bytes, "fuzz.png", "omniglot", {105, 105});
    if (image.width != 105 || image.height != 105) std::abort();
  } catch (const mg::Error&) {
  }
  return 0;
}
