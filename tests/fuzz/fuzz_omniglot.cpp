// libFuzzer harness: the Omniglot loader (datasets/omniglot.h) and the episode
// sampler over what it loaded. Input: three option bytes, then the bytes of one
// drawing, written as the single PNG of a one-character Omniglot tree under
// /dev/shm (made once per process).
//   byte 0: expected_size − 1 (1..256; an Omniglot file is 105: byte 104)
//   byte 1: image_size − 1, mod 64
//   byte 2: bit 0 area filter, bit 1 rotations
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "autograd/errors.h"
#include "datasets/episodes.h"
#include "datasets/omniglot.h"

namespace fs = std::filesystem;

namespace {

const fs::path& root() {
  // Never destroyed: the exit handler below still reads it.
  static const fs::path* r = [] {
    auto* p = new fs::path(fs::path("/dev/shm") / ("metagrad-fuzz-omniglot-" + std::to_string(::getpid())));
    fs::create_directories(*p / "images_background" / "A" / "character01");
    std::atexit([] {  // libFuzzer ends with exit() after -max_total_time or -runs
      std::error_code ec;
      fs::remove_all(root(), ec);
    });
    return p;
  }();
  return *r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  mg::data::OmniglotOptions options;
  options.expected_size = 1 + data[0];
  options.image_size = 1 + data[1] % 64;
  options.filter = (data[2] & 1) != 0 ? mg::data::ResizeFilter::kArea : mg::data::ResizeFilter::kNearest;
  options.threads = 1;
  const bool rotations = (data[2] & 2) != 0;
  {
    std::ofstream out(root() / "images_background" / "A" / "character01" / "0001_01.png", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 3), static_cast<std::streamsize>(size - 3));
    if (!out) std::abort();
  }
  try {
    const std::vector<std::string> characters =
        mg::data::list_omniglot_characters(root(), std::array{mg::data::kOmniglotBackground});
    auto set = std::make_shared<const mg::data::Omniglot>(mg::data::Omniglot::load(root(), characters, options));
    if (set->num_images() != 1) std::abort();
    for (const float v : set->image(0, 0))
      if (!(v >= 0.0f && v <= 1.0f)) std::abort();
    const mg::data::EpisodeSampler sampler(std::make_shared<mg::data::OmniglotClasses>(set, rotations),
                                           {.n_way = 1, .k_shot = 1, .q_query = 0, .seed = data[2]});
    const mg::data::Task task = sampler.sample(data[1]);
    if (task.support_x.numel() != options.image_size * options.image_size) std::abort();
  } catch (const mg::Error&) {
  }
  return 0;
}
