// Grouping labelled text by class; see text_classes.h.
#include "datasets/text_classes.h"

#include <algorithm>
#include <map>

namespace mg::data {

std::optional<std::size_t> TextClasses::find(const std::string& name) const {
  const auto it = std::lower_bound(names.begin(), names.end(), name);
  if (it == names.end() || *it != name) return std::nullopt;
  return static_cast<std::size_t>(it - names.begin());
}

TextClasses group_by_label(std::span<const LabelledText> examples) {
  std::map<std::string, std::vector<std::string>> by_label;
  for (const LabelledText& e : examples) by_label[e.label].push_back(e.text);
  TextClasses out;
  for (auto& [name, texts] : by_label) {
    out.names.push_back(name);
    out.texts.push_back(std::move(texts));
  }
  return out;
}

}  // namespace mg::data
