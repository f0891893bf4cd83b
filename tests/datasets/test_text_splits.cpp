// Class splits for text (datasets/text_splits.h): disjoint, pinned, every
// CLINC150 domain in every split, deterministic.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "autograd/errors.h"
#include "datasets/hash.h"
#include "datasets/text_splits.h"
#include "tests/datasets/fixtures.h"

using namespace mg;
using namespace mg::data;
using namespace mg::data::testing;

namespace {

// A CLINC150-shaped index: `domains` domains d<i> of `per_domain` intents d<i>_<j>.
Clinc150 fake_clinc(int domains, int per_domain) {
  Clinc150 c;
  for (int d = 0; d < domains; ++d) {
    const std::string domain = std::string("d").append(std::to_string(d));
    c.domains.push_back(domain);
    std::vector<std::string> intents;
    for (int j = 0; j < per_domain; ++j) intents.push_back(std::string(domain).append("_").append(std::to_string(j)));
    std::sort(intents.begin(), intents.end());
    c.domain_intents.push_back(intents);
  }
  return c;
}

void check_disjoint(const ClassSplit& s, std::size_t total) {
  std::set<std::string> all(s.train.begin(), s.train.end());
  all.insert(s.validation.begin(), s.validation.end());
  all.insert(s.test.begin(), s.test.end());
  CHECK(all.size() == total);
  CHECK(s.train.size() + s.validation.size() + s.test.size() == total);
  CHECK(std::is_sorted(s.train.begin(), s.train.end()));
  CHECK(std::is_sorted(s.validation.begin(), s.validation.end()));
  CHECK(std::is_sorted(s.test.begin(), s.test.end()));
}

std::set<std::string> domains_of(const Clinc150& c, const std::vector<std::string>& intents) {
  std::set<std::string> out;
  for (const std::string& i : intents) out.insert(c.domain_of(i));
  return out;
}

}  // namespace

