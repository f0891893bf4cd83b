// The CLINC150 reader (datasets/clinc150.h) on small synthetic files and on the
// real data set (found as in fixtures.h; with $CI set a missing data set fails).
#include <doctest/doctest.h>

#include <set>

#include "autograd/errors.h"
#include "datasets/clinc150.h"
#include "datasets/text_classes.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

constexpr const char* kDomains = R"({"bank": ["transfer", "balance"], "home": ["lights"]})";
constexpr const char* kData = R"({
  "train": [["move money", "transfer"], ["how much do i have", "balance"], ["lights on", "lights"]],
  "val": [["send cash", "transfer"]],
  "test": [["dim the lights", "lights"], ["not a thing", "oos"]],
  "oos_train": [["tell me a joke", "oos"]], "oos_val": [], "oos_test": [["what is love", "oos"]]
})";

Clinc150 clinc(std::string_view data, std::string_view domains = kDomains) {
  return parse_clinc150(data, domains, "c/");
}

}  // namespace

TEST_SUITE("datasets_clinc150") {
  TEST_CASE("parts merged in file order, out-of-scope kept apart, domains sorted") {
    const Clinc150 c = clinc(kData);
    REQUIRE(c.examples.size() == 5);
    CHECK(c.examples[0].text == "move money");
    CHECK(c.examples[3].text == "send cash");  // val after train
    CHECK(c.examples[4].label == "lights");
    CHECK(c.out_of_scope == std::vector<std::string>{"tell me a joke", "what is love", "not a thing"});
    CHECK(c.domains == std::vector<std::string>{"bank", "home"});
    CHECK(c.domain_intents[0] == std::vector<std::string>{"balance", "transfer"});
    CHECK(c.domain_of("lights") == "home");
    CHECK_THROWS_WITH_AS(c.domain_of("nope"), doctest::Contains("clinc150: intent nope is in no domain"), DataError);
    const TextClasses classes = group_by_label(c.examples);
    CHECK(classes.names == std::vector<std::string>{"balance", "lights", "transfer"});
    CHECK(classes.texts[2] == std::vector<std::string>{"move money", "send cash"});
    CHECK(classes.find("lights") == 1u);
    CHECK_FALSE(classes.find("oos").has_value());
    CHECK(classes.size() == 3);
  }

  TEST_CASE("load_clinc150 reads both files; missing files are named") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(load_clinc150(dir.path()),
                         contains("clinc150: cannot read " + (dir.path() / "data_full.json").string()), DataError);
    write_text(dir.path() / "data_full.json", kData);
    CHECK_THROWS_WITH_AS(load_clinc150(dir.path()),
                         contains("clinc150: cannot read " + (dir.path() / "domains.json").string()), DataError);
    write_text(dir.path() / "domains.json", kDomains);
    CHECK(load_clinc150(dir.path()).examples.size() == 5);
    write_text(dir.path() / "domains.json", "{\"bank\": [\"transfer\", 3]}");
    CHECK_THROWS_WITH_AS(load_clinc150(dir.path()),
                         contains("clinc150: " + (dir.path() / "domains.json").string() +
                                  ": \"bank\" holds a non-string or empty intent"),
                         DataError);
  }

  TEST_CASE("wrong JSON structure is a clear error naming the element") {
    CHECK_THROWS_WITH_AS(clinc("[]"), doctest::Contains("clinc150: c/data_full.json: the top level is an array, not an object"),
                         DataError);
    CHECK_THROWS_WITH_AS(clinc(R"({"train": []})"), doctest::Contains("clinc150: c/data_full.json: no \"val\" member"),
                         DataError);
    CHECK_THROWS_WITH_AS(clinc(R"({"train": {}, "val": [], "test": []})"),
                         doctest::Contains("\"train\" is an object, not an array"), DataError);
    CHECK_THROWS_WITH_AS(clinc(R"({"train": [["a", "transfer"], ["b"]], "val": [], "test": []})"),
                         doctest::Contains("clinc150: c/data_full.json: \"train\"[1] is not a [text, intent] pair of strings"),
                         DataError);
    CHECK_THROWS_WITH_AS(clinc(R"({"train": [["a", 7]], "val": [], "test": []})"),
                         doctest::Contains("\"train\"[0] is not a [text, intent] pair"), DataError);
    CHECK_THROWS_WITH_AS(clinc(R"({"train": [], "val": [[" ", "transfer"]], "test": []})"),
                         doctest::Contains("\"val\"[0] has an empty text"), DataError);
    CHECK_THROWS_WITH_AS(clinc(R"({"train": [], "val": [["x", ""]], "test": []})"),
                         doctest::Contains("\"val\"[0] has an empty intent"), DataError);
    const std::string unknown =
        R"({"train": [["a", "fly"]], "val": [], "test": [], "oos_train": [], "oos_val": [], "oos_test": []})";
    CHECK_THROWS_WITH_AS(clinc(unknown), doctest::Contains("clinc150: c/data_full.json: intent fly is not listed in domains.json"),
                         DataError);
    CHECK_THROWS_WITH_AS(clinc(kData, "[1]"), doctest::Contains("clinc150: c/domains.json: the top level is an array"),
                         DataError);
    CHECK_THROWS_WITH_AS(clinc(kData, R"({"bank": "transfer"})"),
                         doctest::Contains("c/domains.json: \"bank\" is not an array of intent names"), DataError);
    CHECK_THROWS_WITH_AS(clinc(kData, R"({"bank": ["transfer"], "home": ["transfer"]})"),
                         doctest::Contains("c/domains.json: intent transfer is listed under both bank and home"), DataError);
    CHECK_THROWS_WITH_AS(clinc("{\"train\": [", kDomains), doctest::Contains("json: c/data_full.json:1:"), DataError);
  }

  TEST_CASE("the real CLINC150: 150 intents in 10 domains, 150 utterances each, 1,200 out of scope") {
    const auto root = real_clinc150_root();
    if (!root) return;
    const Clinc150 c = load_clinc150(*root);
    CHECK(c.examples.size() == 22500);
    CHECK(c.out_of_scope.size() == 1200);
    CHECK(c.domains.size() == 10);
    for (const auto& intents : c.domain_intents) CHECK(intents.size() == 15);
    const TextClasses classes = group_by_label(c.examples);
    REQUIRE(classes.size() == 150);
    for (const auto& texts : classes.texts) CHECK(texts.size() == 150);
    CHECK(c.domain_of("freeze_account") == "banking");
    CHECK_FALSE(classes.find("oos").has_value());
  }
}
