// Class splits for few-shot text classification (issue 17): the classes (intents,
// labels), never the utterances, are divided into meta-training, meta-validation
// and meta-test classes, so a meta-test task holds only classes never trained on.
//
// Every rule below is deterministic and machine-independent: it orders names by
// stable_hash (hash.h: SplitMix64's finaliser of the 64-bit FNV-1a of the name's
// UTF-8 bytes), ties broken by the name. Changing a rule changes every published number, so tests pin its
// counts and members.
//
// CLINC150, stratified by domain (the default): in each domain, the intents in
// stable_hash order; the first 3/5 are meta-train, the next 1/5 meta-validation, the
// last 1/5 meta-test (m/5 each for m intents, rounded down, the rest train). With
// 10 domains of 15 intents: 90 / 30 / 30 intents, 9 / 3 / 3 per domain, so every
// domain contributes to every split. The resulting lists (pinned by the tests;
// the other 90 intents are meta-train):
//
//   domain              meta-validation                              meta-test
//   auto_and_commute    directions, jump_start, traffic              current_location, gas_type, mpg
//   banking             report_fraud, transactions, transfer         account_blocked, bill_balance, routing
//   credit_cards        application_status, damaged_card,            expiration_date, replacement_card_duration,
//                       international_fees                           report_lost_card
//   home                order, reminder, reminder_update             next_song, order_status, shopping_list
//   kitchen_and_dining  calories, cook_time, how_busy                confirm_reservation, ingredient_substitution,
//                                                                    ingredients_list
//   meta                cancel, reset_settings, user_name            change_speed, change_volume, repeat
//   small_talk          goodbye, how_old_are_you, where_are_you_from fun_fact, meaning_of_life, who_do_you_work_for
//   travel              car_rental, plug_type, vaccines              book_hotel, international_visa, travel_suggestion
//   utility             date, text, timer                            alarm, flip_coin, time
//   work                next_holiday, payday, pto_used               pto_balance, pto_request, pto_request_status
//
// CLINC150, whole domains (`--split domain`): the domains in stable_hash order; the
// first 3/5 are meta-train, the next 1/5 meta-validation, the last 1/5 meta-test:
// 6 / 2 / 2 domains, 90 / 30 / 30 intents, so meta-test tasks come from domains
// never seen in training. The result: meta-train home, meta, travel, utility,
// kitchen_and_dining, work; meta-validation banking, auto_and_commute; meta-test
// small_talk, credit_cards.
//
// Any label set (a CSV): label l goes by u(l) = (stable_hash(l) >> 11) · 2^−53 in
// [0, 1): meta-train if u < train_fraction, meta-validation if u < train_fraction
// + validation_fraction, else meta-test. A label's split depends on its name
// only, so adding rows or classes never moves another class. The proportions
// hold only on average: with few labels a split may come out empty, and the
// episode sampler then says it has fewer classes than ways.
//
// All returned lists are sorted byte-wise.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "datasets/clinc150.h"
#include "datasets/hash.h"

namespace mg::data {

struct ClassSplit {
  std::vector<std::string> train;
  std::vector<std::string> validation;
  std::vector<std::string> test;
};

// The stratified default. DataError when a domain has fewer than 5 intents.
ClassSplit clinc150_intent_split(const Clinc150& data);

// Whole domains held out. DataError when there are fewer than 5 domains.
ClassSplit clinc150_domain_split(const Clinc150& data);

// The hash split of the distinct names in `labels` (duplicates allowed). ValueError
// unless both fractions are in [0, 1] and sum to at most 1.
ClassSplit hash_class_split(std::span<const std::string> labels, double train_fraction = 0.6,
                            double validation_fraction = 0.2);

}  // namespace mg::data
