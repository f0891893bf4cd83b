// The CSV reader for labelled text (datasets/text_csv.h): RFC 4180 quoting,
// columns by name, and every error with its line.
#include <doctest/doctest.h>

#include "autograd/errors.h"
#include "datasets/text_csv.h"
#include "datasets/utf8.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

std::vector<LabelledText> csv_rows(std::string_view csv, const TextCsvOptions& options = {}) {
  return parse_text_csv(csv, "t.csv", options);
}

}  // namespace

TEST_SUITE("datasets_text_csv") {
  TEST_CASE("RFC 4180: quoted commas, doubled quotes, embedded newlines, CRLF, columns by name") {
    const std::string csv =
        "id,label,text\r\n"
        "1,greet,hello there\r\n"
        "2,\"buy, sell\",\"a, b and \"\"c\"\"\"\r\n"
        "3,multi,\"line one\nline two\"\r\n"
        "4,greet,last row without newline";
    const auto rows = csv_rows(csv);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0].text == "hello there");
    CHECK(rows[0].label == "greet");
    CHECK(rows[0].line == 2);
    CHECK(rows[1].label == "buy, sell");
    CHECK(rows[1].text == "a, b and \"c\"");
    CHECK(rows[2].text == "line one\nline two");
    CHECK(rows[2].line == 4);
    CHECK(rows[3].line == 6);  // the record before spans lines 4 and 5
    CHECK(rows[3].text == "last row without newline");
  }

  TEST_CASE("other column names, a BOM, blank lines, UTF-8 text, an empty last field") {
    const std::string csv = "\xEF\xBB\xBFsentence,intent,extra\n\ncaf\xC3\xA9 au lait,order,\n\nna\xC3\xAFve,ask,x\n";
    const auto rows = csv_rows(csv, {.text_column = "sentence", .label_column = "intent"});
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].text == "caf\xC3\xA9 au lait");
    CHECK(rows[0].line == 3);
    CHECK(rows[1].label == "ask");
    CHECK(rows[1].line == 5);
  }

  TEST_CASE("read_text_csv reads a file; a missing file is named") {
    TempDir dir;
    write_text(dir.path() / "a.csv", "text,label\nhi,x\n");
    const auto rows = read_text_csv(dir.path() / "a.csv");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].text == "hi");
    const std::string missing = (dir.path() / "nope.csv").string();
    CHECK_THROWS_WITH_AS(read_text_csv(dir.path() / "nope.csv"),
                         contains("text-csv: cannot read " + missing + " (missing or not a file)"), DataError);
    CHECK_THROWS_WITH_AS(read_text_csv(dir.path()), contains("text-csv: cannot read"), DataError);
    CHECK(read_text_file(dir.path() / "a.csv", "x") == "text,label\nhi,x\n");
  }

  TEST_CASE("missing or repeated columns are named, with the columns present") {
    CHECK_THROWS_WITH_AS(csv_rows("sentence,label\nhi,x\n"),
                         doctest::Contains("text-csv: t.csv has no column \"text\" (columns: \"sentence\", \"label\"); "
                                           "choose one with text_column"),
                         DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,tag\nhi,x\n"),
                         doctest::Contains("has no column \"label\" (columns: \"text\", \"tag\"); choose one with label_column"),
                         DataError);
    // A caller names its own setting (metalearn: its flags).
    CHECK_THROWS_WITH_AS(parse_text_csv("text,tag\nhi,x\n", "t.csv", {"text", "label", "--text", "--label"}),
                         "text-csv: t.csv has no column \"label\" (columns: \"text\", \"tag\"); choose one with "
                         "--label",
                         DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label,text\nhi,x,y\n"),
                         doctest::Contains("text-csv: t.csv: column \"text\" appears twice in the header"), DataError);
  }

  TEST_CASE("malformed rows give their line") {
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nok,a\n\"never closed,b\nmore\n"),
                         doctest::Contains("text-csv: t.csv:3: unterminated quoted field (the quote opens here)"),
                         DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nok,a\none,two,three\n"),
                         doctest::Contains("text-csv: t.csv:3: 3 fields, but the header has 2"), DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nlonely\n"),
                         doctest::Contains("text-csv: t.csv:2: 1 fields, but the header has 2"), DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\n\"a\"b,c\n"),
                         doctest::Contains("text-csv: t.csv:2: unexpected character 'b' after a closing quote"),
                         DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nsay \"hi\",c\n"),
                         doctest::Contains("text-csv: t.csv:2: quote inside an unquoted field"), DataError);
  }

  TEST_CASE("empty text or label, empty files") {
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nok,a\n\"  \",b\n"),
                         doctest::Contains("text-csv: t.csv:3: empty text in column \"text\""), DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nok,\n"),
                         doctest::Contains("text-csv: t.csv:2: empty label in column \"label\""), DataError);
    CHECK_THROWS_WITH_AS(csv_rows(""), doctest::Contains("text-csv: t.csv is empty (no header row)"), DataError);
    CHECK_THROWS_WITH_AS(csv_rows("\n\n"), doctest::Contains("text-csv: t.csv is empty (no header row)"), DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\n"), doctest::Contains("text-csv: t.csv has a header but no records"),
                         DataError);
  }

  TEST_CASE("invalid UTF-8 is an error with its line, never replaced") {
    CHECK_THROWS_WITH_AS(csv_rows("text,label\nok,a\ncaf\xE9,b\n"),  // Latin-1 é
                         doctest::Contains("text-csv: t.csv:3: invalid UTF-8 (byte 0xE9); the file must be UTF-8"),
                         DataError);
    CHECK_THROWS_WITH_AS(csv_rows("text,label\n\"x\ny\xFF\",b\n"), doctest::Contains("t.csv:3: invalid UTF-8 (byte 0xFF)"),
                         DataError);
  }

  TEST_CASE("first_invalid_utf8 follows RFC 3629; line_of_offset counts newlines") {
    CHECK_FALSE(first_invalid_utf8("plain ascii").has_value());
    CHECK_FALSE(first_invalid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80").has_value());  // é € 😀
    CHECK(first_invalid_utf8("ab\x80") == 2u);            // lone continuation byte
    CHECK(first_invalid_utf8("\xC0\xAF") == 0u);          // overlong '/'
    CHECK(first_invalid_utf8("\xE0\x80\xAF") == 0u);      // overlong, 3 bytes
    CHECK(first_invalid_utf8("x\xED\xA0\x80") == 1u);     // surrogate U+D800
    CHECK(first_invalid_utf8("\xF4\x90\x80\x80") == 0u);  // above U+10FFFF
    CHECK(first_invalid_utf8("\xF5\x80\x80\x80") == 0u);
    CHECK(first_invalid_utf8("ok\xE2\x82") == 2u);        // truncated
    CHECK(first_invalid_utf8("\xE2\x28\xA1") == 0u);      // bad continuation
    CHECK(line_of_offset("a\nb\nc", 0) == 1);
    CHECK(line_of_offset("a\nb\nc", 4) == 3);
    CHECK(line_of_offset("a\n", 99) == 2);
  }
}
