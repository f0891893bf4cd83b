#include "tools/atomic_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <span>

#include "autograd/atomic_file.h"
#include "autograd/errors.h"

namespace mg::tools {

namespace {

// A name no other writer (another thread, another process) uses at the same time.
std::string temp_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.tmp{}-{}", path, ::getpid(), counter.fetch_add(1));
}

// What a failed step of the write was doing, for the message.
std::string step_text(WriteStep step, const std::string& tmp) {
  switch (step) {
    case WriteStep::Create: return fmt::format("creating {}", tmp);
    case WriteStep::Write: return fmt::format("writing {}", tmp);
    case WriteStep::Sync: return fmt::format("fsync of {}", tmp);
    case WriteStep::Close: return fmt::format("closing {}", tmp);
    case WriteStep::Rename: return fmt::format("renaming {} over it", tmp);
    case WriteStep::SyncFolder: break;
  }
  return "fsync of its folder";
}

}  // namespace

void write_text_file(const std::string& path, std::string_view text) {
  const std::string tmp = temp_name(path);
  write_file_atomically(path, tmp, std::as_bytes(std::span(text.data(), text.size())), [&](const WriteFailure& f) {
    // Some file systems cannot sync a folder (EINVAL, EROFS): the file is whole either way.
    if (f.step == WriteStep::SyncFolder && (f.error == EINVAL || f.error == EROFS)) return;
    throw DataError(fmt::format("write_text_file: cannot write {}: {} failed: {}", path, step_text(f.step, tmp),
                                std::strerror(f.error)));
  });
}

}  // namespace mg::tools
