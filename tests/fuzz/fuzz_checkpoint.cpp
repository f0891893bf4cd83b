// libFuzzer harness: the checkpoint reader (nn/checkpoint.h) on arbitrary files.
// The bytes go to an in-memory file (memfd) read through its /proc path, so the
// reader's own open/fstat/read path is what is fuzzed. Each input is read twice: as
// it is, and with the header's payload length and CRC made to match (otherwise
// nearly every mutation stops at the checksum and the records are never parsed).
// A checkpoint that reads is written back and read again (it must round-trip), then
// loaded into a small model.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "autograd/errors.h"
#include "autograd/random.h"
#include "nn/checkpoint.h"
#include "nn/crc32.h"
#include "nn/linear.h"
#include "nn/sequential.h"
#include "nn/sgd.h"

namespace {

int memory_file() {
  static const int fd = ::memfd_create("fuzz-checkpoint", MFD_CLOEXEC);
  if (fd < 0) std::abort();
  return fd;
}

std::string write_input(const std::uint8_t* data, std::size_t size) {
  const int fd = memory_file();
  if (::ftruncate(fd, 0) != 0) std::abort();
  std::size_t at = 0;
  while (at < size) {
    const ssize_t n = ::pwrite(fd, data + at, size - at, static_cast<off_t>(at));
    if (n <= 0) std::abort();
    at += static_cast<std::size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace

namespace {

void check(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_input(data, size);
  mg::nn::Checkpoint c;
  try {
    c = mg::nn::read_checkpoint(path);
  } catch (const mg::Error&) {
    return;
  }
  // Round trip: what was read writes and reads back the same.
  const std::string copy = "/dev/shm/metagrad-fuzz-checkpoint-" + std::to_string(::getpid());
  mg::nn::write_checkpoint(copy, c);
  const mg::nn::Checkpoint back = mg::nn::read_checkpoint(copy);
  std::remove(copy.c_str());
  if (back.step != c.step || back.metadata != c.metadata || back.tensors.size() != c.tensors.size() ||
      back.optimizer.kind != c.optimizer.kind || back.optimizer.tensors.size() != c.optimizer.tensors.size())
    std::abort();
  for (std::size_t i = 0; i < c.tensors.size(); ++i)
    if (back.tensors[i].name != c.tensors[i].name || back.tensors[i].tensor.shape() != c.tensors[i].tensor.shape())
      std::abort();
  // Loading checks names, shapes, dtypes and the optimizer state before writing anything.
  mg::Generator gen(1);
  mg::nn::Sequential model;
  model.emplace<mg::nn::Linear>(2, 2, gen);
  mg::nn::Sgd sgd(model.parameters(), {.lr = 0.1, .momentum = 0.9});
  try {
    mg::nn::load_checkpoint(path, model, &sgd);
  } catch (const mg::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(data, size);
  if (size >= 24) {  // the same bytes with a consistent header (length at 16, CRC at 12)
    std::vector<std::uint8_t> fixed(data, data + size);
    const std::uint64_t length = size - 24;
    const std::uint32_t crc = mg::nn::crc32(std::as_bytes(std::span(fixed.data() + 24, size - 24)));
    std::memcpy(fixed.data() + 12, &crc, 4);
    std::memcpy(fixed.data() + 16, &length, 8);
    check(fixed.data(), fixed.size());
  }
  return 0;
}
