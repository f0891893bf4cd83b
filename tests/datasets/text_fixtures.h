// Test fixture for the text data sets: the real CLINC150 loaded, grouped by
// intent, split by the pinned default rule, with a tokenizer fitted on the
// meta-training intents (the standard set-up of text_episodes.h).
#pragma once

#include <filesystem>

#include "datasets/clinc150.h"
#include "datasets/text_classes.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "datasets/tokenizer.h"

namespace mg::data::testing {

struct ClincSetup {
  Clinc150 data;
  TextClasses classes;
  ClassSplit split;
  Tokenizer tokenizer;
};

inline ClincSetup clinc_setup(const std::filesystem::path& root) {
  Clinc150 data = load_clinc150(root);
  TextClasses classes = group_by_label(data.examples);
  ClassSplit split = clinc150_intent_split(data);
  Tokenizer tokenizer = Tokenizer::fit(training_texts(classes, split.train));
  return {std::move(data), std::move(classes), std::move(split), std::move(tokenizer)};
}

}  // namespace mg::data::testing
