// Benchmarks of the data floor: loading all of Omniglot (target: the 32,460
// images in under 3 s on 2 cores), its pieces (PNG decode, resize), and task
// sampling (episodes, sinusoids).
//
// The data set is found at $METAGRAD_OMNIGLOT, else $METAGRAD_DEFAULT_OMNIGLOT,
// else <repo>/../shared/data/omniglot located from this executable's path
// (<repo>/<build>/bench/bench_datasets). Loading benchmarks report wall time
// (UseRealTime), since they run on several threads, and the process CPU time
// per load (counter process_cpu_s), which other load on the machine does not inflate.
//
//   ninja -C build bench/bench_datasets && ./build/bench/bench_datasets
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

#include "datasets/episodes.h"
#include "datasets/omniglot.h"
#include "datasets/png_codec.h"
#include "datasets/resize.h"
#include "datasets/sinusoid.h"
#include "datasets/splits.h"

namespace fs = std::filesystem;
using namespace mg::data;

namespace {

std::optional<fs::path> omniglot_root() {
  for (const char* var : {"METAGRAD_OMNIGLOT", "METAGRAD_DEFAULT_OMNIGLOT"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return fs::path(v);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path guess = exe.parent_path().parent_path().parent_path().parent_path() / "shared" / "data" / "omniglot";
    if (fs::is_directory(guess / "images_background", ec)) return guess;
  }
  return std::nullopt;
}

// Skips the benchmark when the data set is missing; otherwise returns its root.
std::optional<fs::path> require_root(benchmark::State& state) {
  auto root = omniglot_root();
  if (!root) state.SkipWithError("Omniglot not found; set METAGRAD_OMNIGLOT");
  return root;
}

// All characters, loaded once for the sampling benchmarks.
std::shared_ptr<const Omniglot> loaded(const fs::path& root) {
  static auto data = std::make_shared<const Omniglot>(Omniglot::load_all(root));
  return data;
}

}  // namespace

// The whole data set: list, read, decode, invert, resize to 28x28. Arg: threads.
static void BM_OmniglotLoadAll(benchmark::State& state) {
  const auto root = require_root(state);
  if (!root) return;
  OmniglotOptions options;
  options.threads = static_cast<int>(state.range(0));
  options.filter = state.range(1) == 0 ? ResizeFilter::kNearest : ResizeFilter::kArea;
  std::size_t images = 0;
  const std::clock_t cpu_start = std::clock();
  for (auto _ : state) {
    const Omniglot data = Omniglot::load_all(*root, options);
    images = data.num_images();
    benchmark::DoNotOptimize(data.image(0, 0).data());
  }
  state.SetLabel(std::string(resize_filter_name(options.filter)));
  // CPU seconds of the whole process (all threads) per load: on an idle machine
  // the wall time is about this divided by the thread count.
  state.counters["process_cpu_s"] =
      static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC / static_cast<double>(state.iterations());
  state.counters["images"] = static_cast<double>(images);
  state.counters["images_per_s"] =
      benchmark::Counter(static_cast<double>(images) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_OmniglotLoadAll)
    ->ArgNames({"threads", "area"})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// Scanning the 1,675 folders (no decoding).
static void BM_OmniglotListCharacters(benchmark::State& state) {
  const auto root = require_root(state);
  if (!root) return;
  for (auto _ : state) benchmark::DoNotOptimize(list_omniglot_characters(*root));
}
BENCHMARK(BM_OmniglotListCharacters)->Unit(benchmark::kMillisecond);

// One 105x105 1-bit PNG, from memory.
static void BM_PngDecode(benchmark::State& state) {
  const auto root = require_root(state);
  if (!root) return;
  std::vector<std::uint8_t> bytes;
  read_file_bytes(*root / "images_background/Greek/character03/0396_07.png", bytes);
  for (auto _ : state) benchmark::DoNotOptimize(decode_png(bytes, "bench").pixels.data());
}
BENCHMARK(BM_PngDecode)->Unit(benchmark::kMicrosecond);

// Ink conversion + 105 -> 28 resize of one image. Arg: 0 nearest, 1 area.
static void BM_Resize(benchmark::State& state) {
  GrayImage gray{105, 105, std::vector<std::uint8_t>(105 * 105, 255)};
  for (std::size_t i = 0; i < gray.pixels.size(); i += 13) gray.pixels[i] = 0;
  std::vector<float> ink(105 * 105), out(28 * 28);
  const ResizeFilter filter = state.range(0) == 0 ? ResizeFilter::kNearest : ResizeFilter::kArea;
  for (auto _ : state) {
    to_ink(gray, ink);
    resize(ink, 105, 105, out, 28, 28, filter);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(resize_filter_name(filter)));
}
BENCHMARK(BM_Resize)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// One N-way K-shot episode (Q = 15) from the 1,200 training characters with rotations.
static void BM_EpisodeSample(benchmark::State& state) {
  const auto root = require_root(state);
  if (!root) return;
  const auto data = loaded(*root);
  const CharacterSplit split = vinyals_omniglot_split(list_omniglot_characters(*root));
  const EpisodeSampler sampler(std::make_shared<OmniglotClasses>(data, split.train, true),
                               {static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), 15, 1});
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sampler.sample(i++).support_x.raw_data());
}
BENCHMARK(BM_EpisodeSample)->ArgNames({"n_way", "k_shot"})->Args({5, 1})->Args({20, 5})->Unit(benchmark::kMicrosecond);

// One sinusoid task with K = 10 support and 10 query points.
static void BM_SinusoidSample(benchmark::State& state) {
  const SinusoidTasks tasks({.k_shot = 10, .q_query = 10, .seed = 1});
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(tasks.sample(i++).support_x.raw_data());
}
BENCHMARK(BM_SinusoidSample)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
