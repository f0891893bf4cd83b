#include "tools/metrics_log.h"

#include <fmt/format.h>

#include <fstream>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "autograd/errors.h"
#include "tools/atomic_file.h"
#include "tools/numbers.h"
#include "tools/paths.h"

namespace mg::tools {

namespace {

constexpr const char* kOrderColumns = ",order_cosine,hessian_share";

std::string header(const std::string& metric_name, bool order_columns) {
  return fmt::format("iteration,loss,{}{}", metric_name, order_columns ? kOrderColumns : "");
}

std::optional<double> real(std::string_view s) {
  if (s == "nan" || s == "-nan") return std::numeric_limits<double>::quiet_NaN();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return to_number<double>(s);
}

// "12,0.25,nan" -> a row; nothing unless it is exactly three numbers (loss and
// metric may be nan or inf: a diverged run logs them), or with the order columns
// five fields whose last two are both numbers or both empty.
std::optional<MetricsRow> parse_row(std::string_view line, bool order_columns) {
  std::vector<std::string_view> f;
  for (std::size_t start = 0;;) {
    const std::size_t comma = line.find(',', start);
    f.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (f.size() != (order_columns ? 5u : 3u)) return std::nullopt;
  const auto it = to_number<std::int64_t>(f[0]);
  const auto loss = real(f[1]);
  const auto metric = real(f[2]);
  if (!it || !loss || !metric) return std::nullopt;
  MetricsRow row{*it, *loss, *metric};
  if (!order_columns || (f[3].empty() && f[4].empty())) return row;
  row.order_cosine = real(f[3]);
  row.hessian_share = real(f[4]);
  if (!row.order_cosine || !row.hessian_share) return std::nullopt;
  return row;
}

std::string optional_number(const std::optional<double>& v) { return v ? fmt::format("{:.9g}", *v) : ""; }

}  // namespace

MetricsLog::MetricsLog(std::string path, std::string metric_name, bool order_columns)
    : path_(std::move(path)), metric_name_(std::move(metric_name)), order_columns_(order_columns) {}

MetricsLog MetricsLog::resume(std::string path, std::string metric_name, std::int64_t step, bool order_columns) {
  MetricsLog log(std::move(path), std::move(metric_name), order_columns);
  if (step == 0) return log;
  const std::string what = fmt::format("train: --resume at iteration {}: metrics", step);
  check_path(what, log.path_, PathUse::kInputFile);
  std::ifstream in(log.path_);
  auto fail = [&](std::size_t line_no, const std::string& problem) {
    throw DataError(fmt::format("{} {} line {}: {}", what, log.path_, line_no, problem));
  };
  std::string line;
  const std::string expected_header = header(log.metric_name_, order_columns);
  if (!std::getline(in, line) || line != expected_header)
    fail(1, fmt::format("expected the header '{}', got '{}'", expected_header, line));
  for (std::size_t line_no = 2; std::getline(in, line); ++line_no) {
    const std::optional<MetricsRow> row = parse_row(line, order_columns);
    if (!row) fail(line_no, fmt::format("expected '{}', got '{}'", expected_header, line));
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
  std::string text = header(metric_name_, order_columns_) + "\n";
  for (const MetricsRow& r : rows_) {
    text += fmt::format("{},{:.9g},{:.9g}", r.iteration, r.loss, r.metric);
    if (order_columns_)
      text += fmt::format(",{},{}", optional_number(r.order_cosine), optional_number(r.hessian_share));
    text += '\n';
  }
  write_text_file(path_, text);
}

}  // namespace mg::tools
