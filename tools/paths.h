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

#include <optional>
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

// A data set's folder and where it came from, for messages: the flag's value ("--data"),
// else $<env_var> when set and not empty, else ../shared/data/<folder> ("the default
// <title> folder (pass --data PATH or set <env_var>)").
struct DataRoot {
  std::string path;
  std::string source;
};
DataRoot data_root(const std::optional<std::string>& flag, const char* env_var, std::string_view folder,
                   std::string_view title);

}  // namespace mg::tools
