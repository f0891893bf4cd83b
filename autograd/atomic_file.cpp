// The write-fsync-rename sequence of Note [One atomic writer] (atomic_file.h).
#include "autograd/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "autograd/errors.h"

namespace mg {

void write_file_atomically(const std::string& path, const std::string& temp, std::span<const std::byte> bytes,
                           const std::function<void(const WriteFailure&)>& fail) {
  // Reports a failed step; a handler that throws takes the temporary file with it
  // (unless it could not be created: the name may be someone else's).
  auto report = [&](WriteStep step, const std::string& file, int err) {
    try {
      fail({step, file, err});
    } catch (...) {
      if (step != WriteStep::Create) std::remove(temp.c_str());
      throw;
    }
  };
  // The same for a step after which nothing can go on.
  auto abandon = [&](WriteStep step, const std::string& file, int err) {
    report(step, file, err);
    throw ValueError("write_file_atomically: internal error: the failure handler must throw for this step");
  };
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) abandon(WriteStep::Create, temp, errno);
  std::size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // 0 bytes written for a non-empty request: no progress is possible
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      abandon(WriteStep::Write, temp, err);
    }
    at += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    abandon(WriteStep::Sync, temp, err);
  }
  if (::close(fd) != 0) report(WriteStep::Close, temp, errno);
  if (std::rename(temp.c_str(), path.c_str()) != 0) abandon(WriteStep::Rename, path, errno);

  // The rename itself is durable once the folder is synced.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return;  // some file systems cannot open a folder: the file is whole either way
  const int r = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (r != 0) report(WriteStep::SyncFolder, path, err);
}

}  // namespace mg
