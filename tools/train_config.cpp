#include "tools/train_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <thread>
#include <type_traits>
#include <utility>

#include "autograd/errors.h"
#include "tools/algorithm_flags.h"
#include "tools/paths.h"
#include "tools/text_config.h"

namespace mg::tools {

void config_error(const std::string& what) { throw ValueError("train: " + what); }

namespace {

void check_names(const TrainConfig& c) {
  if (c.dataset != "sinusoid" && c.dataset != "omniglot" && c.dataset != "nav2d" && !is_text_dataset(c.dataset))
    config_error(fmt::format("--dataset must be sinusoid, omniglot, nav2d, clinc150 or text-csv, got '{}'", c.dataset));
  if (c.algo != "maml" && c.algo != "fomaml" && c.algo != "reptile" && c.algo != "pretrain" && !is_added_algo(c.algo) &&
      c.algo != "nearest-mean")
    config_error(fmt::format(
        "--algo must be maml, fomaml, reptile, pretrain, metasgd, maml++, anil, protonet or nearest-mean, got '{}'",
        c.algo));
}

}  // namespace

std::string threads_note() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? std::string("this machine does not report its core count")
                    : fmt::format("this machine has {} core{}", cores, cores == 1 ? "" : "s");
}

void check_flags_apply(const TrainConfig& c) {
  check_names(c);
  const bool omniglot = c.dataset == "omniglot";
  check_text_flags(c);
  for (const auto& [flag, given] : {std::pair{"--ways", c.ways.has_value()}, std::pair{"--split", c.split.has_value()},
                                    std::pair{"--data", c.data.has_value()}, std::pair{"--strided", c.strided}})
    if (given && !omniglot && (!is_text_dataset(c.dataset) || flag == std::string_view("--strided")))
      config_error(fmt::format("{} is for --dataset omniglot, not {}", flag, c.dataset));
  if (!c.baseline && omniglot) config_error("--no-baseline is for --dataset sinusoid, not omniglot");
  if (!c.baseline && c.algo == "pretrain") config_error("--no-baseline does nothing with --algo pretrain (it is the baseline)");
  for (const auto& [flag, given] : {std::pair{"--inner-batch", c.inner_batch.has_value()},
                                    std::pair{"--inner-optimizer", c.inner_optimizer.has_value()}})
    if (given && c.algo != "reptile") config_error(fmt::format("{} is for --algo reptile, not {}", flag, c.algo));
  if (c.learn_inner_lr && c.algo != "maml" && c.algo != "fomaml")
    config_error(fmt::format("--learn-inner-lr is for --algo maml or fomaml, not {}", c.algo));
  if (c.inner_steps && c.algo == "pretrain")
    config_error("--inner-steps is for --algo maml, fomaml or reptile, not pretrain (it trains without an inner loop)");
  check_added_algo_flags(c);  // metasgd, anil, protonet (tools/algorithm_flags.h)
  check_nav_flags_apply(c);   // tools/nav_config.h
  check_mamlpp_flags_apply(c);  // tools/mamlpp_config.h
}

void resolve_defaults(TrainConfig& c) {
  resolve_text_defaults(c);
  const bool sine = c.dataset == "sinusoid";
  const bool reptile = c.algo == "reptile";
  resolve_nav_defaults(c);  // nav2d's own defaults first (tools/nav_config.h)
  resolve_mamlpp_defaults(c);  // maml++'s too (tools/mamlpp_config.h)
  auto set = [](auto& field, auto value) {
    if (!field) field = value;
  };
  // Sinusoid: MAML §5.1 (K = 10, α = 0.01, one step, meta-batch 25, Adam 1e-3).
  // Omniglot 5-way 1-shot: MAML §5.2 (α = 0.4, one step, meta-batch 32); Reptile §5 (Adam 1e-3 inner).
  set(c.split, std::string("vinyals"));
  set(c.ways, sine ? 1 : 5);
  set(c.shots, sine ? 10 : 1);
  set(c.queries, sine ? 10 : (reptile ? 5 : 15));
  // Reptile §5 on Omniglot: 10 training shots per class, inner minibatches of 10
  // (meta/reptile.h says why they matter); everything else trains on --shots, whole sets.
  set(c.train_shots, reptile && !sine ? 10 : *c.shots);
  set(c.train_ways, *c.ways);
  set(c.inner_batch, reptile && !sine ? 10 : 0);
  set(c.inner_steps, reptile ? 5 : 1);
  resolve_added_algo_defaults(c);  // metasgd, protonet (tools/algorithm_flags.h)
  set(c.eval_inner_steps, sine ? 10 : (reptile ? 50 : 3));
  set(c.meta_batch, sine ? 25 : (reptile ? 5 : 32));
  set(c.inner_lr, reptile ? (sine ? 0.02 : 1e-3) : (sine ? 0.01 : 0.4));
  set(c.meta_lr, reptile ? 1.0 : 1e-3);
  set(c.iterations, std::int64_t{sine ? 70000 : 60000});
  set(c.inner_optimizer, std::string(sine ? "sgd" : "adam"));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  set(c.threads, std::min(cores, limits::kMaxThreads));
  resolve_mamlpp_settings(c);  // after --iterations (tools/mamlpp_config.h)
}

