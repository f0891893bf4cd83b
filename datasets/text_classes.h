// Labelled text, and the same grouped by class: what the text readers return
// (text_csv.h, clinc150.h) and what class splits and episodes work on.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mg::data {

struct LabelledText {
  std::string text;
  std::string label;
  std::size_t line = 0;  // 1-based line where the record starts in its file; 0 if none
};

// Examples grouped by label. Classes are sorted byte-wise by name (the same on
// every machine); each class keeps its texts in input order.
struct TextClasses {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> texts;  // texts[c]: the examples of names[c]

  std::size_t size() const { return names.size(); }
  // Index of a class by name, if present.
  std::optional<std::size_t> find(const std::string& name) const;
};

// Groups `examples` by label.
TextClasses group_by_label(std::span<const LabelledText> examples);

}  // namespace mg::data
