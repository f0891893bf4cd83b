// Checkpoints: a round trip restores parameters, buffers, optimizer state, step
// and metadata exactly; every kind of bad file is a DataError naming the file
// (and the parameter, where there is one).
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/creation.h"
#include "autograd/errors.h"
#include "autograd/ops.h"
#include "nn/adam.h"
#include "nn/batchnorm.h"
#include "nn/checkpoint.h"
#include "nn/crc32.h"
#include "nn/linear.h"
#include "nn/sgd.h"
#include "tests/temp_dir.h"
#include "nn/sequential.h"

using namespace mg;
using namespace mg::nn;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
Sequential small_net(std::uint64_t seed, std::int64_t hidden = 4) {
  Generator gen(seed);
  Sequential net;
  net.emplace<Linear>(3, hidden, gen).emplace<BatchNorm2d>(hidden, BatchNormOptions{.mode = BatchNormMode::Running});
  return net;
}

using Bytes = std::vector<char>;

Bytes operator+(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
template <class T>
Bytes le(T v) {  // little-endian bytes of v
  Bytes out(sizeof(T));
  std::memcpy(out.data(), &v, sizeof(T));
  return out;
}
Bytes u32(std::uint32_t v) { return le(v); }

// A well-formed header (magic, version 1, checksum, length) around `payload`.
Bytes wrap(const Bytes& payload) {
  const std::uint32_t crc = crc32(std::as_bytes(std::span(payload.data(), payload.size())));
  return Bytes{'M', 'G', 'C', 'K', 'P', 'T', '\0', '\0'} + u32(1) + u32(crc) + le(std::uint64_t{payload.size()}) + payload;
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::vector<float>> values(const Module& m) {
  std::vector<std::vector<float>> out;
  for (const auto& t : m.named_parameters()) out.push_back(t.tensor.to_vector<float>());
  for (const auto& t : m.named_buffers()) out.push_back(t.tensor.to_vector<float>());
  return out;
}

}  // namespace

TEST_SUITE("nn_checkpoint") {
  TEST_CASE("crc32 gives the standard check value") {
    const std::string s = "123456789";
    const auto bytes = std::as_bytes(std::span(s.data(), s.size()));
    CHECK(crc32(bytes) == 0xCBF43926u);
    CHECK(crc32(bytes.subspan(4), crc32(bytes.first(4))) == 0xCBF43926u);  // incremental
    CHECK(crc32({}) == 0u);
  }

  TEST_CASE("crc32 equals the bit-at-a-time definition at every length, offset and split") {
    // The definition: each bit shifted through the reflected polynomial, no tables.
    const auto bitwise = [](std::span<const std::byte> bytes) {
      std::uint32_t r = 0xFFFFFFFFu;
      for (std::byte b : bytes) {
        r ^= std::to_integer<std::uint32_t>(b);
        for (int k = 0; k < 8; ++k) r = (r & 1u) ? (r >> 1) ^ 0xEDB88320u : r >> 1;
      }
      return ~r;
    };
    std::vector<std::byte> data(64);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>((i * 131 + 7) ^ (i >> 2));
    const std::span<const std::byte> all(data);
    for (std::size_t offset = 0; offset < 8; ++offset)
      for (std::size_t n = 0; offset + n <= data.size(); ++n) {
        const auto bytes = all.subspan(offset, n);
        CAPTURE(offset);
        CAPTURE(n);
        REQUIRE(crc32(bytes) == bitwise(bytes));
        for (std::size_t cut = 0; cut <= n; cut += 5) CHECK(crc32(bytes.subspan(cut), crc32(bytes.first(cut))) == bitwise(bytes));
      }
  }

  TEST_CASE("a round trip restores parameters, buffers, optimizer state, step and metadata") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("run.ckpt");
    Sequential a = small_net(1);
    Adam opt_a(a.parameters(), {.lr = 0.01});
    a.forward(zeros({5, 3}) + 1.0);  // moves the running statistics
    std::vector<Tensor> g;
    for (const Tensor& p : a.parameters()) g.push_back(ones_like(p));
    opt_a.step(g);
    Generator rng(99);
    (void)rng.next_u64();
    save_checkpoint(path, a, &opt_a, 17, {{"config", "omniglot 5-way 1-shot"}, {"rng", rng.state()}});
    CHECK_FALSE(fs::exists(path + ".tmp"));

    Sequential b = small_net(2);
    Adam opt_b(b.parameters(), {.lr = 0.01});
    CHECK(values(a) != values(b));
    const Checkpoint c = load_checkpoint(path, b, &opt_b);
    CHECK(values(a) == values(b));
    CHECK(c.step == 17);
    CHECK(c.meta("config") == "omniglot 5-way 1-shot");
    Generator resumed;
    resumed.set_state(c.meta("rng"));
    CHECK(resumed.next_u64() == rng.next_u64());
    // The optimizers continue identically.
    opt_a.step(g);
    opt_b.step(g);
    CHECK(values(a) == values(b));
    CHECK_THROWS_WITH_AS(c.meta("seed"), doctest::Contains("checkpoint: no metadata entry 'seed'"), DataError);

    // Without an optimizer; read_checkpoint exposes the raw contents.
    save_checkpoint(path, a, nullptr, 3);
    const Checkpoint raw = read_checkpoint(path);
    CHECK(raw.optimizer.kind.empty());
    CHECK(raw.tensors.size() == 6);
    CHECK(raw.tensors[0].name == "0.weight");
    CHECK(raw.tensors[5].name == "1.running_var");
    load_checkpoint(path, b, nullptr);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, b, &opt_b), doctest::Contains("run.ckpt: no optimizer state was saved"),
                         DataError);
  }

  TEST_CASE("a checkpoint holding a NaN or an infinity is not written; the file keeps its contents") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("run.ckpt");
    Sequential a = small_net(1);
    Adam opt(a.parameters(), {.lr = 0.01});
    save_checkpoint(path, a, &opt, 5);
    const std::string before = [&] {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    auto unchanged = [&] {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {}) == before && !fs::exists(path + ".tmp");
    };
    // A parameter.
    Tensor w = a.parameters()[0];
    const double saved = w.at({1, 2});
    w.set({1, 2}, std::numeric_limits<double>::quiet_NaN());
    CHECK_THROWS_WITH_AS(save_checkpoint(path, a, &opt, 6),
                         ("checkpoint: " + path + ": 0.weight holds nan; not written (the file keeps its previous contents)").c_str(),
                         NonFiniteError);
    CHECK(unchanged());
    w.set({1, 2}, saved);
    // An extra tensor, and the optimizer's state.
    const Tensor lr = full({}, std::numeric_limits<double>::infinity());
    CHECK_THROWS_WITH_AS(save_checkpoint(path, a, &opt, 6, {}, {{"inner_lr.0", lr}}),
                         doctest::Contains(": inner_lr.0 holds inf; not written"), NonFiniteError);
    // A gradient of 1e30 keeps the float32 parameters finite but overflows Adam's
    // second moment g² in float32.
    std::vector<Tensor> g;
    for (const Tensor& p : a.parameters()) g.push_back(full_like(p, 1e30));
    opt.step(g);
    for (const Tensor& p : a.parameters()) REQUIRE(all_finite(p));
    CHECK_THROWS_WITH_AS(save_checkpoint(path, a, &opt, 6), doctest::Contains(": optimizer state "), NonFiniteError);
    CHECK(unchanged());
  }

  TEST_CASE("truncated, corrupted, wrong-version and foreign files are refused") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("bad.ckpt");
    Sequential net = small_net(3);
    save_checkpoint(path, net, nullptr, 1);
    const std::vector<char> good = read_bytes(path);

    std::vector<char> bytes(good.begin(), good.end() - 10);
    write_bytes(path, bytes);
    const std::string truncated = "checkpoint: " + path + ": truncated: the header promises";
    CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains(truncated.c_str()), DataError);
    write_bytes(path, std::vector<char>(good.begin(), good.begin() + 10));
    CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains("truncated: the header needs 24 bytes, the file has 10"),
                         DataError);

    bytes = good;
    bytes[bytes.size() - 3] ^= 0x40;
    write_bytes(path, bytes);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, net, nullptr), doctest::Contains("corrupted: checksum mismatch"), DataError);

    bytes = good;
    bytes.push_back('x');
    write_bytes(path, bytes);
    CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains("corrupted: 1 unexpected bytes after the payload"),
                         DataError);

    bytes = good;
    bytes[8] = 7;
    write_bytes(path, bytes);
    CHECK_THROWS_WITH_AS(read_checkpoint(path),
                         doctest::Contains("wrong version: format version 7 is not supported (this build reads version 1)"),
                         DataError);

    bytes = good;
    bytes[0] = 'X';
    write_bytes(path, bytes);
    CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains("not a metagrad checkpoint (bad magic)"), DataError);

    CHECK_THROWS_WITH_AS(read_checkpoint(tmp.file("missing.ckpt")), doctest::Contains("missing.ckpt: cannot open"),
                         DataError);
    CHECK_THROWS_WITH_AS(save_checkpoint(tmp.file("no/such/dir.ckpt"), net, nullptr, 0),
                         doctest::Contains("dir.ckpt.tmp: cannot create"), DataError);
    const std::string occupied = tmp.file("occupied");
    fs::create_directories(fs::path(occupied) / "child");
    CHECK_THROWS_WITH_AS(save_checkpoint(occupied, net, nullptr, 0), doctest::Contains("occupied: cannot rename"), DataError);
    CHECK_FALSE(fs::exists(occupied + ".tmp"));
  }

  TEST_CASE("a payload whose records do not parse is reported as corrupted (even with a valid checksum)") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("records.ckpt");
    auto check_payload = [&](const Bytes& payload, const char* message) {
      write_bytes(path, wrap(payload));
      CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains(message), DataError);
    };
    const Bytes step(8, 0);
    check_payload(step + u32(5), "corrupted: metadata key at payload byte 12 runs past the end");
    const Bytes one_tensor = step + u32(0) + u32(1) + u32(1) + Bytes{'w'};
    check_payload(one_tensor + Bytes{9, 1}, "corrupted: tensor 'w' has dtype code 9 and rank 1");
    check_payload(one_tensor + Bytes{0, 1} + Bytes(8, -1), "corrupted: tensor 'w' has extent -1");
    check_payload(one_tensor + Bytes{1, 2} + le(std::int64_t{3}) + le(std::int64_t{4}) + Bytes(16, 0),
                  "corrupted: tensor 'w' of shape [3, 4] runs past the end of the payload");

    Sequential net = small_net(8);
    save_checkpoint(path, net, nullptr, 0);
    Bytes payload = read_bytes(path);
    payload.erase(payload.begin(), payload.begin() + 24);
    payload.push_back(0);
    check_payload(payload, "corrupted: bytes left over after the last record");
  }

  TEST_CASE("devices, folders, FIFOs, endless and enormous files are refused from the header, without reading them") {
    // Before: the reader took in the whole file first, so /dev/zero never ended (until
    // std::bad_alloc), a FIFO blocked in open(), and a folder read as an empty file.
    mg::test::TempDir tmp;
    const std::string fifo = tmp.file("pipe.ckpt");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const std::pair<std::string, std::string> kinds[] = {
        {"/dev/zero", "a character device"}, {"/dev/null", "a character device"},
        {tmp.path().string(), "a directory"},   {fifo, "a FIFO"}};
    for (const auto& entry : kinds) {
      const std::string& path = entry.first;  // not a structured binding: CAPTURE's lambda takes it (clang 14)
      const std::string& kind = entry.second;
      CAPTURE(path);
      const std::string message = "checkpoint: " + path + ": cannot open: not a regular file (" + kind + ")";
      CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains(message.c_str()), DataError);
    }

    // A 10 GB sparse file of zeros: refused by its magic, in no time.
    const std::string sparse = tmp.file("sparse.ckpt");
    write_bytes(sparse, {});
    fs::resize_file(sparse, std::uintmax_t{10} << 30);
    CHECK_THROWS_WITH_AS(read_checkpoint(sparse), doctest::Contains("sparse.ckpt: not a metagrad checkpoint (bad magic)"),
                         DataError);

    // Headers that declare more than the file holds, from 2^60 bytes down.
    const Bytes header_start = Bytes{'M', 'G', 'C', 'K', 'P', 'T', '\0', '\0'} + u32(1) + u32(0);
    const std::string liar = tmp.file("liar.ckpt");
    for (const std::uint64_t length : {std::uint64_t{1} << 60, UINT64_MAX, std::uint64_t{1} << 33, std::uint64_t{11}}) {
      CAPTURE(length);
      write_bytes(liar, header_start + le(length) + Bytes(10, 0));
      const std::string message = "truncated: the header promises " + std::to_string(length) + " payload bytes, the file has 10";
      CHECK_THROWS_WITH_AS(read_checkpoint(liar), doctest::Contains(message.c_str()), DataError);
    }

    // A well-formed header over a 4 TiB sparse payload: refused for the memory it would
    // take before a byte of the payload is read.
    const std::string huge = tmp.file("huge.ckpt");
    const std::uint64_t length = std::uint64_t{4} << 40;
    write_bytes(huge, header_start + le(length));
    std::error_code ec;
    fs::resize_file(huge, 24 + length, ec);
    if (!ec) {  // file systems without sparse files of this size skip this part
      const std::string message = "checkpoint: " + huge + ": its payload of 4398046511104 bytes (read and decoded) would need ~8.0 TiB";
      CHECK_THROWS_WITH_AS(read_checkpoint(huge), doctest::Contains(message.c_str()), MemoryError);
    }
  }

  TEST_CASE("tensor records that declare more elements than the payload holds are refused before allocating") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("elements.ckpt");
    auto check_payload = [&](const Bytes& payload, const std::string& message) {
      CAPTURE(message);
      write_bytes(path, wrap(payload));
      CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains(message.c_str()), DataError);
    };
    const Bytes one_tensor = Bytes(8, 0) + u32(0) + u32(1) + u32(1) + Bytes{'w'};
    auto dims = [](std::initializer_list<std::int64_t> ds) {
      Bytes out;
      for (std::int64_t d : ds) out = out + le(d);
      return out;
    };
    // 2^60 elements in a 40-byte payload.
    check_payload(one_tensor + Bytes{0, 1} + dims({std::int64_t{1} << 60}),
                  "corrupted: tensor 'w' has extent 1152921504606846976");
    // Extents each within the payload whose product overflows 64 bits: 4096^6 = 2^72.
    const Bytes padding(8192, 0);
    check_payload(one_tensor + Bytes{0, 6} + dims({4096, 4096, 4096, 4096, 4096, 4096}) + padding,
                  "corrupted: tensor 'w' has extents 4096 x 4096 x 4096 x 4096 x 4096 x 4096 whose element count overflows");
    // An empty tensor whose other extents would overflow the shape (Note [Shape sizes]).
    check_payload(one_tensor + Bytes{1, 6} + dims({0, 8192, 8192, 8192, 8192, 8192}) + padding,
                  "corrupted: tensor 'w' has extents 0 x 8192 x 8192 x 8192 x 8192 x 8192 whose element count overflows");
    // Products that fit but need more bytes than are left.
    check_payload(one_tensor + Bytes{1, 3} + dims({4096, 4096, 4096}) + padding,
                  "corrupted: tensor 'w' of shape [4096, 4096, 4096] runs past the end of the payload");
    check_payload(one_tensor + Bytes{2, 2} + dims({2048, 2}) + padding,
                  "corrupted: tensor 'w' of shape [2048, 2] runs past the end of the payload");
  }

  TEST_CASE("an optimizer step count out of int64's range in a checkpoint is a DataError (found by fuzz_checkpoint)") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("steps.ckpt");
    Sequential net = small_net(4);
    Sgd sgd(net.parameters(), {.lr = 0.1, .momentum = 0.9});
    for (const double step : {2.41834e265, -3.0, 1.5}) {
      CAPTURE(step);
      Checkpoint c;
      c.tensors = net.named_parameters();
      for (NamedTensor& b : net.named_buffers()) c.tensors.push_back(std::move(b));
      c.optimizer = sgd.state();
      c.optimizer.scalars[1].second = step;  // "step.0"
      write_checkpoint(path, c);
      CHECK_THROWS_WITH_AS(load_checkpoint(path, net, &sgd),
                           doctest::Contains("optimizer state does not fit: sgd: state entry 'step.0' must be a whole "
                                             "number in [0, 2^63)"),
                           DataError);
    }
  }

  TEST_CASE("loading into a model that does not match names the parameter and leaves the model untouched") {
    mg::test::TempDir tmp;
    const std::string path = tmp.file("shape.ckpt");
    Sequential saved = small_net(4, 4);
    Sgd opt(saved.parameters(), {.lr = 0.1, .momentum = 0.9});
    save_checkpoint(path, saved, nullptr, 0);

    Sequential wider = small_net(5, 6);
    const auto before = values(wider);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, wider, nullptr),
                         doctest::Contains("shape.ckpt: shape mismatch: parameter '0.weight' is [4, 3] f32 in the file, the "
                                           "model has [6, 3] f32"),
                         DataError);
    CHECK(values(wider) == before);

    Generator gen(6);
    Sequential other;
    other.emplace<Linear>(3, 4, gen);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, other, nullptr),
                         doctest::Contains("parameter '1.bias' is not in the model"), DataError);
    Sequential more = small_net(7, 4);
    more.emplace<Linear>(4, 2, gen);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, more, nullptr), doctest::Contains("parameter '2.weight' is missing"),
                         DataError);

    std::vector<Tensor> g;
    for (const Tensor& p : saved.parameters()) g.push_back(ones_like(p));
    opt.step(g);
    save_checkpoint(path, saved, &opt, 1);
    Adam adam(saved.parameters(), {});
    CHECK_THROWS_WITH_AS(load_checkpoint(path, saved, &adam),
                         doctest::Contains("optimizer state does not fit: adam: cannot load the state of a 'sgd' optimizer"),
                         DataError);
  }
}
