// UTF-8 validation for the text readers (text_csv.h, json.h).
//
// Policy (issue 17): text input must be well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates U+D800–U+DFFF, nothing above U+10FFFF, no truncated
// sequences). A reader that finds invalid bytes throws a DataError naming the
// file, the line and the offending byte; it never replaces or drops them, so a
// mis-encoded file (Latin-1, UTF-16) is caught instead of silently becoming
// different tokens.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace mg::data {

// Byte offset of the first byte of the first ill-formed sequence in `text`, or
// nullopt when all of it is well-formed UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

// 1-based line number of byte `offset` in `text` (lines end with '\n').
std::size_t line_of_offset(std::string_view text, std::size_t offset);

}  // namespace mg::data
