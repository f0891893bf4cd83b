#include "tools/metrics_log.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "autograd/errors.h"

namespace mg::tools {

MetricsLog::MetricsLog(const std::string& path, const std::string& metric_name, std::int64_t keep_below)
    : path_(path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    MetricsRow r;
    char comma1 = 0, comma2 = 0;
    if (fields >> r.iteration >> comma1 >> r.loss >> comma2 >> r.metric && r.iteration < keep_below)
      rows_.push_back(r);
  }
  file_ = std::fopen(path.c_str(), "w");
  if (!file_) throw DataError(fmt::format("metrics: cannot write {}", path));
  fmt::print(file_, "iteration,loss,{}\n", metric_name);
  for (const MetricsRow& r : rows_) fmt::print(file_, "{},{:.9g},{:.9g}\n", r.iteration, r.loss, r.metric);
  std::fflush(file_);
}

MetricsLog::~MetricsLog() {
  if (file_) std::fclose(file_);
}

void MetricsLog::append(const MetricsRow& row) {
  rows_.push_back(row);
  fmt::print(file_, "{},{:.9g},{:.9g}\n", row.iteration, row.loss, row.metric);
  std::fflush(file_);
}

}  // namespace mg::tools
