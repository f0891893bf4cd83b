// Sizes that would exhaust memory (issue 15, class 5): every reader checks declared
// sizes against the file before reading or decoding its body, and samplers refuse
// requests larger than the machine's memory up front. Each case here ended in
// std::bad_alloc, an endless read, a blocked open() or an int overflow before.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <climits>
#include <cstring>
#include <memory>
#include <utility>

#include "autograd/errors.h"
#include "autograd/memory.h"
#include "datasets/episodes.h"
#include "datasets/png_codec.h"
#include "datasets/sinusoid.h"
#include "nn/crc32.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

void put_be32(std::vector<std::uint8_t>& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

// A valid small PNG whose IHDR is rewritten to declare width × height (and a valid CRC),
// so that only the declared size lies.
std::vector<std::uint8_t> lying_png(std::uint32_t width, std::uint32_t height, int bit_depth) {
  std::vector<std::uint8_t> png = encode_png(drawing(8, 2), bit_depth);
  put_be32(png, 16, width);  // IHDR data starts at 16: signature 8, length 4, type 4
  put_be32(png, 20, height);
  const auto crc = nn::crc32(std::as_bytes(std::span(png.data() + 12, 17)));  // type + 13 data bytes
  put_be32(png, 29, crc);
  return png;
}

// Every example is a [1, 28, 28] image; a class has as many examples as an int holds.
class EndlessPool : public ClassPool {
 public:
  std::int64_t num_classes() const override { return 10; }
  int num_examples(std::int64_t) const override { return INT_MAX; }
  Shape example_shape() const override { return {1, 28, 28}; }
  void copy_example(std::int64_t, int, float*) const override { FAIL("must not be sampled"); }
  std::string class_name(std::int64_t cls) const override { return "endless" + std::to_string(cls); }
};

// Example e of every class is the single value e (exact in float below 2^24).
class WidePool : public ClassPool {
 public:
  WidePool(std::int64_t classes, int examples) : classes_(classes), examples_(examples) {}
  std::int64_t num_classes() const override { return classes_; }
  int num_examples(std::int64_t) const override { return examples_; }
  Shape example_shape() const override { return {1}; }
  void copy_example(std::int64_t, int example, float* out) const override { *out = static_cast<float>(example); }
  std::string class_name(std::int64_t cls) const override { return "wide" + std::to_string(cls); }

 private:
  std::int64_t classes_;
  int examples_;
};

// The dense partial Fisher–Yates that episodes.h documents, as a reference.
std::vector<std::int64_t> dense_draw(std::int64_t n, std::int64_t m, Generator& gen) {
  std::vector<std::int64_t> items(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) items[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = 0; i < m; ++i) {
    const auto j = static_cast<std::size_t>(i) + gen.below(static_cast<std::uint64_t>(n - i));
    std::swap(items[static_cast<std::size_t>(i)], items[j]);
  }
  items.resize(static_cast<std::size_t>(m));
  return items;
}

}  // namespace

