// Note [One atomic writer]: every file metagrad writes whole (checkpoints, in nn/;
// metrics.csv, results.txt and the plots, in tools/) is written the same way, here:
// the bytes go to a temporary file in the same folder, which is fsync'ed, closed and
// renamed over the target, and then the folder is fsync'ed. A reader (or a crash, or
// a later --resume) sees the old file or the new one, never one cut short. It lives on
// the lowest floor both writers stand on; internal (not installed), like parallel.h.
//
// The callers differ only in policy, so that is what they pass: the temporary file's
// name (tools: unique per write; checkpoints: <path>.tmp, replacing a stale one left
// by a crash) and what a failure says (each floor's own error message).
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>

namespace mg {

// The steps of an atomic write, in order.
enum class WriteStep { Create, Write, Sync, Close, Rename, SyncFolder };

// A failed step: which, the file it acted on (the temporary file; for Rename and
// SyncFolder the target) and errno.
struct WriteFailure {
  WriteStep step;
  std::string file;
  int error = 0;
};

// Writes `bytes` to `temp` (created, or truncated if it exists), fsyncs and closes it,
// renames it over `path` and fsyncs the folder. On a failure `fail` is called. For
// Close and SyncFolder it may return, which accepts the failure and goes on (a file
// system that cannot sync a folder still holds the whole file); for the other steps
// it must throw (else: "internal error"). When it throws, the temporary file is
// removed (unless it could not be created).
void write_file_atomically(const std::string& path, const std::string& temp, std::span<const std::byte> bytes,
                           const std::function<void(const WriteFailure&)>& fail);

}  // namespace mg
