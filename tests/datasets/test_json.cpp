// The small JSON reader (datasets/json.h).
#include <doctest/doctest.h>

#include <string>

#include "autograd/errors.h"
#include "datasets/json.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

TEST_SUITE("datasets_json") {
  TEST_CASE("values, nesting, member order, escapes and surrogate pairs") {
    const JsonValue v = parse_json(
        " {\"b\": [1, -2.5e3, true, false, null], \"a\": {\"s\": \"q\\\"\\\\\\/\\n\\t\\u00e9\\ud83d\\ude00\"}, \"e\": []} ",
        "t.json");
    REQUIRE(v.is_object());
    REQUIRE(v.members.size() == 3);
    CHECK(v.members[0].key == "b");  // file order kept
    const JsonValue* b = v.find("b");
    REQUIRE(b != nullptr);
    REQUIRE(b->is_array());
    REQUIRE(b->items.size() == 5);
    CHECK(b->items[0].text == "1");
    CHECK(b->items[1].kind == JsonValue::Kind::kNumber);
    CHECK(b->items[1].text == "-2.5e3");
    CHECK(b->items[2].boolean);
    CHECK(b->items[3].kind == JsonValue::Kind::kBool);
    CHECK_FALSE(b->items[3].boolean);
    CHECK(b->items[4].kind == JsonValue::Kind::kNull);
    CHECK(v.find("a")->find("s")->text == "q\"\\/\n\t\xC3\xA9\xF0\x9F\x98\x80");
    CHECK(v.find("e")->items.empty());
    CHECK(v.find("zzz") == nullptr);
    CHECK(b->find("b") == nullptr);  // not an object
    CHECK(json_kind_name(JsonValue::Kind::kArray) == "an array");
    CHECK(json_kind_name(JsonValue::Kind::kObject) == "an object");
    CHECK(json_kind_name(JsonValue::Kind::kString) == "a string");
  }

  TEST_CASE("syntax errors name the source and line") {
    CHECK_THROWS_WITH_AS(parse_json("{\n\"a\": [1,\n2", "t.json"), doctest::Contains("json: t.json:3: expected ']'"),
                         DataError);
    CHECK_THROWS_WITH_AS(parse_json("{\"a\": 1,}", "t.json"), doctest::Contains("json: t.json:1: expected a string key"),
                         DataError);
    CHECK_THROWS_WITH_AS(parse_json("{\"a\": 1, \"a\": 2}", "t.json"),
                         doctest::Contains("json: t.json:1: key \"a\" appears twice"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("[1] 2", "t.json"), doctest::Contains("unexpected text after the JSON value"),
                         DataError);
    CHECK_THROWS_WITH_AS(parse_json("", "t.json"), doctest::Contains("unexpected end of input, expected a value"),
                         DataError);
    CHECK_THROWS_WITH_AS(parse_json("[tru]", "t.json"), doctest::Contains("unexpected character 't'"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("[01]", "t.json"), doctest::Contains("expected ']'"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("[1.]", "t.json"), doctest::Contains("malformed number"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"abc", "t.json"), doctest::Contains("unterminated string"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"a\tb\"", "t.json"), doctest::Contains("control character in a string"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"\\x\"", "t.json"), doctest::Contains("unknown escape \\x"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"\\u12g4\"", "t.json"), doctest::Contains("bad hex digit in a \\u escape"),
                         DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"\\u1", "t.json"), doctest::Contains("truncated \\u escape"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"\\udc00\"", "t.json"), doctest::Contains("lone low surrogate"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"\\ud800x\"", "t.json"),
                         doctest::Contains("high surrogate not followed by a low one"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("\"\\ud800\\u0041\"", "t.json"),
                         doctest::Contains("high surrogate not followed by a low one"), DataError);
    CHECK_THROWS_WITH_AS(parse_json("[\"ok\",\n\"\xC3\"]", "t.json"),
                         doctest::Contains("json: t.json:2: invalid UTF-8; the file must be UTF-8"), DataError);
  }

  TEST_CASE("nesting is bounded, so hostile input cannot overflow the stack") {
    const std::string deep(100000, '[');
    CHECK_THROWS_WITH_AS(parse_json(deep, "t.json"),
                         contains("nesting deeper than " + std::to_string(kJsonMaxDepth) + " levels"),
                         DataError);
    const std::string ok = std::string(kJsonMaxDepth, '[') + std::string(kJsonMaxDepth, ']');
    CHECK(parse_json(ok, "t.json").is_array());
  }
}
