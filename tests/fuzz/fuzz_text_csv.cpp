// libFuzzer harness: the labelled-text CSV reader (datasets/text_csv.h) on
// arbitrary bytes, and what reads its rows: grouping, the hash class split, the
// tokenizer and one text episode.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "autograd/errors.h"
#include "datasets/text_csv.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "datasets/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view csv(reinterpret_cast<const char*>(data), size);
  std::vector<mg::data::LabelledText> rows;
  try {
    rows = mg::data::parse_text_csv(csv, "fuzz.csv");
  } catch (const mg::Error&) {
    return 0;
  }
  if (rows.empty()) std::abort();
  std::size_t last_line = 1;
  for (const auto& r : rows) {
    // Rows come in order, after the header, with non-blank, valid UTF-8 fields.
    if (r.line <= last_line || r.text.find_first_not_of(" \t\r\n") == std::string::npos ||
        r.label.find_first_not_of(" \t\r\n") == std::string::npos || mg::data::first_invalid_utf8(r.text) ||
        mg::data::first_invalid_utf8(r.label)) {
      std::abort();
    }
    last_line = r.line;
  }
  const mg::data::TextClasses classes = mg::data::group_by_label(rows);
  std::vector<std::string> labels;
  for (const auto& r : rows) labels.push_back(r.label);
  const mg::data::ClassSplit split = mg::data::hash_class_split(labels, 0.5, 0.25);
  if (split.train.size() + split.validation.size() + split.test.size() != classes.size()) std::abort();

  const mg::data::Tokenizer tok =
      mg::data::Tokenizer::fit(mg::data::training_texts(classes, split.train), {.ngram_buckets = 64});
  auto pool = std::make_shared<const mg::data::TextPool>(classes, classes.names, tok);
  try {
    const mg::data::TextEpisodeSampler sampler(pool, {.n_way = 2, .k_shot = 1, .q_query = 1, .seed = 1});
    const mg::data::Task task = sampler.sample(0);
    for (const std::int64_t id : task.support_x.to_vector<std::int64_t>()) {
      if (id < 0 || id >= tok.vocab_size()) std::abort();
    }
  } catch (const mg::Error&) {  // fewer than 2 classes, or a class with 1 example
  }
  return 0;
}