TEST_SUITE("datasets_png") {
  TEST_CASE("a header that declares more pixels than the file can hold is refused before decoding") {
    struct Case {
      std::uint32_t width, height;
      int depth;
    };
    for (const Case c : {Case{16384, 16384, 8}, Case{16384, 16384, 1}, Case{5000, 5000, 8}, Case{16384, 100, 8},
                         Case{100000, 3, 8}}) {
      CAPTURE(c.width);
      CAPTURE(c.height);
      const std::vector<std::uint8_t> png = lying_png(c.width, c.height, c.depth);
      const std::string message =
          c.width > 16384 ? "png: cannot decode liar.png: Invalid IHDR data"
                          : "png: cannot decode liar.png: header declares " + std::to_string(c.width) + "x" +
                                std::to_string(c.height) + " pixels";
      CHECK_THROWS_WITH_AS(decode_png(png, "liar.png"), contains(message), DataError);
      if (c.width <= 16384)
        CHECK_THROWS_WITH_AS(decode_png(png, "liar.png"),
                             contains("more than a " + std::to_string(png.size()) + "-byte file can hold"), DataError);
    }
    // A size the file can hold passes the check (and then fails for its missing rows).
    CHECK_THROWS_WITH_AS(decode_png(lying_png(8, 9, 8), "ok.png"), doctest::Contains("ok.png"), DataError);
  }

  TEST_CASE("an expected size is checked from the header, before the pixels are decoded") {
    std::vector<std::uint8_t> png = encode_png(drawing(20, 3), 1);
    CHECK(decode_png(png, "a.png", "omniglot", {20, 20}).width == 20);
    // A damaged body does not matter: the size is refused first.
    png[png.size() - 14] ^= 0xff;  // inside the IDAT CRC
    CHECK_THROWS_WITH_AS(decode_png(png, "a.png", "omniglot", {105, 105}),
                         "omniglot: a.png is 20x20 pixels, expected 105x105", DataError);
    CHECK_THROWS_WITH_AS(decode_png(png, "a.png", "omniglot", {20, 21}),
                         "omniglot: a.png is 20x20 pixels, expected 20x21", DataError);
  }

  TEST_CASE("devices, FIFOs and oversized files are refused before they are read") {
    TempDir tmp;
    std::vector<std::uint8_t> bytes;
    const fs::path fifo = tmp.path() / "pipe.png";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const fs::path& p : {fs::path("/dev/zero"), fs::path("/dev/urandom"), fifo}) {
      CAPTURE(p);
      CHECK_THROWS_WITH_AS(read_file_bytes(p, bytes, "omniglot"),
                           contains("omniglot: cannot read " + p.string() + ": not a regular file (a FIFO, device or socket)"),
                           DataError);
    }
    // A 300 MB sparse file: refused by its size, not read.
    const fs::path big = tmp.path() / "big.png";
    write_bytes(big, {});
    fs::resize_file(big, 300u << 20);
    CHECK_THROWS_WITH_AS(read_png(big), contains("png: cannot read " + big.string() +
                                                 ": the file has 314572800 bytes, more than the 268435456 accepted"),
                         DataError);
    write_bytes(big, std::vector<std::uint8_t>(100, 1));
    CHECK_THROWS_WITH_AS(read_file_bytes(big, bytes, "png", 99), doctest::Contains("the file has 100 bytes, more than the 99 accepted"),
                         DataError);
    read_file_bytes(big, bytes, "png", 100);
    CHECK(bytes.size() == 100);
  }
}

TEST_SUITE("datasets_omniglot") {
  TEST_CASE("an image size larger than the machine's memory is refused before decoding") {
    TempDir tmp;
    write_character(tmp.path(), "images_background/A/character01", 2);
    const std::vector<std::string> c = {"images_background/A/character01"};
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), c, {.image_size = 1 << 20, .threads = 1}),
                         doctest::Contains("omniglot: 2 images of 1048576x1048576 float pixels would need ~8.0 TiB"),
                         MemoryError);
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), c, {.image_size = INT_MAX}),
                         doctest::Contains("omniglot: 2 images of 2147483647x2147483647 float pixels would need ~"),
                         MemoryError);
    CHECK_THROWS_WITH_AS(Omniglot::load(tmp.path(), c, {.expected_size = 20000}),
                         "omniglot: expected_size must be at most 16384 (the largest PNG side decoded), got 20000",
                         ValueError);
  }
}

TEST_SUITE("datasets_episodes") {
  TEST_CASE("tasks larger than the machine's memory are refused when the sampler is made") {
    const auto pool = std::make_shared<EndlessPool>();
    struct Case {
      int n, k, q;
      const char* bytes;
    };
    for (const Case c : {Case{5, 1 << 29, 1 << 29, "~15.4 TiB"}, Case{10, 1 << 30, (1 << 30) - 1, "~61.4 TiB"},
                         Case{2, 1 << 28, 0, "~1.5 TiB"}}) {
      CAPTURE(c.k);
      const std::string message = "episodes: tasks of " + std::to_string(c.n) + " ways, " + std::to_string(c.k) +
                                  " shots and " + std::to_string(c.q) + " queries of [1, 28, 28] examples would need " +
                                  c.bytes;
      CHECK_THROWS_WITH_AS(EpisodeSampler(pool, {.n_way = c.n, .k_shot = c.k, .q_query = c.q}), contains(message),
                           MemoryError);
    }
    // Before, K + Q = 2^31 overflowed an int and passed the examples check.
    CHECK_THROWS_WITH_AS(EpisodeSampler(pool, {.n_way = 5, .k_shot = 1 << 30, .q_query = 1 << 30}),
                         "episodes: 1073741824-shot tasks with 1073741824 queries need 2147483648 examples per class, "
                         "but class endless0 has 2147483647",
                         DataError);
    // Within memory: made, and the estimate is N·(K + Q) examples and labels.
    const EpisodeSampler ok(pool, {.n_way = 5, .k_shot = 2, .q_query = 3});
    CHECK(ok.task_bytes() == 25u * (28 * 28 * 4 + 8));
  }
}

