// Benchmarks of the data floor: loading all of Omniglot (target: the 32,460
// images in under 3 s on 2 cores), its pieces (PNG decode, resize), loading and
// tokenizing CLINC150 (target: the 23,700 utterances well under a second), and
// task sampling (image and text episodes, sinusoids).
//
// The data sets are found at $METAGRAD_OMNIGLOT / $METAGRAD_CLINC150, else
// $METAGRAD_DEFAULT_OMNIGLOT / $METAGRAD_DEFAULT_CLINC150, else
// <repo>/../shared/data/{omniglot,clinc150} located from this executable's path
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
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"

namespace fs = std::filesystem;
using namespace mg::data;

namespace {

// A data set at $<var>, else $<default_var>, else <repo>/../shared/data/<folder>
// located from this executable's path, recognised by `marker` inside it.
std::optional<fs::path> data_root(const char* var, const char* default_var, const char* folder, const char* marker) {
  for (const char* name : {var, default_var}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') return fs::path(v);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path guess = exe.parent_path().parent_path().parent_path().parent_path() / "shared" / "data" / folder;
    if (fs::exists(guess / marker, ec)) return guess;
  }
  return std::nullopt;
}

std::optional<fs::path> omniglot_root() {
  return data_root("METAGRAD_OMNIGLOT", "METAGRAD_DEFAULT_OMNIGLOT", "omniglot", "images_background");
}

// Skips the benchmark when the data set is missing; otherwise returns its root.
std::optional<fs::path> require_root(benchmark::State& state) {
  auto root = omniglot_root();
  if (!root) state.SkipWithError("Omniglot not found; set METAGRAD_OMNIGLOT");
  return root;
}

std::optional<fs::path> require_clinc150(benchmark::State& state) {
  auto root = data_root("METAGRAD_CLINC150", "METAGRAD_DEFAULT_CLINC150", "clinc150", "data_full.json");
  if (!root) state.SkipWithError("CLINC150 not found; set METAGRAD_CLINC150");
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

// CLINC150 from disk to token ids: parse both JSON files, group the 150 intents,
// split them, fit the tokenizer on the meta-training intents, and encode all
// 23,700 utterances (22,500 in scope, as TextPools of the three splits, plus the
// 1,200 out of scope). One thread.
static void BM_Clinc150LoadTokenize(benchmark::State& state) {
  const auto root = require_clinc150(state);
  if (!root) return;
  std::size_t utterances = 0, tokens = 0;
  for (auto _ : state) {
    const Clinc150 clinc = load_clinc150(*root);
    const TextClasses classes = group_by_label(clinc.examples);
    const ClassSplit split = clinc150_intent_split(clinc);
    const Tokenizer tok = Tokenizer::fit(training_texts(classes, split.train));
    utterances = clinc.out_of_scope.size();
    tokens = 0;
    for (const auto* part : {&split.train, &split.validation, &split.test}) {
      const TextPool pool(classes, *part, tok);
      for (std::int64_t c = 0; c < pool.num_classes(); ++c) utterances += static_cast<std::size_t>(pool.num_examples(c));
      tokens += pool.num_tokens();
    }
    std::vector<std::int64_t> oos;
    for (const std::string& text : clinc.out_of_scope) tok.encode_into(text, oos);
    tokens += oos.size();
    benchmark::DoNotOptimize(oos.data());
  }
  state.counters["utterances"] = static_cast<double>(utterances);
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_Clinc150LoadTokenize)->Unit(benchmark::kMillisecond)->Iterations(5);

// One 5-way task from the 90 meta-training intents. Args: K, Q.
static void BM_TextEpisodeSample(benchmark::State& state) {
  const auto root = require_clinc150(state);
  if (!root) return;
  const Clinc150 clinc = load_clinc150(*root);
  const TextClasses classes = group_by_label(clinc.examples);
  const ClassSplit split = clinc150_intent_split(clinc);
  const Tokenizer tok = Tokenizer::fit(training_texts(classes, split.train));
  const TextEpisodeSampler sampler(std::make_shared<const TextPool>(classes, split.train, tok),
                                   {5, static_cast<int>(state.range(0)), static_cast<int>(state.range(1)), 1});
  std::uint64_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sampler.sample(i++).support_x.raw_data());
}
BENCHMARK(BM_TextEpisodeSample)->ArgNames({"k_shot", "q_query"})->Args({1, 15})->Args({5, 15})->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
