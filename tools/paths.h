// Every path metalearn is given is checked here, once, before it is used, so
// that a path of the wrong kind ends in one clear line and exit status 2
// instead of an exception from deep inside a reader (or a FIFO that blocks a
// reader forever):
//
//   eval: --checkpoint runs/x: is a folder; expected a file
//   train: --out /proc/self: cannot create files in it: No such file or directory
//
// Symbolic links are followed: what counts is what the link points to.
#pragma once

#include <string>
#include <string_view>

namespace mg::tools {

enum class PathUse {
  kInputFile,     // must exist, be a regular file and open for reading
  kInputFolder,   // must exist, be a folder and be listable
  kOutputFolder,  // created when missing (with its parents); must be a folder that takes new files
  kOutputFile,    // may be missing; if present it must be a regular file (it will be replaced)
};

// Throws DataError "<what> <path>: <what is wrong>" unless `path` fits `use`.
// `what` names where the path came from, e.g. "eval: --checkpoint".
void check_path(std::string_view what, const std::string& path, PathUse use);

}  // namespace mg::tools
