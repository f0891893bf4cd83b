// RFC 4180 reader for labelled text; see text_csv.h for the format and errors.
#include "datasets/text_csv.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "autograd/errors.h"
#include "datasets/utf8.h"

namespace mg::data {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// Splits content into records of fields, tracking physical lines.
class CsvScanner {
 public:
  CsvScanner(std::string_view content, const std::string& source) : s_(content), source_(source) {}

  bool done() const { return at_ >= s_.size(); }
  std::size_t line() const { return line_; }

  [[noreturn]] void fail(std::size_t line, const std::string& what) const {
    throw DataError("text-csv: " + source_ + ":" + std::to_string(line) + ": " + what);
  }

  // The next record; skips blank lines before it. Returns false at the end.
  bool next(std::vector<std::string>& fields, std::size_t& record_line) {
    while (!done() && (s_[at_] == '\n' || (s_[at_] == '\r' && at_ + 1 < s_.size() && s_[at_ + 1] == '\n'))) {
      at_ += s_[at_] == '\n' ? 1 : 2;
      ++line_;
    }
    if (done()) return false;
    record_line = line_;
    fields.clear();
    for (;;) {
      fields.push_back(field());
      if (done()) return true;
      if (s_[at_] == ',') {
        ++at_;
        if (done()) {
          fields.emplace_back();  // "a,b,<EOF>": a last, empty field
          return true;
        }
        continue;
      }
      // field() stops only at ',', a line end or the end of input.
      at_ += s_[at_] == '\n' ? 1 : 2;
      ++line_;
      return true;
    }
  }

 private:
  bool at_line_end() const {
    return s_[at_] == '\n' || (s_[at_] == '\r' && at_ + 1 < s_.size() && s_[at_ + 1] == '\n');
  }

  std::string field() {
    std::string out;
    if (!done() && s_[at_] == '"') {
      const std::size_t open_line = line_;
      ++at_;
      for (;;) {
        const std::size_t quote = s_.find('"', at_);
        if (quote == std::string_view::npos) fail(open_line, "unterminated quoted field (the quote opens here)");
        const std::string_view chunk = s_.substr(at_, quote - at_);
        line_ += static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
        out.append(chunk);
        at_ = quote + 1;
        if (at_ < s_.size() && s_[at_] == '"') {  // "" is one quote
          out.push_back('"');
          ++at_;
          continue;
        }
        break;
      }
      if (!done() && s_[at_] != ',' && !at_line_end()) {
        fail(line_, std::string("unexpected character '") + s_[at_] + "' after a closing quote");
      }
      return out;
    }
    const std::size_t start = at_;
    while (!done() && s_[at_] != ',' && !at_line_end()) {
      if (s_[at_] == '"') fail(line_, "quote inside an unquoted field (quote the whole field and double the quote)");
      ++at_;
    }
    return std::string(s_.substr(start, at_ - start));
  }

  std::string_view s_;
  const std::string& source_;
  std::size_t at_ = 0;
  std::size_t line_ = 1;
};

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out;
}

}  // namespace

std::vector<LabelledText> parse_text_csv(std::string_view content, const std::string& source,
                                         const TextCsvOptions& options) {
  if (content.starts_with(kBom)) content.remove_prefix(kBom.size());
  if (const auto bad = first_invalid_utf8(content)) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(content[*bad])));
    throw DataError("text-csv: " + source + ":" + std::to_string(line_of_offset(content, *bad)) +
                    ": invalid UTF-8 (byte " + byte + "); the file must be UTF-8");
  }
  CsvScanner scan(content, source);
  std::vector<std::string> header, fields;
  std::size_t line = 0;
  if (!scan.next(header, line)) throw DataError("text-csv: " + source + " is empty (no header row)");

  auto column = [&](const std::string& name, const char* option) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      throw DataError("text-csv: " + source + " has no column \"" + name + "\" (columns: " + quoted_list(header) +
                      "); choose one with " + option);
    }
    if (std::find(it + 1, header.end(), name) != header.end()) {
      throw DataError("text-csv: " + source + ": column \"" + name + "\" appears twice in the header");
    }
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t text_col = column(options.text_column, options.text_setting.c_str());
  const std::size_t label_col = column(options.label_column, options.label_setting.c_str());

  std::vector<LabelledText> out;
  while (scan.next(fields, line)) {
    if (fields.size() != header.size()) {
      scan.fail(line, std::to_string(fields.size()) + " fields, but the header has " + std::to_string(header.size()));
    }
    if (blank(fields[text_col])) scan.fail(line, "empty text in column \"" + options.text_column + "\"");
    if (blank(fields[label_col])) scan.fail(line, "empty label in column \"" + options.label_column + "\"");
    out.push_back({std::move(fields[text_col]), std::move(fields[label_col]), line});
  }
  if (out.empty()) throw DataError("text-csv: " + source + " has a header but no records");
  return out;
}

std::string read_text_file(const std::filesystem::path& path, std::string_view what) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || !std::filesystem::is_regular_file(path, ec)) {
    throw DataError(std::string(what) + ": cannot read " + path.string() + " (missing or not a file)");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return std::move(buffer).str();
}

std::vector<LabelledText> read_text_csv(const std::filesystem::path& path, const TextCsvOptions& options) {
  return parse_text_csv(read_text_file(path, "text-csv"), path.string(), options);
}

}  // namespace mg::data
