#include "tools/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "autograd/errors.h"

// Note [One atomic writer]
// nn/checkpoint.cpp has the same write-fsync-rename sequence for checkpoints,
// but in an unnamed namespace of a lower floor, so tools/ cannot call it, and
// this file may not move it. The right home for one shared writer is a small
// file-utility room below nn/ (both floors would then call it); until then the
// two copies must keep the same order of steps: write all, fsync, close,
// rename, fsync the folder.

namespace mg::tools {

namespace {

// A name no other writer (another thread, another process) uses at the same time.
std::string temp_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.tmp{}-{}", path, ::getpid(), counter.fetch_add(1));
}

}  // namespace

void write_text_file(const std::string& path, std::string_view text) {
  const std::string tmp = temp_name(path);
  auto fail = [&](const std::string& step, int err) {
    ::unlink(tmp.c_str());
    throw DataError(fmt::format("write_text_file: cannot write {}: {} failed: {}", path, step, std::strerror(err)));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw DataError(
        fmt::format("write_text_file: cannot write {}: creating {} failed: {}", path, tmp, std::strerror(err)));
  }
  std::size_t at = 0;
  while (at < text.size()) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      fail(fmt::format("writing {}", tmp), err);
    }
    at += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail(fmt::format("fsync of {}", tmp), err);
  }
  if (::close(fd) != 0) fail(fmt::format("closing {}", tmp), errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(fmt::format("renaming {} over it", tmp), errno);

  // The rename itself is durable once the folder is synced. Some file systems
  // cannot open or sync a folder (EINVAL): the file is complete either way.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    const int r = ::fsync(dfd);
    const int err = errno;
    ::close(dfd);
    if (r != 0 && err != EINVAL && err != EROFS)
      throw DataError(
          fmt::format("write_text_file: cannot write {}: fsync of its folder failed: {}", path, std::strerror(err)));
  }
}

}  // namespace mg::tools