TEST_SUITE("datasets_text_splits") {
  TEST_CASE("stable hashes: the published FNV-1a and SplitMix64 values") {
    CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
    CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
    CHECK(fnv1a64("foobar") == 0x85944171f73967e8ull);
    static_assert(fnv1a64("a") == 0xaf63dc4c8601ec8cull);
    CHECK(splitmix64(0) == 0xe220a8397b1dcdafull);  // the first output of SplitMix64 seeded with 0
    CHECK(stable_hash("a") == splitmix64(0xaf63dc4c8601ec8cull));
  }

  TEST_CASE("stratified intent split: 3/5, 1/5, 1/5 of every domain, disjoint") {
    const Clinc150 c = fake_clinc(10, 15);
    const ClassSplit s = clinc150_intent_split(c);
    CHECK(s.train.size() == 90);
    CHECK(s.validation.size() == 30);
    CHECK(s.test.size() == 30);
    check_disjoint(s, 150);
    CHECK(domains_of(c, s.validation).size() == 10);
    CHECK(domains_of(c, s.test).size() == 10);
    CHECK(domains_of(c, s.train).size() == 10);
    const ClassSplit again = clinc150_intent_split(c);
    CHECK(again.train == s.train);
    CHECK(again.test == s.test);
    const ClassSplit small = clinc150_intent_split(fake_clinc(2, 7));  // 7 = 5 + 1 + 1
    CHECK(small.train.size() == 10);
    CHECK(small.validation.size() == 2);
    CHECK_THROWS_WITH_AS(clinc150_intent_split(fake_clinc(3, 4)),
                         doctest::Contains("clinc150: the stratified split needs at least 5 intents per domain, but d0 has 4"),
                         DataError);
  }

  TEST_CASE("domain split: whole domains, 6 / 2 / 2") {
    const Clinc150 c = fake_clinc(10, 15);
    const ClassSplit s = clinc150_domain_split(c);
    check_disjoint(s, 150);
    CHECK(domains_of(c, s.train).size() == 6);
    CHECK(domains_of(c, s.validation).size() == 2);
    CHECK(domains_of(c, s.test).size() == 2);
    CHECK_THROWS_WITH_AS(clinc150_domain_split(fake_clinc(4, 15)),
                         doctest::Contains("clinc150: the domain split needs at least 5 domains, got 4"), DataError);
  }

  TEST_CASE("hash split of labels: by name only, proportions on average") {
    std::vector<std::string> labels;
    for (int i = 0; i < 2000; ++i) labels.push_back("label" + std::to_string(i % 1000));  // duplicates
    const ClassSplit s = hash_class_split(labels, 0.6, 0.2);
    check_disjoint(s, 1000);
    CHECK(s.train.size() > 540);
    CHECK(s.train.size() < 660);
    CHECK(s.validation.size() > 150);
    CHECK(s.validation.size() < 250);
    // A label's split does not depend on the other labels.
    const std::vector<std::string> some(labels.begin(), labels.begin() + 10);
    const ClassSplit part = hash_class_split(some, 0.6, 0.2);
    for (const std::string& l : part.test) CHECK(std::binary_search(s.test.begin(), s.test.end(), l));
    for (const std::string& l : part.train) CHECK(std::binary_search(s.train.begin(), s.train.end(), l));
    // Pinned: u("greeting") decides it, whatever the machine.
    const double u = static_cast<double>(stable_hash("greeting") >> 11) * 0x1.0p-53;
    const std::vector<std::string> one = {"greeting"};
    CHECK(hash_class_split(one, u + 1e-9, 0).train.size() == 1);
    CHECK(hash_class_split(one, u - 1e-9, 0).test.size() == 1);
    CHECK(hash_class_split(one, 0, 1).validation.size() == 1);
    CHECK_THROWS_WITH_AS(hash_class_split(labels, 0.9, 0.2),
                         doctest::Contains("text split: fractions must be in [0, 1] and sum to at most 1, got train 0.9"),
                         ValueError);
    CHECK_THROWS_WITH_AS(hash_class_split(labels, -0.1, 0.2), doctest::Contains("text split: fractions must be"), ValueError);
  }

  TEST_CASE("the real CLINC150: the pinned default and domain splits") {
    const auto root = real_clinc150_root();
    if (!root) return;
    const Clinc150 c = load_clinc150(*root);
    const ClassSplit s = clinc150_intent_split(c);
    CHECK(s.train.size() == 90);
    CHECK(s.validation.size() == 30);
    CHECK(s.test.size() == 30);
    check_disjoint(s, 150);
    for (const auto* part : {&s.train, &s.validation, &s.test}) CHECK(domains_of(c, *part).size() == 10);
    const std::vector<std::string> test = {
        "account_blocked", "alarm", "bill_balance", "book_hotel", "change_speed", "change_volume",
        "confirm_reservation", "current_location", "expiration_date", "flip_coin", "fun_fact", "gas_type",
        "ingredient_substitution", "ingredients_list", "international_visa", "meaning_of_life", "mpg", "next_song",
        "order_status", "pto_balance", "pto_request", "pto_request_status", "repeat", "replacement_card_duration",
        "report_lost_card", "routing", "shopping_list", "time", "travel_suggestion", "who_do_you_work_for"};
    CHECK(s.test == test);
    const std::vector<std::string> validation = {
        "application_status", "calories", "cancel", "car_rental", "cook_time", "damaged_card", "date", "directions",
        "goodbye", "how_busy", "how_old_are_you", "international_fees", "jump_start", "next_holiday", "order",
        "payday", "plug_type", "pto_used", "reminder", "reminder_update", "report_fraud", "reset_settings", "text",
        "timer", "traffic", "transactions", "transfer", "user_name", "vaccines", "where_are_you_from"};
    CHECK(s.validation == validation);

    const ClassSplit d = clinc150_domain_split(c);
    CHECK(domains_of(c, d.train) == std::set<std::string>{"home", "kitchen_and_dining", "meta", "travel", "utility",
                                                          "work"});
    CHECK(domains_of(c, d.validation) == std::set<std::string>{"auto_and_commute", "banking"});
    CHECK(domains_of(c, d.test) == std::set<std::string>{"credit_cards", "small_talk"});
    CHECK(d.train.size() == 90);
  }
}