void validate(const TrainConfig& c) {
  check_names(c);
  if (*c.inner_optimizer != "sgd" && *c.inner_optimizer != "adam")
    config_error(fmt::format("--inner-optimizer must be sgd or adam, got '{}'", *c.inner_optimizer));
  validate_text(c);
  if (!is_text_dataset(c.dataset) && *c.split != "vinyals" && *c.split != "official")
    config_error(fmt::format("--split must be vinyals or official, got '{}'", *c.split));
  validate_added_algo(c);
  auto check = [](const char* flag, auto value, const auto& bounds, std::string_view note = "") {
    check_bounds("train", flag, value, bounds, note);
  };
  if (c.dataset != "sinusoid") check("--ways", *c.ways, limits::kWays);
  if (c.dataset != "sinusoid") check("--train-ways", *c.train_ways, limits::kWays);
  check("--shots", *c.shots, limits::kShots);
  check("--queries", *c.queries, limits::kShots);
  check("--train-shots", *c.train_shots, limits::kShots);
  // Test and training tasks draw their shots and queries from the same class.
  for (const auto& [flag, shots] : {std::pair{"--shots", *c.shots}, std::pair{"--train-shots", *c.train_shots}})
    if (c.dataset == "omniglot" && shots + *c.queries > 20)
      config_error(fmt::format("{} {} + --queries {} exceed the 20 drawings of an Omniglot class", flag, shots, *c.queries));
  if (c.reset_inner_adam && (c.algo != "reptile" || *c.inner_optimizer != "adam"))
    config_error("--reset-inner-adam is for --algo reptile with --inner-optimizer adam");
  check("--inner-batch", *c.inner_batch, limits::kInnerBatch);
  check("--inner-steps", *c.inner_steps, limits::kInnerSteps);
  check("--eval-inner-steps", *c.eval_inner_steps, limits::kInnerSteps);
  check("--meta-batch", *c.meta_batch, limits::kMetaBatch);
  check("--inner-lr", *c.inner_lr, limits::kLearningRate);
  check("--meta-lr", *c.meta_lr, limits::kLearningRate);
  check("--iterations", *c.iterations, limits::kIterations);
  check("--threads", *c.threads, limits::kThreads, threads_note());
  check("--eval-tasks", c.eval_tasks, limits::kEvalTasks);
  check("--checkpoint-every", c.checkpoint_every, limits::kIterations);
  check("--log-every", c.log_every, limits::kLogEvery);
  if (c.out.empty()) config_error("--out must name a folder");
  validate_nav(c);
  validate_mamlpp(c);
}

void prepare(TrainConfig& c) {
  check_flags_apply(c);
  resolve_defaults(c);
  validate(c);
}

