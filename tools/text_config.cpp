#include "tools/text_config.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <system_error>

#include "autograd/errors.h"
#include "tools/paths.h"

namespace mg::tools {

bool is_text_dataset(std::string_view dataset) { return dataset == "clinc150" || dataset == "text-csv"; }

std::string model_names(std::string_view dataset) {
  if (is_text_dataset(dataset)) return "bag, bag-counts or cnn";
  return dataset == "sinusoid" ? "mlp" : "conv4";
}

void check_text_flags(const TrainConfig& c) {
  const bool text = is_text_dataset(c.dataset);
  if (c.algo == "nearest-mean" && !text)
    config_error(fmt::format("--algo nearest-mean is for --dataset clinc150 or text-csv, not {}", c.dataset));
  if (c.model && !text) config_error(fmt::format("--model is for --dataset clinc150 or text-csv, not {}", c.dataset));
  for (const auto& [flag, given] : {std::pair{"--text-column", c.text_column.has_value()},
                                    std::pair{"--label-column", c.label_column.has_value()}})
    if (given && c.dataset != "text-csv") config_error(fmt::format("{} is for --dataset text-csv, not {}", flag, c.dataset));
  if (c.dataset == "text-csv" && !c.data) config_error("--dataset text-csv needs --data FILE");
  if (c.algo == "nearest-mean" && c.model) config_error("--model does nothing with --algo nearest-mean (it has no model)");
}

void resolve_text_defaults(TrainConfig& c) {
  auto set = [](auto& field, auto value) {
    if (!field) field = value;
  };
  set(c.model, std::string(is_text_dataset(c.dataset) ? "bag" : c.dataset == "sinusoid" ? "mlp" : "conv4"));
  set(c.text_column, std::string("text"));
  set(c.label_column, std::string("label"));
  if (!is_text_dataset(c.dataset)) return;
  const bool reptile = c.algo == "reptile";
  set(c.split, std::string(c.dataset == "clinc150" ? "stratified" : "0.6,0.2"));
  set(c.ways, 5);
  set(c.shots, 1);
  set(c.queries, reptile ? 5 : 15);
  set(c.inner_lr, reptile ? 1e-3 : 0.4);
  set(c.eval_inner_steps, reptile ? 50 : 3);
  set(c.meta_batch, reptile ? 5 : 8);
  set(c.iterations, std::int64_t{2000});
}

void validate_text(const TrainConfig& c) {
  if (!is_text_dataset(c.dataset)) {
    if (*c.model != model_names(c.dataset))
      config_error(fmt::format("--model must be {} for --dataset {}, got '{}'", model_names(c.dataset), c.dataset, *c.model));
    return;
  }
  if (*c.model != "bag" && *c.model != "bag-counts" && *c.model != "cnn")
    config_error(fmt::format("--model must be bag, bag-counts or cnn, got '{}'", *c.model));
  if (c.dataset == "clinc150" && *c.split != "stratified" && *c.split != "domain")
    config_error(fmt::format("--split must be stratified or domain, got '{}'", *c.split));
  if (c.dataset == "text-csv") csv_split_fractions(*c.split);
}

std::pair<double, double> csv_split_fractions(const std::string& split) {
  if (split == "hash") return {0.6, 0.2};  // what checkpoints before the flag record
  const auto bad = [&split]() {
    config_error(fmt::format("--split of text-csv must be TRAIN,VAL class fractions in [0, 1] summing to at most 1 "
                          "(default 0.6,0.2; the rest is meta-test), got '{}'", split));
  };
  const std::size_t comma = split.find(',');
  if (comma == std::string::npos) bad();
  double f[2] = {0.0, 0.0};
  const std::string parts[2] = {split.substr(0, comma), split.substr(comma + 1)};
  for (int i = 0; i < 2; ++i) {
    const char* begin = parts[i].data();
    const char* end = begin + parts[i].size();
    const auto [ptr, ec] = std::from_chars(begin, end, f[i]);
    if (parts[i].empty() || ec != std::errc() || ptr != end || !(f[i] >= 0.0 && f[i] <= 1.0)) bad();
  }
  if (f[0] + f[1] > 1.0) bad();
  return {f[0], f[1]};
}

std::string clinc150_root(const std::optional<std::string>& data) {
  return data_root(data, "METAGRAD_CLINC150", "clinc150", "CLINC150").path;
}

std::string clinc150_root_source(const std::optional<std::string>& data) {
  return data_root(data, "METAGRAD_CLINC150", "clinc150", "CLINC150").source;
}

void add_text_flags(CLI::App& cmd, TrainConfig& c) {
  cmd.add_option("--model", c.model, "clinc150, text-csv: bag (default) | bag-counts | cnn");
  cmd.add_option("--text-column", c.text_column, "text-csv: the column of the texts (default text)");
  cmd.add_option("--label-column", c.label_column, "text-csv: the column of the labels (default label)");
}

}  // namespace mg::tools
