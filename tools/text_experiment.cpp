#include "tools/text_experiment.h"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "autograd/errors.h"
#include "datasets/clinc150.h"
#include "datasets/text_csv.h"
#include "datasets/text_episodes.h"
#include "datasets/text_splits.h"
#include "meta/nearest_mean.h"
#include "nn/text_models.h"
#include "tools/atomic_file.h"
#include "tools/cli.h"
#include "tools/numbers.h"
#include "tools/paths.h"
#include "tools/text_config.h"

namespace mg::tools {

namespace {

struct TextSources {
  std::unique_ptr<data::TextEpisodeSampler> train, test;
  std::int64_t vocab_size = 0;
};

// Where the data came from, for messages: "clinc150: ../shared/data/clinc150".
std::string data_source(const TrainConfig& c) {
  return c.dataset == "clinc150" ? "clinc150: " + clinc150_root(c.data) : "text-csv: " + c.data.value_or("");
}

// The data of c, grouped by class and split; every class of the split in `names`.
std::pair<data::TextClasses, data::ClassSplit> load_classes(const TrainConfig& c) {
  if (c.dataset == "clinc150") {
    const std::string root = clinc150_root(c.data);
    check_path("clinc150: " + clinc150_root_source(c.data), root, PathUse::kInputFolder);
    const data::Clinc150 clinc = data::load_clinc150(root);
    data::ClassSplit split =
        *c.split == "domain" ? data::clinc150_domain_split(clinc) : data::clinc150_intent_split(clinc);
    return {data::group_by_label(clinc.examples), std::move(split)};
  }
  if (!c.data) throw DataError("text-csv: checkpoints do not record the CSV file; pass --data FILE");
  check_path("text-csv: --data", *c.data, PathUse::kInputFile);
  const auto examples =
      data::read_text_csv(*c.data, {*c.text_column, *c.label_column, "--text-column", "--label-column"});
  data::TextClasses classes = data::group_by_label(examples);
  const auto [train_fraction, validation_fraction] = csv_split_fractions(*c.split);
  data::ClassSplit split = data::hash_class_split(classes.names, train_fraction, validation_fraction);
  return {std::move(classes), std::move(split)};
}

// A sampler over the classes `names`; the sampler's DataError says which split fell short.
std::unique_ptr<data::TextEpisodeSampler> sampler(const TrainConfig& c, const char* split_name,
                                                  std::shared_ptr<const data::TextPool> pool,
                                                  const data::EpisodeConfig& config) {
  try {
    return std::make_unique<data::TextEpisodeSampler>(std::move(pool), config);
  } catch (const DataError& e) {
    throw DataError(fmt::format("{}: {} classes: {}", data_source(c), split_name, e.what()));
  }
}

// `validation`: the test sampler draws from the meta-validation classes instead.
TextSources load_sources(const TrainConfig& c, bool validation = false) {
  auto [classes, split] = load_classes(c);
  data::TokenizerConfig tc;
  if (*c.model == "cnn") tc.ngram_buckets = 0;  // a CNN reads words in order (text_episodes.h)
  // Note [Vocabulary from meta-training classes] (datasets/tokenizer.h).
  const data::Tokenizer tok = data::Tokenizer::fit(data::training_texts(classes, split.train), tc);
  TextSources s;
  s.vocab_size = tok.vocab_size();
  const auto train_pool = std::make_shared<const data::TextPool>(classes, split.train, tok);
  const auto test_pool =
      std::make_shared<const data::TextPool>(classes, validation ? split.validation : split.test, tok);
  s.train = sampler(c, "meta-training", train_pool, {*c.train_ways, *c.train_shots, *c.queries, c.seed});
  s.test = sampler(c, validation ? "meta-validation" : "meta-test", test_pool,
                   {*c.ways, *c.shots, *c.queries, kTestTaskSeed});
  return s;
}

}  // namespace

namespace {

std::unique_ptr<nn::Sequential> text_model(const TrainConfig& c, std::int64_t vocab_size, std::int64_t ways,
                                           Generator& gen) {
  if (*c.model == "cnn")
    return std::make_unique<nn::Sequential>(nn::text_cnn({.num_ids = vocab_size, .ways = ways}, gen));
  nn::TextBagOptions o{.num_ids = vocab_size, .ways = ways, .count_path = *c.model == "bag-counts"};
  return std::make_unique<nn::Sequential>(nn::text_bag_model(o, gen));
}

}  // namespace

void build_text_experiment(Experiment& e, Generator& gen) {
  const TrainConfig& c = e.config;
  TextSources s = load_sources(c);
  set_classifier(e, std::move(s.train), gen, [&c, vocab = s.vocab_size](std::int64_t outputs, Generator& g) {
    return text_model(c, vocab, outputs, g);
  });
  e.test_tasks = std::move(s.test);
}

meta::EvalResult text_floor(const TrainConfig& c) {
  // The floor counts words and n-grams whatever the model reads (a CNN's tokenizer has no
  // n-grams); the tasks are the same draws, which depend on the classes' sizes and the seed only.
  TrainConfig floor = c;
  floor.model = "bag";
  return meta::evaluate_nearest_mean(*load_sources(floor).test, c.eval_tasks);
}

std::unique_ptr<data::TaskSource> text_validation_tasks(const TrainConfig& c) {
  return std::move(load_sources(c, true).test);
}

void apply_text_eval_request(const EvalRequest& request, TrainConfig& c) {
  for (const auto& [flag, given] : {std::pair{"--eval-split", request.eval_split.has_value()},
                                    std::pair{"--shots", request.shots.has_value()}})
    if (given && !is_text_dataset(c.dataset))
      throw ValueError(fmt::format("eval: {} is for text checkpoints (clinc150, text-csv); {} was trained on {}", flag,
                                   request.checkpoint, c.dataset));
  if (request.eval_split && *request.eval_split != "test" && *request.eval_split != "val")
    throw ValueError(fmt::format("eval: --eval-split must be test or val, got '{}'", *request.eval_split));
  if (request.shots) {
    check_bounds("eval", "--shots", *request.shots, limits::kShots);
    if (!c.train_shots) c.train_shots = c.shots;  // the training tasks stay as they were
    c.shots = request.shots;
  }
}

void add_text_eval_flags(CLI::App& cmd, EvalRequest& request) {
  cmd.add_option("--eval-split", request.eval_split,
                 "text checkpoints: test (default) | val: draw the tasks from the meta-validation classes, to choose "
                 "settings such as --eval-inner-steps without the test classes");
  add_number(cmd, "--shots", request.shots, limits::kShots,
             "text checkpoints: K support examples per class (default: as trained)");
}

TrainResult run_text_floor(const TrainConfig& c, const RunOptions& run) {
  TrainResult r;
  r.eval = text_floor(c);  // the data first: nothing is created for a run that cannot start
  r.finished = true;
  check_path("train: --out", c.out, PathUse::kOutputFolder);
  const std::string results = (std::filesystem::path(c.out) / "results.txt").string();
  check_path("train: output file", results, PathUse::kOutputFile);
  const std::string table = format_eval(r.eval, "nearest-mean");
  fmt::print(run.out, "{}", table);
  write_text_file(results, table);
  return r;
}

}  // namespace mg::tools
