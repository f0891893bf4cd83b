#include "tools/metrics_log.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <optional>
#include <utility>

#include "autograd/errors.h"
#include "tools/atomic_file.h"
#include "tools/numbers.h"
#include "tools/paths.h"

namespace mg::tools {

namespace {

std::string header(const std::string& metric_name) { return fmt::format("iteration,loss,{}", metric_name); }

// "12,0.25,nan" -> a row; nothing unless it is exactly three numbers (loss and
// metric may be nan or inf: a diverged run logs them).
std::optional<MetricsRow> parse_row(std::string_view line) {
  const std::size_t a = line.find(','), b = a == std::string_view::npos ? a : line.find(',', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto real = [](std::string_view s) -> std::optional<double> {
    if (s == "nan" || s == "-nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    return to_number<double>(s);
  };
  const auto it = to_number<std::int64_t>(line.substr(0, a));
  const auto loss = real(line.substr(a + 1, b - a - 1));
  const auto metric = real(line.substr(b + 1));
  if (!it || !loss || !metric) return std::nullopt;
  return MetricsRow{*it, *loss, *metric};
}

}  // namespace

MetricsLog::MetricsLog(std::string path, std::string metric_name)
    : path_(std::move(path)), metric_name_(std::move(metric_name)) {}

MetricsLog MetricsLog::resume(std::string path, std::string metric_name, std::int64_t step) {
  MetricsLog log(std::move(path), std::move(metric_name));
  if (step == 0) return log;
  const std::string what = fmt::format("train: --resume at iteration {}: metrics", step);
  check_path(what, log.path_, PathUse::kInputFile);
  std::ifstream in(log.path_);
  auto fail = [&](std::size_t line_no, const std::string& problem) {
    throw DataError(fmt::format("{} {} line {}: {}", what, log.path_, line_no, problem));
  };
  std::string line;
  if (!std::getline(in, line) || line != header(log.metric_name_))
    fail(1, fmt::format("expected the header '{}', got '{}'", header(log.metric_name_), line));
  for (std::size_t line_no = 2; std::getline(in, line); ++line_no) {
    const std::optional<MetricsRow> row = parse_row(line);
    if (!row) fail(line_no, fmt::format("expected 'iteration,loss,{}', got '{}'", log.metric_name_, line));
    const auto expected = static_cast<std::int64_t>(log.rows_.size());
    if (row->iteration >= step) break;  // written after the checkpoint: dropped
    if (row->iteration != expected)
      fail(line_no, fmt::format("expected iteration {}, got {}", expected, row->iteration));
    log.rows_.push_back(*row);
  }
  if (in.bad()) throw DataError(fmt::format("{} {}: cannot be read", what, log.path_));
  if (const auto have = static_cast<std::int64_t>(log.rows_.size()); have < step)
    throw DataError(fmt::format(
        "{} {} {}, the checkpoint is at iteration {}: the rows of iterations {} to {} are "
        "missing",
        what, log.path_, have == 0 ? std::string("has no rows") : fmt::format("ends at iteration {}", have - 1), step,
        have, step - 1));
  return log;
}

void MetricsLog::save() const {
  std::string text = header(metric_name_) + "\n";
  for (const MetricsRow& r : rows_) text += fmt::format("{},{:.9g},{:.9g}\n", r.iteration, r.loss, r.metric);
  write_text_file(path_, text);
}

}  // namespace mg::tools