namespace {

template <class T>
struct Unwrap {
  using type = T;
};
template <class T>
struct Unwrap<std::optional<T>> {
  using type = T;
};

// One entry per setting: its name, how to print it and how to parse it back.
struct Field {
  const char* name;
  bool optional;  // added after checkpoint format 1 shipped: absent means the default
  std::function<std::string(const TrainConfig&)> get;
  std::function<void(TrainConfig&, const std::string&)> set;
};

template <class M>
Field field(const char* name, M TrainConfig::*member, bool optional = false) {
  using T = typename Unwrap<M>::type;
  return {name, optional,
          [member, name](const TrainConfig& c) {
            const M& m = c.*member;
            const T* value = nullptr;
            if constexpr (std::is_same_v<M, T>)
              value = &m;
            else
              value = m ? &*m : nullptr;
            if (!value) throw ValueError(fmt::format("to_metadata: internal error: {} was not resolved", name));
            if constexpr (std::is_same_v<T, double>)
              return fmt::format("{:.17g}", *value);
            else
              return fmt::format("{}", *value);
          },
          [member, name](TrainConfig& c, const std::string& s) {
            if constexpr (std::is_same_v<T, std::string>) {
              c.*member = s;
            } else if constexpr (std::is_same_v<T, bool>) {
              if (s != "true" && s != "false")
                throw DataError(fmt::format("config.{}: expected true or false, got '{}'", name, s));
              c.*member = s == "true";
            } else {
              // The whole entry, in the field's type: an overflowing value is an error, not a wrapped one.
              const std::optional<T> v = to_number<T>(s);
              if (!v) throw DataError(fmt::format("config.{}: expected a number, got '{}'", name, s));
              c.*member = *v;
            }
          }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> f = {
      field("dataset", &TrainConfig::dataset),       field("split", &TrainConfig::split),
      field("algo", &TrainConfig::algo),             field("ways", &TrainConfig::ways),
      field("shots", &TrainConfig::shots),           field("queries", &TrainConfig::queries),
      field("inner_steps", &TrainConfig::inner_steps), field("eval_inner_steps", &TrainConfig::eval_inner_steps),
      field("meta_batch", &TrainConfig::meta_batch), field("inner_lr", &TrainConfig::inner_lr),
      field("meta_lr", &TrainConfig::meta_lr),       field("iterations", &TrainConfig::iterations),
      field("seed", &TrainConfig::seed),             field("learn_inner_lr", &TrainConfig::learn_inner_lr),
      field("strided", &TrainConfig::strided),       field("baseline", &TrainConfig::baseline),
      field("eval_tasks", &TrainConfig::eval_tasks), field("inner_optimizer", &TrainConfig::inner_optimizer, true),
      field("train_shots", &TrainConfig::train_shots, true), field("inner_batch", &TrainConfig::inner_batch, true),
      field("train_ways", &TrainConfig::train_ways, true),
      field("reset_inner_adam", &TrainConfig::reset_inner_adam, true),
      field("first_order", &TrainConfig::first_order, true),
      field("model", &TrainConfig::model, true), field("text_column", &TrainConfig::text_column, true),
      field("label_column", &TrainConfig::label_column, true),
  };
  return f;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> to_metadata(const TrainConfig& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field& f : fields()) out.emplace_back(std::string("config.") + f.name, f.get(c));
  for (auto& entry : nav_to_metadata(c)) out.push_back(std::move(entry));
  for (auto& entry : mamlpp_to_metadata(c)) out.push_back(std::move(entry));
  return out;
}

TrainConfig from_metadata(const std::vector<std::pair<std::string, std::string>>& metadata) {
  TrainConfig c;
  for (const Field& f : fields()) {
    const std::string key = std::string("config.") + f.name;
    const std::string* value = nullptr;
    for (const auto& [k, v] : metadata)
      if (k == key) value = &v;
    if (!value && f.optional) continue;
    if (!value) throw DataError(fmt::format("checkpoint: metadata has no '{}'", key));
    f.set(c, *value);
  }
  if (!c.train_ways) c.train_ways = c.ways;  // a checkpoint from before --train-ways trained on --ways
  nav_from_metadata(metadata, c);
  mamlpp_from_metadata(metadata, c);
  return c;
}

std::string omniglot_root(const std::optional<std::string>& data) {
  return data_root(data, "METAGRAD_OMNIGLOT", "omniglot", "Omniglot").path;
}

std::string omniglot_root_source(const std::optional<std::string>& data) {
  return data_root(data, "METAGRAD_OMNIGLOT", "omniglot", "Omniglot").source;
}

std::string checked_omniglot_root(const std::optional<std::string>& data) {
  const std::string root = omniglot_root(data);
  check_path("omniglot: " + omniglot_root_source(data), root, PathUse::kInputFolder);
  return root;
}

}  // namespace mg::tools
