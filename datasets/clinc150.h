// CLINC150 (Larson et al. 2019, "An Evaluation Dataset for Intent Classification
// and Out-of-Scope Prediction", EMNLP-IJCNLP; CC BY 3.0): 150 intents in 10
// domains, 150 utterances per intent, plus out-of-scope requests. Read from the
// layout of clinc/oos-eval's data/ folder (see shared/data/README.md):
//
//   <root>/data_full.json  {"train": [[text, intent], ...], "val": [...], "test": [...],
//                           "oos_train": [...], "oos_val": [...], "oos_test": [...]}
//   <root>/domains.json    {"<domain>": ["<intent>", ...], ...}
//
// For few-shot learning the intents, not the utterances, are split (text_splits.h),
// so the data set's own train/val/test parts are merged: each intent has all its
// 150 utterances, in file order (train, then val, then test). Out-of-scope
// requests (the oos_* parts, label "oos") are not a class: they are kept apart in
// `out_of_scope`, for an open-set evaluation later.
//
// Errors are DataError "clinc150: <file>: <what is wrong>": a missing file, JSON
// that does not parse (json.h), a structure other than the above (naming the
// element, e.g. `"train"[12] is not a [text, intent] pair`), an empty text, an
// intent not listed in domains.json, or an intent listed in two domains.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "datasets/text_classes.h"

namespace mg::data {

inline constexpr std::string_view kClincData = "data_full.json";
inline constexpr std::string_view kClincDomains = "domains.json";
inline constexpr std::string_view kClincOutOfScope = "oos";

struct Clinc150 {
  std::vector<LabelledText> examples;      // in-scope utterances: train, val, test parts
  std::vector<std::string> out_of_scope;   // oos_train, oos_val, oos_test texts
  std::vector<std::string> domains;        // sorted domain names
  std::vector<std::vector<std::string>> domain_intents;  // sorted intents of domains[d]

  // The domain of `intent`; DataError if it has none.
  const std::string& domain_of(const std::string& intent) const;
};

// Reads both files under `root`.
Clinc150 load_clinc150(const std::filesystem::path& root);

// The same from the two files' contents (`source` prefixes the file names in messages).
Clinc150 parse_clinc150(std::string_view data_json, std::string_view domains_json, const std::string& source);

}  // namespace mg::data
