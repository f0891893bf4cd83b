#include "tools/paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "autograd/errors.h"

namespace mg::tools {

namespace {

// What a stat'ed path is, for messages: "a folder", "a FIFO (named pipe)"...
std::string kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Can the folder take a new file? Creates and removes a probe; the only test that
// also holds for root, read-only mounts and file systems like /proc.
int probe_writable(const std::string& dir) {
  std::string name = (std::filesystem::path(dir) / ".metalearn-probe-XXXXXX").string();
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return errno;
  ::close(fd);
  ::unlink(name.c_str());
  return 0;
}

}  // namespace

void check_path(std::string_view what, const std::string& path, PathUse use) {
  auto fail = [&](const std::string& problem) { throw DataError(fmt::format("{} {}: {}", what, path, problem)); };
  if (path.empty()) throw DataError(fmt::format("{}: the path is empty", what));

  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT && use == PathUse::kOutputFile) return;
    if (err == ENOENT && use == PathUse::kOutputFolder) {
      std::error_code ec;
      std::filesystem::create_directories(path, ec);
      if (ec) fail(fmt::format("cannot create the folder: {}", ec.message()));
      if (::stat(path.c_str(), &st) != 0) fail(fmt::format("cannot create the folder: {}", std::strerror(errno)));
    } else if (err == ENOENT) {
      fail("does not exist");
    } else if (err == ENOTDIR) {
      fail("a part of the path before the last is not a folder");
    } else {
      fail(std::strerror(err));
    }
  }

  switch (use) {
    case PathUse::kInputFile:
    case PathUse::kOutputFile: {
      if (!S_ISREG(st.st_mode)) fail(fmt::format("is {}; expected a file", kind_of(st.st_mode)));
      if (use == PathUse::kOutputFile) return;
      const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) fail(fmt::format("cannot be read: {}", std::strerror(errno)));
      ::close(fd);
      return;
    }
    case PathUse::kInputFolder: {
      if (!S_ISDIR(st.st_mode)) fail(fmt::format("is {}; expected a folder", kind_of(st.st_mode)));
      DIR* dir = ::opendir(path.c_str());
      if (!dir) fail(fmt::format("cannot be read: {}", std::strerror(errno)));
      ::closedir(dir);
      return;
    }
    case PathUse::kOutputFolder: {
      if (!S_ISDIR(st.st_mode)) fail(fmt::format("is {}; expected a folder", kind_of(st.st_mode)));
      if (const int err = probe_writable(path)) fail(fmt::format("cannot create files in it: {}", std::strerror(err)));
      return;
    }
  }
}

DataRoot data_root(const std::optional<std::string>& flag, const char* env_var, std::string_view folder,
                   std::string_view title) {
  if (flag) return {*flag, "--data"};
  if (const char* env = std::getenv(env_var); env && *env) return {env, fmt::format("${}", env_var)};
  return {fmt::format("../shared/data/{}", folder),
          fmt::format("the default {} folder (pass --data PATH or set {})", title, env_var)};
}

}  // namespace mg::tools
