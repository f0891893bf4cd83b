#include "tools/train_config.h"

#include <fmt/format.h>

#include <cstdlib>
#include <algorithm>
#include <functional>
#include <thread>
#include <type_traits>
#include <utility>

#include "autograd/errors.h"

namespace mg::tools {

void resolve_defaults(TrainConfig& c) {
  const bool sine = c.dataset == "sinusoid";
  const bool reptile = c.algo == "reptile";
  auto set = [](auto& field, auto value) {
    if (field < 0) field = value;
  };
  // Sinusoid: MAML §5.1 (K = 10, α = 0.01, one step, meta-batch 25, Adam 1e-3).
  // Omniglot 5-way 1-shot: MAML §5.2 (α = 0.4, one step, meta-batch 32); Reptile §5 (Adam 1e-3 inner).
  set(c.ways, sine ? 1 : 5);
  set(c.shots, sine ? 10 : 1);
  set(c.queries, sine ? 10 : (reptile ? 5 : 15));
  // Reptile §5 on Omniglot: 10 training shots per class, inner minibatches of 10
  // (meta/reptile.h says why they matter); everything else trains on --shots, whole sets.
  set(c.train_shots, reptile && !sine ? 10 : c.shots);
  set(c.inner_batch, reptile && !sine ? 10 : 0);
  set(c.inner_steps, reptile ? (sine ? 5 : 5) : 1);
  set(c.eval_inner_steps, sine ? 10 : (reptile ? 50 : 3));
  set(c.meta_batch, sine ? 25 : (reptile ? 5 : 32));
  set(c.inner_lr, reptile ? (sine ? 0.02 : 1e-3) : (sine ? 0.01 : 0.4));
  set(c.meta_lr, reptile ? 1.0 : 1e-3);
  set(c.iterations, std::int64_t{sine ? 70000 : 60000});
  if (c.inner_optimizer.empty()) c.inner_optimizer = sine ? "sgd" : "adam";
  set(c.threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

void validate(const TrainConfig& c) {
  auto fail = [](const std::string& what) { throw ValueError("train: " + what); };
  if (c.dataset != "sinusoid" && c.dataset != "omniglot")
    fail(fmt::format("--dataset must be sinusoid or omniglot, got '{}'", c.dataset));
  if (c.algo != "maml" && c.algo != "fomaml" && c.algo != "reptile" && c.algo != "pretrain")
    fail(fmt::format("--algo must be maml, fomaml, reptile or pretrain, got '{}'", c.algo));
  if (c.inner_optimizer != "sgd" && c.inner_optimizer != "adam")
    fail(fmt::format("--inner-optimizer must be sgd or adam, got '{}'", c.inner_optimizer));
  if (c.split != "vinyals" && c.split != "official")
    fail(fmt::format("--split must be vinyals or official, got '{}'", c.split));
  if (c.dataset == "omniglot" && c.algo == "pretrain")
    fail("--algo pretrain is for sinusoid only (N-way labels are a new permutation in every task)");
  if (c.dataset == "omniglot" && c.ways < 2) fail(fmt::format("--ways must be >= 2, got {}", c.ways));
  if (c.shots < 1) fail(fmt::format("--shots must be >= 1, got {}", c.shots));
  if (c.queries < 1) fail(fmt::format("--queries must be >= 1, got {}", c.queries));
  if (c.train_shots < 1) fail(fmt::format("--train-shots must be >= 1, got {}", c.train_shots));
  // Test and training tasks draw their shots and queries from the same class.
  for (const auto& [flag, shots] : {std::pair{"--shots", c.shots}, std::pair{"--train-shots", c.train_shots}})
    if (c.dataset == "omniglot" && shots + c.queries > 20)
      fail(fmt::format("{} {} + --queries {} exceed the 20 drawings of an Omniglot class", flag, shots, c.queries));
  if (c.reset_inner_adam && (c.algo != "reptile" || c.inner_optimizer != "adam"))
    fail("--reset-inner-adam is for --algo reptile with --inner-optimizer adam");
  if (c.inner_batch > 0 && c.algo != "reptile")
    fail(fmt::format("--inner-batch is for --algo reptile, not {}", c.algo));
  if (c.inner_steps < 1) fail(fmt::format("--inner-steps must be >= 1, got {}", c.inner_steps));
  if (c.eval_inner_steps < 1) fail(fmt::format("--eval-inner-steps must be >= 1, got {}", c.eval_inner_steps));
  if (c.meta_batch < 1) fail(fmt::format("--meta-batch must be >= 1, got {}", c.meta_batch));
  if (!(c.inner_lr > 0)) fail(fmt::format("--inner-lr must be > 0, got {}", c.inner_lr));
  if (!(c.meta_lr > 0)) fail(fmt::format("--meta-lr must be > 0, got {}", c.meta_lr));
  if (c.iterations < 1) fail(fmt::format("--iterations must be >= 1, got {}", c.iterations));
  if (c.threads < 1) fail(fmt::format("--threads must be >= 1, got {}", c.threads));
  if (c.eval_tasks < 1) fail(fmt::format("--eval-tasks must be >= 1, got {}", c.eval_tasks));
  if (c.checkpoint_every < 1) fail(fmt::format("--checkpoint-every must be >= 1, got {}", c.checkpoint_every));
  if (c.log_every < 1) fail(fmt::format("--log-every must be >= 1, got {}", c.log_every));
  if (c.out.empty()) fail("--out must name a folder");
}

namespace {

// One entry per setting: its name, how to print it and how to parse it back.
struct Field {
  const char* name;
  bool optional;  // added after checkpoint format 1 shipped: absent means the default
  std::function<std::string(const TrainConfig&)> get;
  std::function<void(TrainConfig&, const std::string&)> set;
};

template <class T>
Field field(const char* name, T TrainConfig::*member, bool optional = false) {
  return {name, optional,
          [member](const TrainConfig& c) {
            if constexpr (std::is_same_v<T, double>) return fmt::format("{:.17g}", c.*member);
            else return fmt::format("{}", c.*member);
          },
          [member, name](TrainConfig& c, const std::string& s) {
            if constexpr (std::is_same_v<T, std::string>) {
              c.*member = s;
            } else if constexpr (std::is_same_v<T, bool>) {
              if (s != "true" && s != "false") throw DataError(fmt::format("config.{}: expected true or false, got '{}'", name, s));
              c.*member = s == "true";
            } else {
              char* end = nullptr;
              T v{};
              if constexpr (std::is_floating_point_v<T>) v = std::strtod(s.c_str(), &end);
              else if constexpr (std::is_signed_v<T>) v = static_cast<T>(std::strtoll(s.c_str(), &end, 10));
              else v = static_cast<T>(std::strtoull(s.c_str(), &end, 10));
              if (s.empty() || *end != '\0')
                throw DataError(fmt::format("config.{}: expected a number, got '{}'", name, s));
              c.*member = v;
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
      field("reset_inner_adam", &TrainConfig::reset_inner_adam, true),
  };
  return f;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> to_metadata(const TrainConfig& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field& f : fields()) out.emplace_back(std::string("config.") + f.name, f.get(c));
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
  return c;
}

std::string omniglot_root(const std::string& data) {
  if (!data.empty()) return data;
  if (const char* env = std::getenv("METAGRAD_OMNIGLOT"); env && *env) return env;
  return "../shared/data/omniglot";
}

}  // namespace mg::tools
