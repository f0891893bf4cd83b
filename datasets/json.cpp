// Recursive-descent JSON parser; see json.h.
#include "datasets/json.h"

#include <cstdint>
#include <set>

#include "autograd/errors.h"
#include "datasets/utf8.h"

namespace mg::data {
namespace {

class JsonParser {
 public:
  JsonParser(std::string_view s, const std::string& source) : s_(s), source_(source) {}

  JsonValue document() {
    if (const auto bad = first_invalid_utf8(s_)) {
      at_ = *bad;
      fail("invalid UTF-8; the file must be UTF-8");
    }
    JsonValue v = value(0);
    skip_space();
    if (at_ < s_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw DataError("json: " + source_ + ":" + std::to_string(line_of_offset(s_, at_)) + ": " + what);
  }

  void skip_space() {
    while (at_ < s_.size() && (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) ++at_;
  }

  void expect(char c) {
    skip_space();
    if (at_ >= s_.size() || s_[at_] != c) fail(std::string("expected '") + c + "'");
    ++at_;
  }

  bool literal(std::string_view word) {
    if (s_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  // At '[' or '{': calls item() for each comma-separated element up to `close`.
  template <class Item>
  void sequence(char close, Item item) {
    ++at_;
    skip_space();
    if (at_ < s_.size() && s_[at_] == close) {
      ++at_;
      return;
    }
    for (;;) {
      item();
      skip_space();
      if (at_ >= s_.size() || s_[at_] != ',') break;
      ++at_;
    }
    expect(close);
  }

  JsonValue value(int depth) {
    if (depth >= kJsonMaxDepth) fail("nesting deeper than " + std::to_string(kJsonMaxDepth) + " levels");
    skip_space();
    if (at_ >= s_.size()) fail("unexpected end of input, expected a value");
    JsonValue v;
    const char c = s_[at_];
    if (c == '{') {
      v.kind = JsonValue::Kind::kObject;
      std::set<std::string> keys;
      sequence('}', [&] {
        skip_space();
        if (at_ >= s_.size() || s_[at_] != '"') fail("expected a string key");
        std::string key = string();
        if (!keys.insert(key).second) fail("key \"" + key + "\" appears twice");
        expect(':');
        v.members.push_back({std::move(key), value(depth + 1)});
      });
      return v;
    }
    if (c == '[') {
      v.kind = JsonValue::Kind::kArray;
      sequence(']', [&] { v.items.push_back(value(depth + 1)); });
      return v;
    }
    if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      v.text = string();
      return v;
    }
    if (literal("true") || literal("false")) {
      v.kind = JsonValue::Kind::kBool;
      v.boolean = c == 't';
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    fail(std::string("unexpected character '") + c + "'");
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  JsonValue number() {
    const std::size_t start = at_;
    auto digits = [&] {
      const std::size_t from = at_;
      while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
      if (at_ == from) fail("malformed number");
      return at_ - from;
    };
    if (s_[at_] == '-') ++at_;
    if (at_ < s_.size() && s_[at_] == '0') {
      ++at_;
    } else {
      digits();
    }
    if (at_ < s_.size() && s_[at_] == '.') ++at_, digits();
    if (at_ < s_.size() && (s_[at_] == 'e' || s_[at_] == 'E')) {
      ++at_;
      if (at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-')) ++at_;
      digits();
    }
    JsonValue v;
    v.kind = JsonValue::Kind::kNumber;
    v.text = std::string(s_.substr(start, at_ - start));
    return v;
  }

  unsigned hex4() {
    if (s_.size() - at_ < 4) fail("truncated \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[at_++];
      code <<= 4;
      if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad hex digit in a \\u escape");
    }
    return code;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // At the opening quote; returns the decoded string and moves past the closing one.
  std::string string() {
    ++at_;
    std::string out;
    for (;;) {
      if (at_ >= s_.size()) fail("unterminated string");
      const char c = s_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string (escape it)");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (at_ >= s_.size()) fail("unterminated string");
      const char e = s_[at_++];
      switch (e) {
        case '"': case '\\': case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) fail("lone low surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!literal("\\u")) fail("high surrogate not followed by a low one");
            const std::uint32_t low = hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("high surrogate not followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(std::string("unknown escape \\") + e);
      }
    }
  }

  std::string_view s_;
  const std::string& source_;
  std::size_t at_ = 0;
};

}  // namespace

const JsonValue* JsonValue::find(std::string_view key) const {
  for (const auto& [name, value] : members) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::string_view json_kind_name(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::Kind::kNull: return "null";
    case JsonValue::Kind::kBool: return "a boolean";
    case JsonValue::Kind::kNumber: return "a number";
    case JsonValue::Kind::kString: return "a string";
    case JsonValue::Kind::kArray: return "an array";
    case JsonValue::Kind::kObject: return "an object";
  }
  return "?";
}

JsonValue parse_json(std::string_view text, const std::string& source) { return JsonParser(text, source).document(); }

}  // namespace mg::data
