#include "tools/mamlpp_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "autograd/errors.h"
#include "tools/train_config.h"

namespace mg::tools {

namespace {

constexpr const char* kAlgo = "maml++";

// The switches: their flag as a user turns them off, and their place in the settings.
struct Switch {
  const char* flag;
  const char* key;
  std::optional<bool> MamlppSettings::*member;
};
constexpr Switch kSwitches[] = {{"--no-msl", "msl", &MamlppSettings::msl},
                                {"--no-per-step-bn", "per_step_bn", &MamlppSettings::per_step_bn},
                                {"--no-lslr", "lslr", &MamlppSettings::lslr},
                                {"--no-cosine-lr", "cosine_lr", &MamlppSettings::cosine_lr}};

}  // namespace

void check_mamlpp_flags_apply(const TrainConfig& c) {
  if (c.algo == kAlgo) return;
  const MamlppSettings& m = c.mamlpp;
  for (const Switch& s : kSwitches)
    if ((m.*s.member).has_value())
      config_error(fmt::format("{} is for --algo maml++, not {}",
                               *(m.*s.member) ? std::string(s.flag).replace(0, 5, "--") : s.flag, c.algo));
  for (const auto& [flag, given] : {std::pair{"--msl-iterations", m.msl_iterations.has_value()},
                                    std::pair{"--first-order-until", m.first_order_until.has_value()},
                                    std::pair{"--min-meta-lr", m.min_meta_lr.has_value()}})
    if (given) config_error(fmt::format("{} is for --algo maml++, not {}", flag, c.algo));
}

void resolve_mamlpp_defaults(TrainConfig& c) {
  if (c.algo != kAlgo) return;
  if (!c.inner_steps) c.inner_steps = 5;
  if (!c.inner_lr && c.dataset == "omniglot") c.inner_lr = 0.1;
  // The per-step rates and batch-norm tensors are learned for S steps.
  if (!c.eval_inner_steps) c.eval_inner_steps = *c.inner_steps;
}

void resolve_mamlpp_settings(TrainConfig& c) {
  if (c.algo != kAlgo) return;
  MamlppSettings& m = c.mamlpp;
  for (const Switch& s : kSwitches)
    if (!(m.*s.member)) m.*s.member = true;
  if (!m.msl_iterations) m.msl_iterations = std::max<std::int64_t>(1, *c.iterations / 10);
  if (!m.first_order_until) m.first_order_until = *c.iterations / 3;
  if (!m.min_meta_lr) m.min_meta_lr = std::min(1e-5, *c.meta_lr);
}

void validate_mamlpp(const TrainConfig& c) {
  if (c.algo != kAlgo) return;
  const MamlppSettings& m = c.mamlpp;
  check_bounds("train", "--msl-iterations", *m.msl_iterations, limits::kIterations);
  check_bounds("train", "--first-order-until", *m.first_order_until, limits::kFirstOrderUntil);
  check_bounds("train", "--min-meta-lr", *m.min_meta_lr, limits::kMinMetaLr);
  if (*m.min_meta_lr > *c.meta_lr)
    config_error(fmt::format("--min-meta-lr {} is above --meta-lr {}: the cosine anneals downwards",
                             *m.min_meta_lr, *c.meta_lr));
}

std::vector<std::pair<std::string, std::string>> mamlpp_to_metadata(const TrainConfig& c) {
  if (c.algo != kAlgo) return {};
  const MamlppSettings& m = c.mamlpp;
  std::vector<std::pair<std::string, std::string>> out;
  for (const Switch& s : kSwitches)
    out.emplace_back(fmt::format("config.mamlpp_{}", s.key), *(m.*s.member) ? "true" : "false");
  out.emplace_back("config.mamlpp_msl_iterations", fmt::format("{}", *m.msl_iterations));
  out.emplace_back("config.mamlpp_first_order_until", fmt::format("{}", *m.first_order_until));
  out.emplace_back("config.mamlpp_min_meta_lr", fmt::format("{:.17g}", *m.min_meta_lr));
  return out;
}

namespace {

const std::string* find_entry(const std::vector<std::pair<std::string, std::string>>& metadata,
                              const std::string& key) {
  for (const auto& [k, v] : metadata)
    if (k == key) return &v;
  throw DataError(fmt::format("checkpoint: metadata has no '{}'", key));
}

template <class T>
T number_entry(const std::vector<std::pair<std::string, std::string>>& metadata, const std::string& key) {
  const std::string& s = *find_entry(metadata, key);
  const std::optional<T> v = to_number<T>(s);
  if (!v) throw DataError(fmt::format("{}: expected a number, got '{}'", key, s));
  return *v;
}

}  // namespace

void mamlpp_from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata, TrainConfig& c) {
  if (c.algo != kAlgo) return;
  MamlppSettings& m = c.mamlpp;
  for (const Switch& s : kSwitches) {
    const std::string key = fmt::format("config.mamlpp_{}", s.key);
    const std::string& v = *find_entry(metadata, key);
    if (v != "true" && v != "false") throw DataError(fmt::format("{}: expected true or false, got '{}'", key, v));
    m.*s.member = v == "true";
  }
  m.msl_iterations = number_entry<std::int64_t>(metadata, "config.mamlpp_msl_iterations");
  m.first_order_until = number_entry<std::int64_t>(metadata, "config.mamlpp_first_order_until");
  m.min_meta_lr = number_entry<double>(metadata, "config.mamlpp_min_meta_lr");
}

}  // namespace mg::tools
