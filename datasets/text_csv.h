// Labelled text from a CSV file (issue 17: `--dataset text-csv --data FILE`).
//
// Format: RFC 4180 with a header row. A field may be quoted with '"'; inside
// quotes a doubled quote "" is one quote, and commas and line breaks are data.
// Records end with LF or CR LF; the last record may lack one. Columns are found
// by name in the header (text_column, default "text"; label_column, default
// "label"); other columns are ignored. Accepted beyond RFC 4180: a UTF-8 byte
// order mark before the header, and blank lines between records (skipped).
//
// The input must be UTF-8 (see utf8.h for the policy: invalid bytes are an
// error with the line number, never replaced). Every error is a DataError
// "text-csv: <source>[:<line>]: <what is wrong>", where <line> is the 1-based
// physical line of the record (of the opening quote for an unterminated one):
//   * the file cannot be read, is empty, or has a header but no records;
//   * a wanted column is missing (the message lists the columns present) or
//     appears twice in the header;
//   * a record has more or fewer fields than the header;
//   * an unterminated quote, a character after a closing quote, or a quote
//     inside an unquoted field;
//   * an empty (or all-whitespace) text or label.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/text_classes.h"

namespace mg::data {

struct TextCsvOptions {
  std::string text_column = "text";
  std::string label_column = "label";
  // What the missing-column error tells the user to set: the tools pass their flags.
  std::string text_setting = "text_column";
  std::string label_setting = "label_column";
};

// Parses CSV `content`; `source` names it in error messages (usually the path).
std::vector<LabelledText> parse_text_csv(std::string_view content, const std::string& source,
                                         const TextCsvOptions& options = {});

// Reads and parses the file at `path`.
std::vector<LabelledText> read_text_csv(const std::filesystem::path& path, const TextCsvOptions& options = {});

// The whole file as bytes; DataError "<what>: cannot read <path>" when it cannot
// be opened or is not a regular file. Shared by the text readers.
std::string read_text_file(const std::filesystem::path& path, std::string_view what);

}  // namespace mg::data