TEST_SUITE("datasets_episodes") {
  TEST_CASE("classes with very many examples are drawn in O(K + Q) memory, with the documented draws") {
    // Found by tests/fuzz/fuzz_episodes: a class of 2^31 − 1 examples made the sampler
    // hold all their indices (8 GB) to draw a 1-shot task (Note [Sparse Fisher–Yates]).
    const EpisodeSampler endless(std::make_shared<WidePool>(4, INT_MAX), {.n_way = 3, .k_shot = 1, .q_query = 2});
    for (std::uint64_t i = 0; i < 20; ++i) {
      const Task task = endless.sample(i);
      CHECK(task.support_x.numel() == 3);
      CHECK(task.query_x.numel() == 6);
      for (const float v : task.query_x.to_vector<float>()) CHECK((v >= 0.0f && v < 2147483648.0f));
    }
    // The sparse draws are the dense ones: same tasks as the algorithm of episodes.h.
    for (const int examples : {100000, 85, 200}) {
      CAPTURE(examples);
      const EpisodeConfig config{.n_way = 2, .k_shot = 3, .q_query = 2, .seed = 5};
      const EpisodeSampler sampler(std::make_shared<WidePool>(3, examples), config);
      for (std::uint64_t index = 0; index < 10; ++index) {
        Generator gen = task_generator(config.seed, index);
        const std::vector<std::int64_t> classes = dense_draw(3, 2, gen);
        CHECK(sampler.classes(index) == classes);
        const Task task = sampler.sample(index);
        const auto sx = task.support_x.to_vector<float>(), qx = task.query_x.to_vector<float>();
        for (std::size_t label = 0; label < 2; ++label) {
          const std::vector<std::int64_t> picks = dense_draw(examples, 5, gen);
          for (std::size_t j = 0; j < 3; ++j) CHECK(sx[label * 3 + j] == static_cast<float>(picks[j]));
          for (std::size_t j = 0; j < 2; ++j) CHECK(qx[label * 2 + j] == static_cast<float>(picks[3 + j]));
        }
      }
    }
  }
}

TEST_SUITE("datasets_tasks") {
  TEST_CASE("a batch of tasks larger than the machine's memory is refused before any task is made") {
    const SinusoidTasks sines({.k_shot = 10, .q_query = 10});
    CHECK(sines.task_bytes() == 160);
    for (const std::size_t count : {std::size_t{1} << 40, std::size_t{1} << 60, SIZE_MAX}) {
      CAPTURE(count);
      CHECK_THROWS_WITH_AS(sample_tasks(sines, 0, count), contains("tasks: a batch of " + std::to_string(count) + " tasks would need ~"),
                           MemoryError);
    }
    CHECK(sample_tasks(sines, 0, 3).size() == 3);
  }
}

TEST_SUITE("datasets_sinusoid") {
  TEST_CASE("tasks with more points than the machine's memory holds are refused") {
    // K + Q = 2^32 − 2 points are 32 GiB of x and y: more than this kind of machine has.
    if (physical_memory_bytes() >= (std::uint64_t{32} << 30)) return;
    CHECK_THROWS_WITH_AS(SinusoidTasks({.k_shot = INT_MAX, .q_query = INT_MAX}),
                         contains("sinusoid: tasks of 2147483647 shots and 2147483647 queries would need ~32.0 GiB, "
                                  "more than this machine's " + format_bytes(physical_memory_bytes()) + " of memory"),
                         MemoryError);
  }
}
