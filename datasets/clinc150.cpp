// CLINC150 reader; see clinc150.h.
#include "datasets/clinc150.h"

#include <algorithm>
#include <map>

#include "autograd/errors.h"
#include "datasets/json.h"
#include "datasets/text_csv.h"

namespace mg::data {
namespace {

constexpr std::string_view kInScopeParts[] = {"train", "val", "test"};
constexpr std::string_view kOutOfScopeParts[] = {"oos_train", "oos_val", "oos_test"};

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw DataError("clinc150: " + file + ": " + what);
}

// The [[text, intent], ...] array `key` of the data file, appended to `out`.
void read_part(const JsonValue& data, std::string_view key, const std::string& file, std::vector<LabelledText>& out) {
  const JsonValue* part = data.find(key);
  const std::string name = std::string("\"").append(key).append("\"");
  if (part == nullptr) fail(file, "no " + name + " member");
  if (!part->is_array()) fail(file, name + " is " + std::string(json_kind_name(part->kind)) + ", not an array");
  for (std::size_t i = 0; i < part->items.size(); ++i) {
    const JsonValue& pair = part->items[i];
    const std::string where = name + "[" + std::to_string(i) + "]";
    if (!pair.is_array() || pair.items.size() != 2 || !pair.items[0].is_string() || !pair.items[1].is_string()) {
      fail(file, where + " is not a [text, intent] pair of strings");
    }
    const std::string& text = pair.items[0].text;
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) fail(file, where + " has an empty text");
    if (pair.items[1].text.empty()) fail(file, where + " has an empty intent");
    out.push_back({text, pair.items[1].text, 0});
  }
}

}  // namespace

const std::string& Clinc150::domain_of(const std::string& intent) const {
  for (std::size_t d = 0; d < domains.size(); ++d) {
    if (std::binary_search(domain_intents[d].begin(), domain_intents[d].end(), intent)) return domains[d];
  }
  throw DataError("clinc150: intent " + intent + " is in no domain");
}

Clinc150 parse_clinc150(std::string_view data_json, std::string_view domains_json, const std::string& source) {
  const std::string data_file = std::string(source).append(kClincData);
  const std::string domains_file = std::string(source).append(kClincDomains);
  Clinc150 out;

  const JsonValue doms = parse_json(domains_json, domains_file);
  if (!doms.is_object()) fail(domains_file, "the top level is " + std::string(json_kind_name(doms.kind)) + ", not an object");
  std::map<std::string, std::string> domain_of;  // intent -> domain
  std::map<std::string, std::vector<std::string>> by_domain;
  for (const auto& [domain, intents] : doms.members) {
    if (!intents.is_array()) fail(domains_file, "\"" + domain + "\" is not an array of intent names");
    for (const JsonValue& intent : intents.items) {
      if (!intent.is_string() || intent.text.empty()) fail(domains_file, "\"" + domain + "\" holds a non-string or empty intent");
      const auto [it, fresh] = domain_of.emplace(intent.text, domain);
      if (!fresh) fail(domains_file, "intent " + intent.text + " is listed under both " + it->second + " and " + domain);
      by_domain[domain].push_back(intent.text);
    }
    by_domain[domain];  // a domain with no intents still counts
  }
  for (auto& [domain, intents] : by_domain) {
    std::sort(intents.begin(), intents.end());
    out.domains.push_back(domain);
    out.domain_intents.push_back(std::move(intents));
  }

  const JsonValue data = parse_json(data_json, data_file);
  if (!data.is_object()) fail(data_file, "the top level is " + std::string(json_kind_name(data.kind)) + ", not an object");
  for (std::string_view part : kInScopeParts) read_part(data, part, data_file, out.examples);
  std::vector<LabelledText> oos;
  for (std::string_view part : kOutOfScopeParts) read_part(data, part, data_file, oos);
  for (LabelledText& e : oos) out.out_of_scope.push_back(std::move(e.text));

  // Out-of-scope requests found among the in-scope parts move to out_of_scope too.
  std::vector<LabelledText> in_scope;
  in_scope.reserve(out.examples.size());
  for (LabelledText& e : out.examples) {
    if (e.label == kClincOutOfScope) {
      out.out_of_scope.push_back(std::move(e.text));
    } else if (!domain_of.contains(e.label)) {
      fail(data_file, "intent " + e.label + " is not listed in " + std::string(kClincDomains));
    } else {
      in_scope.push_back(std::move(e));
    }
  }
  out.examples = std::move(in_scope);
  return out;
}

Clinc150 load_clinc150(const std::filesystem::path& root) {
  const std::string data = read_text_file(root / kClincData, "clinc150");
  const std::string domains = read_text_file(root / kClincDomains, "clinc150");
  std::string source = root.string();
  if (!source.empty() && source.back() != '/') source += '/';
  return parse_clinc150(data, domains, source);
}

}  // namespace mg::data
