// Every file metalearn writes (metrics.csv, results.txt, the SVG plots) goes
// through write_text_file: the text is written to a new temporary file in the
// same folder, flushed and fsync'ed, then renamed over the target, and the
// folder is fsync'ed. A reader (or a crash, or a later --resume) sees the old
// file or the new one, never one cut short. Every step is checked: a failure
// (disk full, a file size limit, a read-only folder) is a DataError naming the
// target, and the temporary file is removed.
//
// The sequence itself is autograd/atomic_file.h's, which checkpoints
// (nn/checkpoint.cpp) use too (Note [One atomic writer]).
#pragma once

#include <string>
#include <string_view>

namespace mg::tools {

// Replaces `path` with `text` atomically. Throws DataError
// "write_text_file: cannot write <path>: <step> failed: <reason>".
void write_text_file(const std::string& path, std::string_view text);

}  // namespace mg::tools
