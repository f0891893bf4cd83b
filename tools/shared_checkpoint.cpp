#include "tools/shared_checkpoint.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "autograd/errors.h"
#include "tools/paths.h"

namespace mg::tools {

SharedCheckpoint::SharedCheckpoint(meta::Communicator* comm, const std::string& path) : path_(path) {
  if (!comm || comm->size() == 1) return;
  std::vector<std::byte> bytes;
  if (comm->rank() == 0) {
    check_path("train: --resume: checkpoint", path, PathUse::kInputFile);
    // A read cut short is not checked here: rank 0 loads `path` itself, with every check,
    // and a copy of fewer bytes fails the checkpoint's own checksum on the other ranks.
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes.resize(text.size());
    if (!text.empty()) std::memcpy(bytes.data(), text.data(), text.size());
  }
  bytes = comm->broadcast(bytes, 0);
  if (comm->rank() == 0) return;
  path_ = (std::filesystem::temp_directory_path() /
           fmt::format("metagrad-rank{}-{}-checkpoint.mgc", comm->rank(), ::getpid()))
              .string();
  std::ofstream out(path_, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw DataError(fmt::format("train: --resume: rank {} cannot write its copy of the checkpoint to {}",
                                        comm->rank(), path_));
  copy_ = true;
}

SharedCheckpoint::~SharedCheckpoint() {
  if (!copy_) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace mg::tools
