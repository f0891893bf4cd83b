// A small JSON reader (RFC 8259) for the data files that need one (clinc150.h).
// The project has no JSON dependency and needs only to read documents, so this
// is a recursive-descent parser into a tree: no writer, no streaming.
//
// Numbers are kept as their source text (the CLINC150 files hold none; a caller
// that needs one converts it). Object members keep their file order; a repeated
// key is an error rather than "last one wins". Strings are decoded (escapes,
// \uXXXX with surrogate pairs) to UTF-8; the input must be UTF-8 (utf8.h).
// Nesting is limited to kJsonMaxDepth levels so that hostile input cannot
// overflow the stack.
//
// Errors are DataError "json: <source>:<line>: <what is wrong>".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mg::data {

inline constexpr int kJsonMaxDepth = 256;

struct JsonMember;

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // kString: the decoded string; kNumber: the number as written
  std::vector<JsonValue> items;                            // kArray
  // kObject, in file order. Not std::pair<std::string, JsonValue>: a pair needs its
  // members complete, and JsonValue is not yet (clang with libstdc++ refuses it).
  std::vector<JsonMember> members;

  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }
  // The member named `key` of an object, or nullptr (also for non-objects).
  const JsonValue* find(std::string_view key) const;
};

// One member of a JSON object.
struct JsonMember {
  std::string key;
  JsonValue value;
};

// "null", "true", "a number", "a string", "an array", "an object": for messages.
std::string_view json_kind_name(JsonValue::Kind kind);

// Parses one JSON document (surrounding whitespace allowed, nothing else after it).
JsonValue parse_json(std::string_view text, const std::string& source);

}  // namespace mg::data
