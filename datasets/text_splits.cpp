// Class splits for text; see text_splits.h for the rules.
#include "datasets/text_splits.h"

#include <algorithm>
#include <set>

#include "autograd/errors.h"

namespace mg::data {
namespace {

// `names` in stable_hash order (ties by name), cut 3/5 : 1/5 : 1/5 (the fifths rounded
// down, the rest to train); `expand` maps each name to the classes it stands for.
template <class Expand>
void split_by_fifths(std::vector<std::string> names, Expand expand, ClassSplit& out) {
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    const std::uint64_t ha = stable_hash(a), hb = stable_hash(b);
    return ha != hb ? ha < hb : a < b;
  });
  const std::size_t fifth = names.size() / 5, train = names.size() - 2 * fifth;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto& dest = i < train ? out.train : i < train + fifth ? out.validation : out.test;
    for (const std::string& cls : expand(names[i])) dest.push_back(cls);
  }
}

void sort_all(ClassSplit& s) {
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.validation.begin(), s.validation.end());
  std::sort(s.test.begin(), s.test.end());
}

}  // namespace

ClassSplit clinc150_intent_split(const Clinc150& data) {
  ClassSplit out;
  for (std::size_t d = 0; d < data.domains.size(); ++d) {
    if (data.domain_intents[d].size() < 5) {
      throw DataError("clinc150: the stratified split needs at least 5 intents per domain, but " + data.domains[d] +
                      " has " + std::to_string(data.domain_intents[d].size()));
    }
    split_by_fifths(data.domain_intents[d], [](const std::string& i) { return std::vector<std::string>{i}; }, out);
  }
  sort_all(out);
  return out;
}

ClassSplit clinc150_domain_split(const Clinc150& data) {
  if (data.domains.size() < 5) {
    throw DataError("clinc150: the domain split needs at least 5 domains, got " + std::to_string(data.domains.size()));
  }
  ClassSplit out;
  split_by_fifths(data.domains, [&](const std::string& domain) {
    const auto d = static_cast<std::size_t>(std::find(data.domains.begin(), data.domains.end(), domain) - data.domains.begin());
    return data.domain_intents[d];
  }, out);
  sort_all(out);
  return out;
}

ClassSplit hash_class_split(std::span<const std::string> labels, double train_fraction, double validation_fraction) {
  if (!(train_fraction >= 0 && validation_fraction >= 0 && train_fraction <= 1 && validation_fraction <= 1 &&
        train_fraction + validation_fraction <= 1)) {
    throw ValueError("text split: fractions must be in [0, 1] and sum to at most 1, got train " +
                     std::to_string(train_fraction) + " and validation " + std::to_string(validation_fraction));
  }
  const std::set<std::string> distinct(labels.begin(), labels.end());
  ClassSplit out;
  for (const std::string& label : distinct) {
    const double u = static_cast<double>(stable_hash(label) >> 11) * 0x1.0p-53;
    (u < train_fraction ? out.train : u < train_fraction + validation_fraction ? out.validation : out.test).push_back(label);
  }
  return out;  // std::set order is byte-wise
}

}  // namespace mg::data
